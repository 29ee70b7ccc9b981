import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SkillRelayDomain
import SkillRelayStore
import Testing

/// Revealing by consent: offers, withdrawals, acceptances and refusals through the API and the IM, and that nothing
/// names anyone before both agreed.
@Suite struct RevealTests {
    struct Asked: Decodable {
        var id: String
    }

    struct Reveal: Decodable {
        struct Other: Decodable {
            var name: String
            var imId: String?
        }
        var state: String
        var other: Other?
    }

    struct Question: Decodable {
        struct Answer: Decodable {
            var rank: Int
            var reveal: Reveal
        }
        var answers: [Answer]
    }

    struct Inbox: Decodable {
        struct Item: Decodable {
            var id: String
            var rank: Int?
            var reveal: Reveal?
        }
        var items: [Item]
    }

    struct Changed: Decodable {
        var rank: Int
        var reveal: Reveal
    }

    static func ask(maxAnswers: Int) -> ByteBuffer {
        ByteBuffer(string: #"{"topic":"k8s","text":"Why does my pod restart?","maxAnswers":\#(maxAnswers)}"#)
    }

    /// `deep` asks; every specialist answers in the order of their handles. Returns the question and, by rank, each
    /// answerer's handle and delivery.
    static func askedAndAnswered(
        _ fixture: Fixture, _ client: any TestClientProtocol, tokens: [String: String], asker: Fixture.Who = .deep, maxAnswers: Int = 2
    ) async throws -> (question: String, byRank: [Int: (handle: String, delivery: String)]) {
        let question = try await client.execute(
            uri: "/v1/questions", method: .post, headers: fixture.headers(asker), body: ask(maxAnswers: maxAnswers)
        ) {
            try decode(Asked.self, $0).id
        }
        var byRank: [Int: (handle: String, delivery: String)] = [:]
        for handle in tokens.keys.sorted() {
            let delivery = try await client.execute(uri: "/v1/inbox", method: .get, headers: bearer(tokens[handle]!)) {
                try decode(Inbox.self, $0).items[0].id
            }
            try await client.execute(
                uri: "/v1/inbox/\(delivery)/answer", method: .post, headers: bearer(tokens[handle]!),
                body: ByteBuffer(string: #"{"text":"Look at the liveness probe."}"#)
            ) { response in
                struct Outcome: Decodable { var rank: Int? }
                if let rank = try decode(Outcome.self, response).rank { byRank[rank] = (handle, delivery) }
            }
        }
        return (question, byRank)
    }

    @Test func bothMustAgreeBeforeEitherLearnsWhoTheOtherIs() async throws {
        let fixture = try await Fixture.make()
        let tokens = try await fixture.addSpecialists(2)
        try await fixture.test { client in
            let (question, byRank) = try await Self.askedAndAnswered(fixture, client, tokens: tokens)
            let first = try #require(byRank[1])
            let second = try #require(byRank[2])
            let firstIndex = Int(first.handle.suffix(2))!
            let specialist = bearer(tokens[first.handle]!)
            let asker = fixture.headers(.deep)
            let reveal = "/v1/questions/\(question)/answers/1/reveal"

            // The asker offers, twice: the second changes nothing and tells nobody again.
            for _ in 0..<2 {
                try await client.execute(uri: reveal, method: .post, headers: asker) { response in
                    #expect(response.status == .ok)
                    let changed = try decode(Changed.self, response)
                    #expect(changed.rank == 1 && changed.reveal.state == "offered" && changed.reveal.other == nil)
                }
            }
            // The specialist is invited, and learns nothing of who asked.
            try await client.execute(uri: "/v1/inbox", method: .get, headers: specialist) { response in
                let item = try #require(try decode(Inbox.self, response).items.first)
                #expect(item.rank == 1 && item.reveal?.state == "invited" && item.reveal?.other == nil)
                for trace in ["@deep:localhost", "deep@example.org", "\"Deep\""] { #expect(!response.text.contains(trace)) }
            }
            // Withdrawn, it is as if never offered; offered again, the specialist accepts.
            try await client.execute(uri: reveal, method: .delete, headers: asker) {
                let value = try decode(Changed.self, $0).reveal.state
                #expect(value == "none")
            }
            try await client.execute(uri: "/v1/inbox", method: .get, headers: specialist) {
                let value = try decode(Inbox.self, $0).items.first?.reveal?.state
                #expect(value == "none")
            }
            try await client.execute(uri: "/v1/questions/\(question)", method: .get, headers: asker) { response in
                #expect(!response.text.contains("Specialist \(firstIndex) Person") && !response.text.contains(first.handle))
            }
            try await client.execute(uri: reveal, method: .post, headers: asker) {
                let value = try decode(Changed.self, $0).reveal.state
                #expect(value == "offered")
            }
            try await client.execute(uri: "/v1/inbox/\(first.delivery)/reveal", method: .post, headers: specialist) { response in
                let changed = try decode(Changed.self, response)
                #expect(changed.reveal.state == "revealed" && changed.reveal.other?.name == "Deep" && changed.reveal.other?.imId == "@deep:localhost")
            }
            try await client.execute(uri: "/v1/questions/\(question)", method: .get, headers: asker) { response in
                let answers = try decode(Question.self, response).answers
                #expect(answers[0].reveal.state == "revealed" && answers[0].reveal.other?.name == "Specialist \(firstIndex) Person")
                #expect(answers[0].reveal.other?.imId == "@\(first.handle):localhost")
                // The other answerer is still nobody.
                #expect(answers[1].reveal.state == "none" && !response.text.contains(second.handle))
            }
            // Accepted cannot be taken back.
            try await client.execute(uri: reveal, method: .delete, headers: asker) { response in
                #expect(response.status == .conflict && response.apiError?.code == "reveal_accepted")
            }

            // The second specialist offers; the asker declines, and that is final for both.
            let secondSpecialist = bearer(tokens[second.handle]!)
            try await client.execute(uri: "/v1/inbox/\(second.delivery)/reveal", method: .post, headers: secondSpecialist) {
                let value = try decode(Changed.self, $0).reveal.state
                #expect(value == "offered")
            }
            try await client.execute(uri: "/v1/questions/\(question)/answers/2/reveal/decline", method: .post, headers: asker) { response in
                let value = try decode(Changed.self, response).reveal.state
                #expect(value == "declined")
            }
            try await client.execute(uri: "/v1/inbox/\(second.delivery)/reveal", method: .post, headers: secondSpecialist) { response in
                #expect(response.status == .conflict && response.apiError?.code == "reveal_declined")
            }
            try await client.execute(uri: "/v1/questions/\(question)/answers/2/reveal", method: .post, headers: asker) { response in
                #expect(response.status == .conflict && response.apiError?.code == "reveal_declined")
            }
            try await client.execute(uri: "/v1/inbox", method: .get, headers: secondSpecialist) { response in
                let value = try decode(Inbox.self, response).items.first?.reveal?.state
                #expect(value == "declined")
                for trace in ["@deep:localhost", "deep@example.org", "\"Deep\""] { #expect(!response.text.contains(trace)) }
            }
        }
        await fixture.pump.flush()
        // Each change told the other side once; one introduction, for the pair that agreed.
        let messages = try await fixture.outboxMessages()
        let notices = messages.compactMap { message -> RevealNotice? in
            if case .reveal(let notice) = message { notice } else { nil }
        }
        // The asker asked through the API: what they are told reaches them through the view and the event stream, so
        // only the specialists' notices are queued for the IM.
        #expect(notices.map(\.event) == [.offered, .withdrawn, .offered, .revealed, .declined])
        #expect(notices.allSatisfy { $0.side == .specialist })
        for notice in notices where notice.event != .revealed { #expect(notice.other == nil) }
        let introductions = messages.compactMap { message -> Introduction? in
            if case .introduction(let introduction) = message { introduction } else { nil }
        }
        #expect(introductions.count == 1 && introductions.first?.rank == 1 && introductions.first?.askerName == "Deep")
        let logged = try await fixture.questionStore.complianceEntries(since: .distantPast, until: nil)
        #expect(logged.filter { $0.kind == "reveal" }.count == 6)
        #expect(logged.filter { $0.kind == "reveal_notice" }.count == 7)
        #expect(logged.filter { $0.kind == "introduction" }.count == 1)
    }

    @Test func botsOutsidersAndUnrelayedAnswersCannotReveal() async throws {
        let fixture = try await Fixture.make()
        let tokens = try await fixture.addSpecialists(2)
        try await fixture.test { client in
            // A bot's question: the bot cannot reveal, and nobody can reveal to it.
            let (botQuestion, botRanks) = try await Self.askedAndAnswered(fixture, client, tokens: tokens, asker: .bot, maxAnswers: 1)
            let botAnswerer = try #require(botRanks[1])
            try await client.execute(uri: "/v1/questions/\(botQuestion)/answers/1/reveal", method: .post, headers: fixture.headers(.bot)) {
                #expect($0.status == .forbidden && $0.apiError?.code == "bots_cannot_reveal")
            }
            try await client.execute(uri: "/v1/inbox/\(botAnswerer.delivery)/reveal", method: .post, headers: fixture.headers(.bot)) {
                #expect($0.status == .forbidden && $0.apiError?.code == "bots_cannot_reveal")
            }
            try await client.execute(uri: "/v1/inbox/\(botAnswerer.delivery)/reveal", method: .post, headers: bearer(tokens[botAnswerer.handle]!)) {
                #expect($0.status == .conflict && $0.apiError?.code == "asker_is_a_bot")
            }

            // One answer relayed; the other specialist's delivery closed without one.
            let question = try await client.execute(
                uri: "/v1/questions", method: .post, headers: fixture.headers(.deep), body: Self.ask(maxAnswers: 1)
            ) {
                try decode(Asked.self, $0).id
            }
            var deliveries: [String: String] = [:]
            for handle in tokens.keys.sorted() {
                deliveries[handle] = try await client.execute(uri: "/v1/inbox", method: .get, headers: bearer(tokens[handle]!)) {
                    try decode(Inbox.self, $0).items[0].id
                }
            }
            let (answerer, other) = (tokens.keys.sorted()[0], tokens.keys.sorted()[1])
            try await client.execute(
                uri: "/v1/inbox/\(deliveries[answerer]!)/answer", method: .post, headers: bearer(tokens[answerer]!),
                body: ByteBuffer(string: #"{"text":"Restart the kubelet."}"#)
            ) { #expect($0.status == .ok) }
            try await client.execute(uri: "/v1/inbox/\(deliveries[other]!)/reveal", method: .post, headers: bearer(tokens[other]!)) {
                #expect($0.status == .conflict && $0.apiError?.code == "no_relayed_answer")
            }
            // Outsiders: the same 404 as for something that does not exist.
            for who in [Fixture.Who.m, .r] {
                try await client.execute(uri: "/v1/questions/\(question)/answers/1/reveal", method: .post, headers: fixture.headers(who)) {
                    #expect($0.status == .notFound && $0.apiError?.code == "question_not_found")
                }
            }
            try await client.execute(uri: "/v1/inbox/\(deliveries[answerer]!)/reveal", method: .post, headers: bearer(tokens[other]!)) {
                #expect($0.status == .notFound && $0.apiError?.code == "delivery_not_found")
            }
            try await client.execute(uri: "/v1/questions/\(question)/answers/5/reveal", method: .post, headers: fixture.headers(.deep)) {
                #expect($0.status == .notFound && $0.apiError?.code == "answer_not_found")
            }
            // Nothing to decline, and the asker cannot decline their own offer.
            try await client.execute(uri: "/v1/questions/\(question)/answers/1/reveal/decline", method: .post, headers: fixture.headers(.deep)) {
                #expect($0.status == .conflict && $0.apiError?.code == "no_reveal_offer")
            }
            try await client.execute(uri: "/v1/questions/\(question)/answers/1/reveal", method: .post, headers: fixture.headers(.deep)) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/v1/questions/\(question)/answers/1/reveal/decline", method: .post, headers: fixture.headers(.deep)) {
                #expect($0.status == .conflict && $0.apiError?.code == "no_reveal_offer")
            }
            // The specialist cannot withdraw the asker's offer either.
            try await client.execute(uri: "/v1/inbox/\(deliveries[answerer]!)/reveal", method: .delete, headers: bearer(tokens[answerer]!)) {
                #expect($0.status == .conflict && $0.apiError?.code == "no_reveal_offer")
            }
        }
    }

    @Test func revealAndAcceptByReplyingInTheIM() async throws {
        let fixture = try await Fixture.make()
        let tokens = try await fixture.addSpecialists(1)
        let state = SQLiteIMState(database: fixture.database, clock: fixture.clock)
        let conversation = IMConversation(questions: fixture.questions, directory: fixture.store, state: state, clock: fixture.clock)
        let asked = await conversation.handle(IncomingMessage(imID: "@deep:localhost", text: "ask k8s: Why does my pod restart?"))
        #expect(asked.first?.hasPrefix("Asked 1 specialist") == true)
        let handle = try #require(tokens.keys.first)
        let inbox = try await fixture.questions.inbox(of: try await fixture.caller(handle))
        let delivery = try #require(inbox.first?.id)
        _ = try await fixture.questions.answer(delivery: delivery, text: "Look at the liveness probe.", by: try await fixture.caller(handle))
        let question = try #require(try await fixture.questions.askedQuestions(by: try await fixture.caller("deep")).first?.id)
        // The IM's references of the question, the relayed answer and a notice, as the outbox keeps them when it sends.
        try await fixture.questionStore.markOutboxSent(
            [],
            references: [
                delivery: "$question", ThreadReferenceKey(questionID: question, rank: 1, side: .asker).text: "$answer",
                ThreadReferenceKey(questionID: question, rank: 1, side: .specialist).text: "$notice",
            ], now: fixture.clock.now())

        // A reply other than a reveal word is a follow-up; a stranger replying learns nothing.
        let followUp = await conversation.handle(IncomingMessage(imID: "@deep:localhost", text: "thanks!", inReplyTo: "$answer"))
        #expect(followUp == ["Sent to the specialist of answer 1; their reply will come here."])
        let stranger = await conversation.handle(IncomingMessage(imID: "@m:localhost", text: "reveal", inReplyTo: "$answer"))
        #expect(stranger == ["No question '\(question)'."])

        let offered = await conversation.handle(IncomingMessage(imID: "@deep:localhost", text: "reveal", inReplyTo: "$answer"))
        #expect(offered.first?.hasPrefix("Offered") == true)
        #expect(offered.first?.contains(handle) == false)
        let accepted = await conversation.handle(IncomingMessage(imID: "@\(handle):localhost", text: "accept", inReplyTo: "$notice"))
        #expect(accepted == ["You both agreed: you are talking with Deep (@deep:localhost). I'm setting up a direct chat for the two of you."])
        let again = await conversation.handle(IncomingMessage(imID: "@\(handle):localhost", text: "decline", inReplyTo: "$question"))
        #expect(again == [DirectoryError.revealAccepted.message])
        let view = try await fixture.questions.question(question, by: try await fixture.caller("deep"))
        #expect(view.reveals[1]?.state == .revealed && view.reveals[1]?.other?.imID == "@\(handle):localhost")
    }
}
