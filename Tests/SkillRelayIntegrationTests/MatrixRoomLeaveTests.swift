import Foundation
import NIOHTTP1
import Testing

extension SynapseStories {
    /// A specialist who leaves the bot's room on a real Synapse, with a real SkillRelay process: the bot forgets the room,
    /// lists them as unreachable, invites them to a new room when a question needs them, and once they join, the question
    /// reaches them. (That a refusal is respected for a day is covered by the unit tests, on a test clock.) Needs
    /// `Scripts/synapse.sh up`.
    @Suite struct MatrixRoomLeaveTests {
        @Test func aSpecialistWhoLeftIsInvitedAgainWhenNeededAndGetsTheQuestionOnceBack() async throws {
            let url = try #require(SynapseEnvironment.url)
            // A bot and people of their own, so that it leaves the other stories' specialists and rooms as they were.
            let bot = try MatrixUser.register("skillrelay-rooms", homeserver: url)
            let aiko = try MatrixUser.register("aiko.yamamoto", homeserver: url)
            let others = try ["yaw.mensah", "magdalena.krawczyk", "kavya.nair"].map { try MatrixUser.register($0, homeserver: url) }
            // Waves every 2 s for a minute, and more answers wanted than anyone gives: the question keeps looking.
            let relay = try RelayProcess(
                homeserver: url, botToken: bot.token,
                arguments: ["--wave-interval", "2", "--max-waves", "30", "--max-answers", "4", "--log-level", "debug"])
            try await relay.start()
            defer { relay.kill() }
            try await relay.narratingFailures {
                let admin = try relay.token(for: "lakshmi.gupta")

                // Given the four Terraform specialists, each in a direct room with the bot, online
                var rooms: [String: String] = [:]
                for user in [aiko] + others {
                    let room = try await user.openDirectRoom(with: bot.userID)
                    rooms[user.userID] = room
                    relay.show(room, of: user)
                    _ = try await eventually(90, "the bot to join \(user.userID)'s room") {
                        try await user.joinedMembers(room).contains(bot.userID) ? true : nil
                    }
                    try await user.setPresence("online")
                }
                for user in [aiko] + others {
                    _ = try await eventually(90, "\(user.userID) to be online to the bot") {
                        try await bot.presence(of: user.userID) == "online" ? true : nil
                    }
                }
                let handles = Set(([aiko] + others).map { String($0.userID.dropFirst().prefix { $0 != ":" }) })
                _ = try await eventually(90, "all four to be reachable") {
                    try await unreachable(relay, admin).keys.contains(where: handles.contains) ? nil : true
                }

                // When Aiko leaves her room and forgets it
                let oldRoom = try #require(rooms[aiko.userID])
                try await aiko.call(.POST, "/rooms/\(MatrixUser.escape(oldRoom))/leave", [:])
                try await aiko.call(.POST, "/rooms/\(MatrixUser.escape(oldRoom))/forget", [:])

                // Then the bot forgets it too, leaves it, and lists her as unreachable
                _ = try await eventually(90, "Aiko listed as having left") {
                    try await unreachable(relay, admin)["aiko.yamamoto"] == "left" ? true : nil
                }
                _ = try await eventually(90, "the bot to leave Aiko's old room") { try await bot.joinedRooms().contains(oldRoom) ? nil : true }

                // When a Terraform question is asked (invitations left from an earlier run of this test do not count)
                let earlierInvitations = Set(try await aiko.invitations().map(\.room))
                let lena = try relay.token(for: "lena.weber")
                let (status, asked) = try await relay.api(
                    "POST", "/v1/questions", token: lena, body: #"{"topic":"terraform","text":"How do we import existing S3 buckets?"}"#)
                #expect(status == 201)
                let questionID = try #require(asked["id"] as? String)

                // Then the three others get it, and Aiko an invitation to a new room instead
                for user in others {
                    _ = try await eventually(90, "the question in \(user.userID)'s room") {
                        try await user.messages(in: rooms[user.userID]!).contains {
                            $0.sender == bot.userID && $0.body.contains("import existing S3 buckets")
                        }
                            ? true : nil
                    }
                }
                let newRoom = try await eventually(90, "the bot's invitation to Aiko") {
                    try await aiko.invitations().first { $0.inviter == bot.userID && !earlierInvitations.contains($0.room) }?.room
                }
                #expect(newRoom != oldRoom)
                #expect(try await unreachable(relay, admin)["aiko.yamamoto"] == "invited")

                // When she joins it, a later wave of the same question reaches her there, and she is no longer listed
                try await aiko.join(newRoom)
                _ = try await eventually(90, "the question in Aiko's new room") {
                    try await aiko.messages(in: newRoom).contains { $0.sender == bot.userID && $0.body.contains("import existing S3 buckets") }
                        ? true : nil
                }
                _ = try await eventually(90, "Aiko no longer listed") { try await unreachable(relay, admin)["aiko.yamamoto"] == nil ? true : nil }
                let (_, question) = try await relay.api("GET", "/v1/questions/\(questionID)", token: lena)
                #expect(question["status"] as? String == "open")
                #expect(!relay.logText.contains(bot.token), "the bot's token must never be logged")
            }
        }

        /// The unreachable people `/v1/stats` lists: handle → reason.
        func unreachable(_ relay: RelayProcess, _ token: String) async throws -> [String: String] {
            let (status, stats) = try await relay.api("GET", "/v1/stats", token: token)
            guard status == 200, let listed = stats["unreachable"] as? [String: Any], let people = listed["people"] as? [[String: Any]] else {
                throw MatrixUser.Failure(description: "no unreachable list in /v1/stats (HTTP \(status))")
            }
            return Dictionary(
                uniqueKeysWithValues: people.compactMap { person in (person["handle"] as? String).map { ($0, person["reason"] as? String ?? "") } })
        }
    }
}

extension MatrixUser {
    /// Rooms this user is invited to, each with who invited them.
    func invitations() async throws -> [(room: String, inviter: String)] {
        let json = try await call(.GET, "/sync?timeout=0&set_presence=offline&filter=\(Self.escape(#"{"room":{"timeline":{"limit":1}}}"#))")
        let invited = (json["rooms"] as? [String: Any])?["invite"] as? [String: Any] ?? [:]
        return invited.compactMap { room, value in
            let events = ((value as? [String: Any])?["invite_state"] as? [String: Any])?["events"] as? [[String: Any]] ?? []
            let invite = events.first { $0["type"] as? String == "m.room.member" && $0["state_key"] as? String == userID }
            return (invite?["sender"] as? String).map { (room, $0) }
        }
    }

    /// Rooms this user is in.
    func joinedRooms() async throws -> [String] {
        try await call(.GET, "/joined_rooms")["joined_rooms"] as? [String] ?? []
    }
}
