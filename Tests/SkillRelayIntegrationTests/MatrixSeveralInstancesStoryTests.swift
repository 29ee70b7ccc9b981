import Foundation
import SkillRelayTestSupport
import Testing

extension SynapseStories {
    /// Two SkillRelay instances on one PostgreSQL and one Matrix bot account, on the test Synapse: one of them runs the
    /// sync loop; questions are asked through both; the one leading is killed with SIGKILL halfway, and the other takes
    /// the sync loop over from the stored `since` token. Every specialist gets each question once, every reply typed in
    /// Matrix is relayed once, nothing is lost. Needs the test PostgreSQL too (Scripts/test starts both).
    @Suite(.enabled(if: TestPostgres.serverURL != nil, "needs a test PostgreSQL: Scripts/postgres.sh up"))
    struct MatrixSeveralInstancesStoryTests {
        static let questionPrefix = "A colleague asks about Kubernetes"

        @Test func twoInstancesShareTheWorkAndTheSurvivorTakesOverTheSyncLoop() async throws {
            let url = try #require(SynapseEnvironment.url)
            let database = try await TestPostgres.emptyDatabaseURL()
            // A server admin, so that it lifts its own rate limits: this story is about instances, not the limits.
            let bot = try MatrixUser.register("skillrelay", homeserver: url, admin: true)
            let lena = try MatrixUser.register("lena.weber", homeserver: url)
            let specialists = try ["nikos.nikolaidis", "henrik.andersen", "chiara.rossi"].map { try MatrixUser.register($0, homeserver: url) }
            let arguments = [
                "--wave-size", "1", "--wave-interval", "3600", "--max-answers", "1", "--hourly-budget", "100", "--daily-budget", "100",
                "--asks-per-minute", "1000", "--deadline", "3600",
            ]
            let instances = try (0..<2).map { _ in try RelayProcess(homeserver: url, botToken: bot.token, arguments: arguments, database: database) }
            defer { for instance in instances { instance.kill() } }
            async let firstStarted: Void = instances[0].start()
            async let secondStarted: Void = instances[1].start()
            _ = try await (firstStarted, secondStarted)

            // Exactly one leads the sync loop; the other stands by.
            let leader = try await eventually(90, "one instance to lead the Matrix sync") { () -> Int? in
                let leading = instances.indices.filter { instances[$0].logText.contains("leading the Matrix sync") }
                return leading.count == 1 ? leading[0] : nil
            }
            let survivor = 1 - leader

            var rooms: [String: String] = [:]
            for user in specialists + [lena] {
                let room = try await user.openDirectRoom(with: bot.userID)
                rooms[user.userID] = room
                _ = try await eventually(90, "the bot to join \(user.userID)'s room") {
                    try await user.joinedMembers(room).contains(bot.userID) ? true : nil
                }
            }
            for user in specialists {
                try await user.setPresence("online")
                _ = try await eventually(90, "\(user.userID) to be online to the bot") {
                    try await bot.presence(of: user.userID) == "online" ? true : nil
                }
            }
            let asker = try instances[0].token(for: "lena.weber")

            var questions: [(id: String, label: String)] = []
            var leaderAlive = true
            for number in 0..<100 {
                let label = String(format: "Q%03d", number)
                let through = leaderAlive ? instances[number % 2] : instances[survivor]
                let (status, asked) = try await through.api(
                    "POST", "/v1/questions", token: asker, body: #"{"topic":"k8s","text":"\#(label): is the ingress HA?"}"#)
                #expect(status == 201, "\(label): \(asked)")
                let id = try #require(asked["id"] as? String)
                questions.append((id, label))
                if number == 50 {
                    instances[leader].kill()
                    leaderAlive = false
                }
                // Whoever holds it replies in Matrix; the sync loop (the survivor's, after the kill) relays it.
                let (holder, event) = try await eventually(120, "\(label) to reach a specialist") { () -> (MatrixUser, String)? in
                    for user in specialists {
                        let found = try await user.messages(in: rooms[user.userID]!).first {
                            $0.sender == bot.userID && $0.body.hasPrefix(Self.questionPrefix) && $0.body.contains(label)
                        }
                        if let found { return (user, found.id) }
                    }
                    return nil
                }
                try await holder.say("\(label): yes, two replicas.", in: rooms[holder.userID]!, replyingTo: event)
                _ = try await eventually(120, "\(label) to be answered") { () -> Bool? in
                    let (_, question) = try await instances[leaderAlive ? number % 2 : survivor].api("GET", "/v1/questions/\(id)", token: asker)
                    return (question["status"] as? String) == "answered" ? true : nil
                }
            }
            #expect(instances[survivor].logText.contains("leading the Matrix sync"))

            // Each question reached exactly one specialist, once; each answer was relayed once.
            var received: [String: Int] = [:]
            for user in specialists {
                for message in try await user.allMessages(in: rooms[user.userID]!) where message.sender == bot.userID {
                    for (_, label) in questions where message.body.hasPrefix(Self.questionPrefix) && message.body.contains(label) {
                        received[label, default: 0] += 1
                    }
                }
            }
            for (_, label) in questions { #expect(received[label] == 1, "\(label) was received \(received[label] ?? 0) times") }
            for (id, label) in questions {
                let (_, question) = try await instances[survivor].api("GET", "/v1/questions/\(id)", token: asker)
                #expect((question["answers"] as? [[String: Any]])?.count == 1, "\(label)")
            }
        }
    }
}
