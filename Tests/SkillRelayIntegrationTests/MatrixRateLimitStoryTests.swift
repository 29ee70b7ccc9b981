import Foundation
import Testing

extension SynapseStories {
    /// The Matrix story on a Synapse with the rate limits it ships (`Scripts/synapse.sh up --stock`, as `Scripts/test`
    /// starts it): five questions at once to the same three specialists, replies racing, replies in a known order, and a
    /// `kill -9` while replies are written. Every answer is relayed exactly once, in the order SkillRelay received it — for
    /// a bot that lifts its own limits (a server admin) within 30 s of being written or of the restart, and for one that
    /// cannot, more slowly but never wrong.
    @Suite struct MatrixRateLimitStoryTests {
        static let questionPrefix = "A colleague asks about Kubernetes"

        @Test(arguments: [true, false])
        func everyAnswerIsRelayedOnceInArrivalOrderUnderTheShippedRateLimits(botIsServerAdmin: Bool) async throws {
            let url = try #require(SynapseEnvironment.url)
            let bot = try MatrixUser.register(botIsServerAdmin ? "skillrelay-exempt" : "skillrelay-limited", homeserver: url, admin: botIsServerAdmin)
            let lena = try MatrixUser.register("lena.weber", homeserver: url)
            let specialists = try ["nikos.nikolaidis", "henrik.andersen", "ayse.demir"].map { try MatrixUser.register($0, homeserver: url) }
            // A plain account sends a burst of 10 and then one message every 5 s: about 55 messages take minutes, not seconds.
            let within: Double = botIsServerAdmin ? 30 : 600
            let relay = try RelayProcess(homeserver: url, botToken: bot.token, arguments: ["--hourly-budget", "20", "--daily-budget", "20"])
            try await relay.start()
            defer { relay.kill() }
            try await relay.narratingFailures {
                var rooms: [String: String] = [:]
                for user in [lena] + specialists {
                    let room = try await user.openDirectRoom(with: bot.userID)
                    rooms[user.userID] = room
                    relay.show(room, of: user)
                    _ = try await eventually(within, "the bot to join \(user.userID)'s room") {
                        try await user.joinedMembers(room).contains(bot.userID) ? true : nil
                    }
                }
                for user in specialists {
                    try await user.setPresence("online")
                    _ = try await eventually(90, "\(user.userID) to be online to the bot") {
                        try await bot.presence(of: user.userID) == "online" ? true : nil
                    }
                }
                if botIsServerAdmin {
                    #expect(relay.logText.contains("exempted the bot from the homeserver's rate limits"))
                } else {
                    // Said once, plainly, with the request a homeserver admin should make.
                    #expect(relay.logText.components(separatedBy: "could not exempt itself").count == 2)
                    #expect(relay.logText.contains("/_synapse/admin/v1/users/%40skillrelay-limited%3Alocalhost/override_ratelimit"))
                }

                // Five questions at once, to the same three specialists.
                let lenaRoom = try #require(rooms[lena.userID])
                for number in 1...5 { try await lena.say("ask k8s: How do we rotate etcd certificates, part \(number)?", in: lenaRoom) }
                var questions: [String: [Int: String]] = [:]
                for user in specialists {
                    for number in 1...5 {
                        let message = try await eventually(within, "question \(number) in \(user.userID)'s room") {
                            try await user.messages(in: rooms[user.userID]!).first {
                                $0.sender == bot.userID && $0.body.hasPrefix(Self.questionPrefix) && $0.body.contains("part \(number)?")
                            }
                        }
                        questions[user.userID, default: [:]][number] = message.id
                    }
                }
                let (roomOf, questionIn) = (rooms, questions)
                @Sendable func reply(_ user: MatrixUser, to number: Int) async throws {
                    try await user.say(Self.answer(number, by: user), in: roomOf[user.userID]!, replyingTo: questionIn[user.userID]![number]!)
                }

                // Questions 1 and 2: all six replies at once. Each question's three answers come once each, ranked 1, 2, 3.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for number in 1...2 { for user in specialists { group.addTask { try await reply(user, to: number) } } }
                    try await group.waitForAll()
                }
                let raced = try await relayed(to: lena, in: lenaRoom, bot: bot, questions: 1...2, within: within)
                for number in 1...2 { #expect(Set(raced[number] ?? []) == Set(specialists.map { Self.answer(number, by: $0) })) }

                // Questions 3 and 4: replies one after another; they reach Lena in exactly that order.
                let order3 = [specialists[2], specialists[0], specialists[1]]
                let order4 = [specialists[1], specialists[2], specialists[0]]
                for user in order3 { try await reply(user, to: 3) }
                for user in order4 { try await reply(user, to: 4) }
                let ordered = try await relayed(to: lena, in: lenaRoom, bot: bot, questions: 3...4, within: within)
                #expect(ordered[3] == order3.map { Self.answer(3, by: $0) })
                #expect(ordered[4] == order4.map { Self.answer(4, by: $0) })

                // Question 5: SkillRelay is killed, the replies are written while it is down; after the restart they are
                // relayed, in the order they were written, within 30 s of it.
                relay.kill()
                let order5 = [specialists[0], specialists[2], specialists[1]]
                for user in order5 { try await reply(user, to: 5) }
                try await relay.start()
                let afterRestart = try await relayed(to: lena, in: lenaRoom, bot: bot, questions: 5...5, within: within)
                #expect(afterRestart[5] == order5.map { Self.answer(5, by: $0) })

                // Nothing twice, nothing lost: each specialist got each question once; Lena has fifteen answers, all different.
                for user in specialists {
                    let received = try await user.messages(in: rooms[user.userID]!).filter {
                        $0.sender == bot.userID && $0.body.hasPrefix(Self.questionPrefix)
                    }
                    for number in 1...5 { #expect(received.filter { $0.body.contains("part \(number)?") }.count == 1, "\(user.userID): \(number)") }
                }
                let all = try await answerMessages(in: lenaRoom, of: lena, bot: bot)
                #expect(all.count == 15)
                #expect(Set(all).count == 15)
                #expect(!relay.logText.contains(bot.token), "the bot's token must never be logged")
            }
        }

        static func answer(_ number: Int, by user: MatrixUser) -> String {
            "Answer to part \(number) from \(user.userID.dropFirst().prefix { $0 != "." })."
        }

        func answerMessages(in room: String, of user: MatrixUser, bot: MatrixUser) async throws -> [String] {
            try await user.messages(in: room).filter { $0.sender == bot.userID && $0.body.hasPrefix("Answer ") }.map(\.body)
        }

        /// The answers relayed to the asker for each of `numbers`, in the order they arrived in the room, once all three of
        /// each have; checks that each question's answers came ranked 1, 2, 3, in that order.
        func relayed(to asker: MatrixUser, in room: String, bot: MatrixUser, questions numbers: ClosedRange<Int>, within: Double) async throws
            -> [Int: [String]]
        {
            let found = try await eventually(within, "three answers each to questions \(numbers) in the asker's room") {
                () -> [Int: [(Int, String)]]? in
                var byQuestion: [Int: [(Int, String)]] = [:]
                for body in try await answerMessages(in: room, of: asker, bot: bot) {
                    guard let number = numbers.first(where: { body.contains("Answer to part \($0) from ") }),
                        let rank = Int(body.dropFirst("Answer ".count).prefix { $0.isNumber }),
                        let text = body.range(of: "Answer to part").map({ String(body[$0.lowerBound...]) })
                    else { continue }
                    byQuestion[number, default: []].append((rank, text))
                }
                return numbers.allSatisfy { (byQuestion[$0]?.count ?? 0) >= 3 } ? byQuestion : nil
            }
            for number in numbers { #expect(found[number]?.map(\.0) == [1, 2, 3], "question \(number)'s answers in the order they were ranked") }
            return found.mapValues { $0.map(\.1) }
        }
    }
}
