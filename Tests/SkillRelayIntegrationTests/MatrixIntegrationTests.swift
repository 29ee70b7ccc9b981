import Foundation
import Testing

extension SynapseStories {
    /// SkillRelay on a real Synapse, driven by real Matrix users, with a real SkillRelay process: the story an operator
    /// would try. Needs `Scripts/synapse.sh up` (Scripts/test and .ci/run start it).
    @Suite struct MatrixIntegrationTests {
        static let questionPrefix = "A colleague asks about Kubernetes"

        @Test func questionsAndAnswersTravelThroughSynapseAndSurviveOutages() async throws {
            let url = try #require(SynapseEnvironment.url)
            // A server admin, so that it lifts its own rate limits: this story is about outages, not about the limits.
            let bot = try MatrixUser.register("skillrelay", homeserver: url, admin: true)
            let lena = try MatrixUser.register("lena.weber", homeserver: url)
            let nikos = try MatrixUser.register("nikos.nikolaidis", homeserver: url)
            let henrik = try MatrixUser.register("henrik.andersen", homeserver: url)
            let ayse = try MatrixUser.register("ayse.demir", homeserver: url)
            let stranger = try MatrixUser.register("mallory", homeserver: url)
            // At debug level: the log must still never hold the bot's token, and it shows presence arriving by the sync stream.
            let relay = try RelayProcess(
                homeserver: url, botToken: bot.token, arguments: ["--wave-interval", "2", "--max-answers", "2", "--log-level", "debug"])
            try await relay.start()
            defer { relay.kill() }
            try await relay.narratingFailures {
                // Each person opens a direct room with the bot; the bot's sync loop accepts the invitation.
                var rooms: [String: String] = [:]
                for user in [lena, nikos, henrik, ayse, stranger] {
                    let room = try await user.openDirectRoom(with: bot.userID)
                    rooms[user.userID] = room
                    relay.show(room, of: user)
                    _ = try await eventually(90, "the bot to join \(user.userID)'s room") {
                        try await user.joinedMembers(room).contains(bot.userID) ? true : nil
                    }
                }
                try await nikos.setPresence("online")
                try await henrik.setPresence("online")
                try await ayse.setPresence("offline")
                // Before anyone asks, the bot sees them as they set themselves: a Synapse just started can take a moment, and
                // SkillRelay would keep what it read (for its cache's 15 s) and ask nobody.
                for (user, presence) in [(nikos, "online"), (henrik, "online"), (ayse, "offline")] {
                    _ = try await eventually(90, "\(user.userID) to be \(presence) to the bot") {
                        try await bot.presence(of: user.userID) == presence ? true : nil
                    }
                }
                // SkillRelay hears of it from its sync stream, without asking Synapse for each person.
                for user in [nikos, henrik] {
                    _ = try await eventually(90, "the bot's sync stream to report \(user.userID) online") {
                        relay.logText.split(separator: "\n").contains {
                            $0.contains("matrix presence from the sync stream") && $0.contains("skillrelay.im_id=\(user.userID)")
                                && $0.contains("skillrelay.presence=online")
                        } ? true : nil
                    }
                }

                // Someone not in the directory gets one polite refusal.
                try await stranger.say("ask k8s: who works on Kubernetes here?", in: rooms[stranger.userID]!)
                let refusal = try await eventually(90, "the refusal") {
                    try await stranger.messages(in: rooms[stranger.userID]!).first { $0.sender == bot.userID }
                }
                #expect(refusal.body == "Sorry, SkillRelay can only help people in the company directory.")

                // Lena asks in her room; the two online specialists get it, the offline one nothing.
                try await lena.say("ask k8s: How do I drain a node without downtime?", in: rooms[lena.userID]!)
                let acknowledgement = try await eventually(90, "the bot's acknowledgement") {
                    try await lena.messages(in: rooms[lena.userID]!).first { $0.sender == bot.userID && $0.body.hasPrefix("Asked ") }
                }
                #expect(acknowledgement.body == "Asked 2 specialists in Kubernetes; answers will come here.")
                let nikosQuestion = try await question(for: nikos, in: rooms[nikos.userID]!, bot: bot, number: 1)
                let henrikQuestion = try await question(for: henrik, in: rooms[henrik.userID]!, bot: bot, number: 1)
                #expect(nikosQuestion.body.contains("How do I drain a node without downtime?"))
                #expect(!nikosQuestion.body.contains("lena"))

                // Henrik answers first, then Nikos: both reach Lena's room in that order, with aliases only.
                try await henrik.say("Check the PodDisruptionBudgets first.", in: rooms[henrik.userID]!, replyingTo: henrikQuestion.id)
                _ = try await eventually(90, "answer 1 in Lena's room") {
                    try await answers(in: lena, rooms[lena.userID]!, bot: bot).count == 1 ? true : nil
                }
                try await nikos.say("Cordon it, then kubectl drain --ignore-daemonsets.", in: rooms[nikos.userID]!, replyingTo: nikosQuestion.id)
                let relayed = try await eventually(90, "answer 2 in Lena's room") { () -> [String]? in
                    let found = try await answers(in: lena, rooms[lena.userID]!, bot: bot)
                    return found.count == 2 ? found : nil
                }
                #expect(relayed[0].hasPrefix("Answer 1 of 2, from specialist ") && relayed[0].hasSuffix("Check the PodDisruptionBudgets first."))
                #expect(
                    relayed[1].hasPrefix("Answer 2 of 2, from specialist ")
                        && relayed[1].hasSuffix("Cordon it, then kubectl drain --ignore-daemonsets."))
                for text in relayed { for name in ["nikos", "henrik", "Nikolaidis", "Andersen", "@"] { #expect(!text.contains(name)) } }
                #expect(try await ayse.messages(in: rooms[ayse.userID]!).allSatisfy { !$0.body.hasPrefix(Self.questionPrefix) })

                // An answer after K is thanked, not relayed: a question asked through the API, one answer wanted.
                let lenaAPI = try relay.token(for: "lena.weber")
                let (status, asked) = try await relay.api(
                    "POST", "/v1/questions", token: lenaAPI, body: #"{"topic":"k8s","text":"Which CNI do we use?","maxAnswers":1}"#)
                #expect(status == 201)
                let secondID = try #require(asked["id"] as? String)
                let nikosSecond = try await question(for: nikos, in: rooms[nikos.userID]!, bot: bot, number: 2)
                let henrikSecond = try await question(for: henrik, in: rooms[henrik.userID]!, bot: bot, number: 2)
                try await nikos.say("Cilium.", in: rooms[nikos.userID]!, replyingTo: nikosSecond.id)
                _ = try await eventually(90, "the first answer to be relayed") { () -> Bool? in
                    let (_, question) = try await relay.api("GET", "/v1/questions/\(secondID)", token: lenaAPI)
                    return (question["status"] as? String) == "answered" ? true : nil
                }
                try await henrik.say("Calico, I think.", in: rooms[henrik.userID]!, replyingTo: henrikSecond.id)
                _ = try await eventually(90, "the thanks for a late answer") {
                    try await henrik.messages(in: rooms[henrik.userID]!).first {
                        $0.sender == bot.userID && $0.body.hasPrefix("Thanks, it was already answered")
                    }
                }

                // SkillRelay killed mid-question: a reply sent while it is down is handled after the restart, exactly once,
                // and nothing before it is replayed.
                try await lena.say("ask k8s: Can we run etcd on spot instances?", in: rooms[lena.userID]!)
                let nikosThird = try await question(for: nikos, in: rooms[nikos.userID]!, bot: bot, number: 3)
                relay.kill()
                try await nikos.say("No, keep etcd on stable nodes.", in: rooms[nikos.userID]!, replyingTo: nikosThird.id)
                try await relay.start()
                // Presence that has not changed since before the restart comes from the snapshot taken at start.
                _ = try await eventually(90, "the presence snapshot after the restart to report \(nikos.userID) online") {
                    relay.logText.split(separator: "\n").contains {
                        $0.contains("matrix presence snapshot") && $0.contains("skillrelay.im_id=\(nikos.userID)")
                            && $0.contains("skillrelay.presence=online")
                    } ? true : nil
                }
                _ = try await eventually(90, "the answer sent while SkillRelay was down") { () -> Bool? in
                    try await answers(in: lena, rooms[lena.userID]!, bot: bot).contains { $0.hasSuffix("No, keep etcd on stable nodes.") }
                        ? true : nil
                }

                // Synapse stopped for 30 s mid-question: the question still completes, nothing lost or sent twice.
                let (_, fourth) = try await relay.api(
                    "POST", "/v1/questions", token: lenaAPI, body: #"{"topic":"k8s","text":"Is our ingress HA?","maxAnswers":1}"#)
                let fourthID = try #require(fourth["id"] as? String)
                try Synapse.run("stop")
                try await Task.sleep(for: .seconds(30))
                try Synapse.run("start")
                let henrikFourth = try await eventually(90, "the fourth question after Synapse came back") { () -> (id: String, body: String)? in
                    let questions = try await henrik.messages(in: rooms[henrik.userID]!).filter {
                        $0.sender == bot.userID && $0.body.contains("Is our ingress HA?")
                    }
                    return questions.first.map { ($0.id, $0.body) }
                }
                try await henrik.say("Yes, two replicas.", in: rooms[henrik.userID]!, replyingTo: henrikFourth.id)
                _ = try await eventually(90, "the fourth question to be answered") { () -> Bool? in
                    let (_, question) = try await relay.api("GET", "/v1/questions/\(fourthID)", token: lenaAPI)
                    return (question["status"] as? String) == "answered" ? true : nil
                }

                // Lena writes "login": a one-time link to the web page comes back in her own room and opens her sign-in page.
                try await lena.say("login", in: rooms[lena.userID]!)
                let linkMessage = try await eventually(90, "the sign-in link") {
                    try await lena.messages(in: rooms[lena.userID]!).first { $0.sender == bot.userID && $0.body.contains("/login?token=") }
                }
                let link = try #require(linkMessage.body.split(separator: "\n").last.map(String.init))
                #expect(link.hasPrefix("http://127.0.0.1:\(relay.port)/login?token=sl_"))
                let signInPage = String(decoding: try Data(contentsOf: try #require(URL(string: link))), as: UTF8.self)
                #expect(signInPage.contains("Sign in as Lena Weber?"))

                // Nothing was sent twice: each question once per specialist, each answer once in Lena's room.
                for (user, texts) in [
                    (nikos, ["without downtime", "Which CNI", "etcd on spot"]), (henrik, ["without downtime", "Which CNI", "Is our ingress HA?"]),
                ] {
                    let received = try await user.messages(in: rooms[user.userID]!).filter {
                        $0.sender == bot.userID && $0.body.hasPrefix(Self.questionPrefix)
                    }
                    for text in texts { #expect(received.filter { $0.body.contains(text) }.count == 1, "\(user.userID): \(text)") }
                }
                let lenaAnswers = try await answers(in: lena, rooms[lena.userID]!, bot: bot)
                #expect(Set(lenaAnswers).count == lenaAnswers.count)
                #expect(!relay.logText.contains(bot.token), "the bot's token must never be logged")
            }
        }

        /// The `number`-th question the bot sent a user.
        func question(for user: MatrixUser, in room: String, bot: MatrixUser, number: Int) async throws -> (id: String, body: String) {
            try await eventually(90, "question \(number) in \(user.userID)'s room") {
                let questions = try await user.messages(in: room).filter { $0.sender == bot.userID && $0.body.hasPrefix(Self.questionPrefix) }
                return questions.count >= number ? (questions[number - 1].id, questions[number - 1].body) : nil
            }
        }

        /// The answers relayed into the asker's room, in order.
        func answers(in user: MatrixUser, _ room: String, bot: MatrixUser) async throws -> [String] {
            try await user.messages(in: room).filter { $0.sender == bot.userID && $0.body.hasPrefix("Answer ") }.map(\.body)
        }
    }
}
