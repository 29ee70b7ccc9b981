import Foundation
import Testing

/// SkillRelay on a Synapse with presence switched off (`presence.enabled: false`, as large homeservers run it: Synapse
/// then calls everyone offline and streams no presence). Routing by presence alone delivered nothing there; now the
/// presence probe finds out, says so, and questions reach the specialists within their working hours who are in their
/// room with the bot. Needs the second test Synapse (Scripts/test starts it).
@Suite(.serialized, .enabled(if: PresenceOffSynapse.isRunning, "needs the presence-off test Synapse: Scripts/synapse.sh up --stock --presence-off"))
struct MatrixPresenceOffStoryTests {
    static let questionPrefix = "A colleague asks about Kubernetes"

    @Test func questionsReachSpecialistsWithinTheirWorkingHoursOnAHomeserverWithoutPresence() async throws {
        let url = try #require(PresenceOffSynapse.url)
        let state = PresenceOffSynapse.stateDirectory
        let bot = try MatrixUser.register("skillrelay", homeserver: url, admin: true, stateDirectory: state)
        let lena = try MatrixUser.register("lena.weber", homeserver: url, stateDirectory: state)
        let nikos = try MatrixUser.register("nikos.nikolaidis", homeserver: url, stateDirectory: state)
        let henrik = try MatrixUser.register("henrik.andersen", homeserver: url, stateDirectory: state)
        let ayse = try MatrixUser.register("ayse.demir", homeserver: url, stateDirectory: state)
        let relay = try RelayProcess(
            homeserver: url, botToken: bot.token, arguments: ["--wave-interval", "2", "--max-answers", "2", "--log-level", "debug"])
        try await relay.start()
        defer { relay.kill() }
        try await relay.narratingFailures {
            let admin = try relay.token(for: "lakshmi.gupta")

            // The probe finds that the homeserver does not report presence, says so loudly, and /v1/stats tells the admin.
            _ = try await eventually(90, "the presence probe to report that presence is not reported") { () -> Bool? in
                let (_, stats) = try await relay.api("GET", "/v1/stats", token: admin)
                return (stats["presence"] as? [String: Any])?["reporting"] as? String == "notReported" ? true : nil
            }
            #expect(relay.logText.contains("THE IM SERVER DOES NOT REPORT PRESENCE"))

            // Ayşe's working hours are twelve hours away from now (in UTC): she is never asked, though in her room.
            let hour = (Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date()).hour! + 12) % 24
            let hours = String(format: "Mon-Sun %02d:00-%02d:00", hour, hour + 1)
            let (patched, profile) = try await relay.api(
                "PATCH", "/v1/employees/ayse.demir", token: admin, body: #"{"timezone":"UTC","workingHours":"\#(hours)"}"#)
            #expect(patched == 200)
            #expect(profile["workingHours"] as? String == hours)

            var rooms: [String: String] = [:]
            for user in [lena, nikos, henrik, ayse] {
                let room = try await user.openDirectRoom(with: bot.userID)
                rooms[user.userID] = room
                relay.show(room, of: user)
                _ = try await eventually(90, "the bot to join \(user.userID)'s room") {
                    try await user.joinedMembers(room).contains(bot.userID) ? true : nil
                }
            }
            // They set themselves online as their clients do; Synapse ignores it and calls them offline all the same.
            for user in [nikos, henrik, ayse] { try await user.setPresence("online") }
            #expect(try await bot.presence(of: nikos.userID) == "offline")

            // Lena asks: Nikos and Henrik (no working hours: any time) get it, Ayşe (outside hers) does not.
            try await lena.say("ask k8s: How do I drain a node without downtime?", in: rooms[lena.userID]!)
            let acknowledgement = try await eventually(90, "the bot's acknowledgement") {
                try await lena.messages(in: rooms[lena.userID]!).first { $0.sender == bot.userID && $0.body.hasPrefix("Asked ") }
            }
            #expect(acknowledgement.body == "Asked 2 specialists in Kubernetes; answers will come here.")
            let nikosQuestion = try await question(for: nikos, in: rooms[nikos.userID]!, bot: bot)
            let henrikQuestion = try await question(for: henrik, in: rooms[henrik.userID]!, bot: bot)
            #expect(nikosQuestion.body.contains("How do I drain a node without downtime?"))

            // Both answer; both answers reach Lena.
            try await henrik.say("Check the PodDisruptionBudgets first.", in: rooms[henrik.userID]!, replyingTo: henrikQuestion.id)
            try await nikos.say("Cordon it, then drain it.", in: rooms[nikos.userID]!, replyingTo: nikosQuestion.id)
            let relayed = try await eventually(90, "both answers in Lena's room") { () -> [String]? in
                let found = try await lena.messages(in: rooms[lena.userID]!).filter { $0.sender == bot.userID && $0.body.hasPrefix("Answer ") }
                return found.count == 2 ? found.map(\.body) : nil
            }
            #expect(relayed.contains { $0.hasSuffix("Check the PodDisruptionBudgets first.") })
            #expect(relayed.contains { $0.hasSuffix("Cordon it, then drain it.") })

            // A second question through the API reaches the same two, and still not Ayşe.
            let (status, asked) = try await relay.api(
                "POST", "/v1/questions", token: try relay.token(for: "lena.weber"),
                body: #"{"topic":"k8s","text":"Which CNI do we use?","maxAnswers":1}"#
            )
            #expect(status == 201)
            #expect(asked["deliveredTo"] as? Int == 2)
            _ = try await question(for: nikos, in: rooms[nikos.userID]!, bot: bot, number: 2)
            _ = try await question(for: henrik, in: rooms[henrik.userID]!, bot: bot, number: 2)
            #expect(try await ayse.messages(in: rooms[ayse.userID]!).allSatisfy { !$0.body.hasPrefix(Self.questionPrefix) })
            #expect(!relay.logText.contains(bot.token), "the bot's token must never be logged")
        }
    }

    /// The `number`-th question the bot sent a user.
    func question(for user: MatrixUser, in room: String, bot: MatrixUser, number: Int = 1) async throws -> (id: String, body: String) {
        try await eventually(90, "question \(number) in \(user.userID)'s room") {
            let questions = try await user.messages(in: room).filter { $0.sender == bot.userID && $0.body.hasPrefix(Self.questionPrefix) }
            return questions.count >= number ? (questions[number - 1].id, questions[number - 1].body) : nil
        }
    }
}
