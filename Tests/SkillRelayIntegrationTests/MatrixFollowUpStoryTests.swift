import Foundation
import Testing

extension SynapseStories {
    /// Follow-ups on a real Synapse with a real SkillRelay process: the asker replies to the relayed answer, the
    /// specialist replies to that follow-up, each reaching the other's room as a reply, with aliases only.
    @Suite struct MatrixFollowUpStoryTests {
        static let questionPrefix = "A colleague asks about Kubernetes"

        /// The bot's messages in a room: id, text and the event each replies to.
        func botMessages(_ user: MatrixUser, in room: String, bot: MatrixUser) async throws -> [(id: String, body: String, replyTo: String?)] {
            let json = try await user.call(.GET, "/rooms/\(MatrixUser.escape(room))/messages?dir=b&limit=100")
            let chunk = json["chunk"] as? [[String: Any]] ?? []
            return chunk.reversed().compactMap { event in
                guard event["type"] as? String == "m.room.message", event["sender"] as? String == bot.userID,
                    let content = event["content"] as? [String: Any], let body = content["body"] as? String
                else { return nil }
                let relation = content["m.relates_to"] as? [String: Any]
                let replyTo = (relation?["m.in_reply_to"] as? [String: Any])?["event_id"] as? String
                return (event["event_id"] as? String ?? "", body, replyTo)
            }
        }

        @Test func repliesToRepliesTravelBothWaysAsReplies() async throws {
            let url = try #require(SynapseEnvironment.url)
            let bot = try MatrixUser.register("skillrelay", homeserver: url, admin: true)
            let lena = try MatrixUser.register("lena.weber", homeserver: url)
            let nikos = try MatrixUser.register("nikos.nikolaidis", homeserver: url)
            let relay = try RelayProcess(homeserver: url, botToken: bot.token, arguments: ["--max-answers", "1"])
            try await relay.start()
            defer { relay.kill() }
            var rooms: [String: String] = [:]
            for user in [lena, nikos] {
                let room = try await user.openDirectRoom(with: bot.userID)
                rooms[user.userID] = room
                _ = try await eventually(20, "the bot to join \(user.userID)'s room") {
                    try await user.joinedMembers(room).contains(bot.userID) ? true : nil
                }
            }
            try await nikos.setPresence("online")
            _ = try await eventually(20, "\(nikos.userID) to be online to the bot") {
                try await bot.presence(of: nikos.userID) == "online" ? true : nil
            }
            let lenaRoom = rooms[lena.userID]!
            let nikosRoom = rooms[nikos.userID]!

            try await lena.say("ask k8s: How do I drain a node without downtime?", in: lenaRoom)
            let question = try await eventually(30, "the question in Nikos's room") {
                try await botMessages(nikos, in: nikosRoom, bot: bot).last { $0.body.hasPrefix(Self.questionPrefix) }
            }
            try await nikos.say("Cordon it, then kubectl drain.", in: nikosRoom, replyingTo: question.id)
            let answer = try await eventually(30, "the answer in Lena's room") {
                try await botMessages(lena, in: lenaRoom, bot: bot).last { $0.body.hasPrefix("Answer 1 of 1") }
            }

            // Lena replies to the answer: Nikos gets it as a reply to his question.
            try await lena.say("Does that also work on 1.29?", in: lenaRoom, replyingTo: answer.id)
            let toNikos = try await eventually(30, "the follow-up in Nikos's room") {
                try await botMessages(nikos, in: nikosRoom, bot: bot).last { $0.body.hasPrefix("Follow-up from the asker") }
            }
            #expect(toNikos.body.contains("Does that also work on 1.29?"))
            #expect(toNikos.replyTo == question.id)

            // Nikos replies to the follow-up: Lena gets it as a reply to the answer.
            try await nikos.say("Yes. Which CNI do you run?", in: nikosRoom, replyingTo: toNikos.id)
            let toLena = try await eventually(30, "the follow-up in Lena's room") {
                try await botMessages(lena, in: lenaRoom, bot: bot).last { $0.body.hasPrefix("Follow-up from specialist") }
            }
            #expect(toLena.body.contains("Yes. Which CNI do you run?"))
            #expect(toLena.replyTo == answer.id)

            // And a reply to that continues the thread, as a reply to Nikos's last message from it.
            try await lena.say("Cilium.", in: lenaRoom, replyingTo: toLena.id)
            let again = try await eventually(30, "the second follow-up in Nikos's room") { () -> (id: String, body: String, replyTo: String?)? in
                let found = try await botMessages(nikos, in: nikosRoom, bot: bot).filter { $0.body.hasPrefix("Follow-up from the asker") }
                return found.count == 2 ? found[1] : nil
            }
            #expect(again.replyTo == toNikos.id)

            for message in try await botMessages(lena, in: lenaRoom, bot: bot) {
                for trace in ["nikos", "Nikolaidis", "@"] { #expect(!message.body.contains(trace), "Lena read '\(trace)' in \(message.body)") }
            }
            for message in try await botMessages(nikos, in: nikosRoom, bot: bot) {
                for trace in ["lena", "Weber", "@"] { #expect(!message.body.contains(trace), "Nikos read '\(trace)' in \(message.body)") }
            }
        }
    }
}
