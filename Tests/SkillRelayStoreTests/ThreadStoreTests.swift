import Foundation
import SkillRelayDomain
import SkillRelayTestSupport
import Testing

/// After the first answers, at the store: follow-ups on an answer's thread, revealing by consent, and answers typed as
/// plain IM messages held for their minute. The same tests on every backend (the server-level tests show the same
/// behaviour through the API and the IM).
@Suite struct ThreadStoreTests {
    /// `asker` (who asks through the IM), three specialists tagged with kubernetes, and their manager.
    struct Company {
        let database: TestDatabase
        let questions: any QuestionStore
        let clock: TestClock

        static func make(_ backend: StoreBackend) async throws -> Company {
            let clock = TestClock()
            let database = try await TestDatabase.empty(backend)
            do {
                return try await make(on: database, clock: clock)
            } catch {
                await database.close()
                throw error
            }
        }

        private static func make(on database: TestDatabase, clock: TestClock) async throws -> Company {
            let people = [("boss", ""), ("asker", "boss"), ("s1", "boss"), ("s2", "boss"), ("s3", "boss")]
            let employees =
                "handle,name,email,im_id,manager,admin,active\n"
                + people.map { "\($0.0),\($0.0.capitalized) Person,\($0.0)@example.org,@\($0.0):localhost,\($0.1),false,true\n" }.joined()
            _ = try await database.suggestionDirectory(clock: clock).importDirectory(
                try ImportBatch.parse(files: [
                    .employees: employees,
                    .topics: "slug,name,parent,aliases,description\nkubernetes,Kubernetes,,k8s,\n",
                    .skills: "handle,topic,level\ns1,kubernetes,4\ns2,kubernetes,3\ns3,kubernetes,3\n",
                ]), by: .cliOperator)
            return Company(database: database, questions: try database.threadStore(clock: clock), clock: clock)
        }

        /// Asks a question delivered at once to `handles`; returns its id and each one's delivery.
        func ask(
            by asker: Asker = .employee("asker"), channel: QuestionChannel = .im, to handles: [String], maxAnswers: Int = 3,
            callbackURL: String? = nil
        ) async throws -> (id: String, deliveries: [String: String]) {
            let id = IdentifierGenerator.make(prefix: "q")
            let now = clock.now()
            _ = try await questions.createQuestion(
                NewQuestion(
                    id: id, asker: asker, topic: TopicReference(slug: "kubernetes", name: "Kubernetes"), text: "Why does my pod restart?",
                    maxAnswers: maxAnswers, idempotencyKey: nil, callbackURL: callbackURL, channel: channel, createdAt: now,
                    expiresAt: now.addingTimeInterval(3600)),
                firstWave: handles.map { Candidate(handle: $0, level: 3) }, nextActionAt: now.addingTimeInterval(60))
            var deliveries: [String: String] = [:]
            for handle in handles {
                deliveries[handle] = try await questions.inbox(of: handle, page: PageRequest(limit: 1)).items.first?.id
            }
            return (id, deliveries)
        }

        func answer(_ question: (id: String, deliveries: [String: String]), by handle: String, text: String = "Look at the liveness probe.")
            async throws -> AnswerOutcome
        {
            try await questions.recordAnswer(
                delivery: question.deliveries[handle]!, by: handle, text: text, labeling: AnswerLabeling(k: 1), now: clock.now()
            ).outcome
        }

        /// Every message queued since the last call, in the order queued, marked sent (with `references` kept, as the
        /// IM adapter reports them).
        func sent(references: [String: String] = [:]) async throws -> [OutboxMessage] {
            var messages: [OutboxItem] = []
            while true {
                let batch = try await questions.pendingOutbox(now: clock.now(), limit: 100, excluding: [])
                if batch.isEmpty { break }
                messages += batch
                try await questions.markOutboxSent(batch.map(\.id), references: [:], now: clock.now())
            }
            if !references.isEmpty { try await questions.markOutboxSent([], references: references, now: clock.now()) }
            return messages.sorted { $0.id < $1.id }.map(\.message)
        }

        func compliance(_ kind: String) async throws -> [ComplianceEntry] {
            try await questions.complianceEntries(since: .distantPast, until: nil).filter { $0.kind == kind }
        }
    }

    // MARK: - References

    /// The bot's own messages, echoed back by the IM with the outbox keys they were sent with, keep their references as
    /// the outbox keeps them once its sends return: a question's with its delivery, a relayed answer's with its thread.
    @Test(arguments: StoreBackend.available) func echoedMessagesKeepTheirReferencesBeforeTheirSendsReturn(backend: StoreBackend) async throws {
        let company = try await Company.make(backend)
        defer { Task { await company.database.close() } }
        let state = company.database.imState(clock: company.clock)
        let question = try await company.ask(to: ["s1", "s2"], maxAnswers: 2)
        let s1 = try #require(question.deliveries["s1"])
        func queued(_ matches: (OutboxMessage) -> Bool) async throws -> OutboxItem {
            try #require(try await company.questions.pendingOutbox(now: company.clock.now(), limit: 100, excluding: []).first { matches($0.message) })
        }
        let toS1 = try await queued {
            guard case .question(let message) = $0 else { return false }
            return message.recipient.handle == "s1"
        }
        // Keys that are not the outbox's, or of no message it holds, change nothing.
        try await state.recordEchoes([toS1.key: "$question-to-s1", "skillrelay-999999": "$gone", "reply-$x-0": "$reply"])
        #expect(try await state.delivery(forMessageReference: "$question-to-s1") == s1)
        #expect(try await state.delivery(forMessageReference: "$gone") == nil)
        #expect(try await state.delivery(forMessageReference: "$reply") == nil)

        #expect(try await company.answer(question, by: "s1") == .relayed(rank: 1))
        let toAsker = try await queued {
            guard case .answer = $0 else { return false }
            return true
        }
        #expect(try await company.questions.thread(forMessageReference: "$answer-to-asker") == nil)
        try await state.recordEchoes([toAsker.key: "$answer-to-asker"])
        #expect(
            try await company.questions.thread(forMessageReference: "$answer-to-asker")
                == ThreadReference(questionID: question.id, rank: 1, side: .asker, deliveryID: s1))
        // The outbox's own record, when its sends return, agrees.
        _ = try await company.sent(references: [s1: "$question-to-s1"])
        #expect(try await state.delivery(forMessageReference: "$question-to-s1") == s1)

        // An echo read late (a lagging or replayed sync) leaves what was kept as it is: the thread's latest message to
        // the asker stays the latest, and the next follow-up replies to it.
        func followUp(_ text: String) async throws {
            company.clock.advance(by: 60)
            _ = try await company.questions.recordFollowUp(
                by: .specialist(handle: "s1", delivery: s1), text: text, openFor: 86_400, now: company.clock.now())
        }
        try await followUp("The liveness one.")
        let askerSide = try #require(toAsker.message.referenceKey)
        _ = try await company.sent(references: [askerSide: "$follow-up-to-asker"])
        company.clock.advance(by: 60)
        try await state.recordEchoes([toAsker.key: "$answer-to-asker"])
        try await followUp("And the startup one.")
        guard case .followUp(let next) = try #require(try await company.sent().only) else {
            Issue.record("not a follow-up")
            return
        }
        #expect(next.replyTo == "$follow-up-to-asker")
    }

    // MARK: - Follow-ups

    @Test(arguments: StoreBackend.available) func askerAndSpecialistTalkOnTheAnswersThreadByAliasOnly(backend: StoreBackend) async throws {
        let company = try await Company.make(backend)
        defer { Task { await company.database.close() } }
        let question = try await company.ask(to: ["s1", "s2"], maxAnswers: 2)
        let s1 = try #require(question.deliveries["s1"])
        #expect(try await company.answer(question, by: "s1") == .relayed(rank: 1))
        // The IM reports the question as delivered to s1, and the relayed answer as it reached the asker.
        let answerKey = ThreadReferenceKey(questionID: question.id, rank: 1, side: .asker).text
        _ = try await company.sent(references: [s1: "$question-to-s1", answerKey: "$answer-to-asker"])
        #expect(
            try await company.questions.thread(forMessageReference: "$question-to-s1")
                == ThreadReference(questionID: question.id, rank: 1, side: .specialist, deliveryID: s1))
        #expect(
            try await company.questions.thread(forMessageReference: "$answer-to-asker")
                == ThreadReference(questionID: question.id, rank: 1, side: .asker, deliveryID: s1))
        #expect(try await company.questions.thread(forMessageReference: "$nothing") == nil)

        company.clock.advance(by: 60)
        let fromAsker = try await company.questions.recordFollowUp(
            by: .asker(.employee("asker"), question: question.id, rank: 1), text: "Which probe?", openFor: 86_400, now: company.clock.now())
        #expect(fromAsker.questionID == question.id && fromAsker.deliveryID == s1 && fromAsker.specialistHandle == "s1")
        #expect(fromAsker.askerView == FollowUp(rank: 1, from: .asker, alias: "you", text: "Which probe?", sentAt: company.clock.now()))
        #expect(fromAsker.specialistView.alias == "the asker")
        // To the specialist, as a reply to the question they were sent (nothing of theirs was sent into the thread yet).
        guard case .followUp(let toSpecialist) = try #require(try await company.sent(references: [:]).only) else {
            Issue.record("not a follow-up")
            return
        }
        #expect(toSpecialist.recipient.handle == "s1" && toSpecialist.deliveryID == s1 && toSpecialist.replyTo == "$question-to-s1")
        #expect(toSpecialist.followUp == fromAsker.specialistView)

        company.clock.advance(by: 60)
        let fromSpecialist = try await company.questions.recordFollowUp(
            by: .specialist(handle: "s1", delivery: s1), text: "The liveness one.", openFor: 86_400, now: company.clock.now())
        #expect(fromSpecialist.askerView.alias == "specialist 1" && fromSpecialist.specialistView.alias == "you")
        // To the asker, who asked through the IM: as a reply to the answer they were sent, and without the delivery.
        guard case .followUp(let toAsker) = try #require(try await company.sent().only) else {
            Issue.record("not a follow-up")
            return
        }
        #expect(toAsker.recipient.handle == "asker" && toAsker.deliveryID == nil && toAsker.replyTo == "$answer-to-asker")

        // Both sides read the thread in order, each with their own aliases.
        let view = try await company.questions.questionView(question.id, for: .employee("asker"), isAdmin: false)
        #expect(view.followUps.map(\.text) == ["Which probe?", "The liveness one."])
        #expect(view.followUps.map(\.alias) == ["you", "specialist 1"])
        let inbox = try await company.questions.inbox(of: "s1", page: PageRequest()).items
        #expect(inbox.first?.followUps.map(\.alias) == ["the asker", "you"])
        #expect(
            try await company.questions.openThreads(of: .employee("asker"), openFor: 86_400, now: company.clock.now()).map(\.questionID)
                == [question.id])
        // The compliance log names people by internal id, never by handle.
        let logged = try await company.compliance("follow_up")
        #expect(logged.count == 2 && logged.allSatisfy { $0.sender.hasPrefix("employee:") && !$0.sender.contains("s1") })
        #expect(try await company.compliance("follow_up_relay").map(\.deliveryID) == [s1, nil])
    }

    @Test(arguments: StoreBackend.available) func outsidersGetTheSameNotFoundAsForNothing(backend: StoreBackend) async throws {
        let company = try await Company.make(backend)
        defer { Task { await company.database.close() } }
        let question = try await company.ask(to: ["s1", "s2"], maxAnswers: 2)
        _ = try await company.answer(question, by: "s1")
        let now = company.clock.now()
        // Another asker; a rank that was not relayed.
        await #expect(throws: DirectoryError.questionNotFound(question.id)) {
            try await company.questions.recordFollowUp(by: .asker(.employee("s3"), question: question.id, rank: 1), text: "Hi", openFor: 60, now: now)
        }
        await #expect(throws: DirectoryError.answerNotFound(2)) {
            try await company.questions.recordFollowUp(
                by: .asker(.employee("asker"), question: question.id, rank: 2), text: "Hi", openFor: 60, now: now)
        }
        // Someone else's delivery; one's own without a relayed answer.
        await #expect(throws: DirectoryError.deliveryNotFound(question.deliveries["s1"]!)) {
            try await company.questions.recordFollowUp(
                by: .specialist(handle: "s2", delivery: question.deliveries["s1"]!), text: "Hi", openFor: 60, now: now)
        }
        await #expect(throws: DirectoryError.noThread(question.deliveries["s2"]!)) {
            try await company.questions.recordFollowUp(
                by: .specialist(handle: "s2", delivery: question.deliveries["s2"]!), text: "Hi", openFor: 60, now: now)
        }
        #expect(try await company.compliance("follow_up").isEmpty)
    }

    @Test(arguments: StoreBackend.available) func theThreadClosesSomeTimeAfterTheQuestion(backend: StoreBackend) async throws {
        let company = try await Company.make(backend)
        defer { Task { await company.database.close() } }
        // Open questions have open threads; one answer closes this one.
        let question = try await company.ask(to: ["s1"], maxAnswers: 1)
        #expect(try await company.answer(question, by: "s1") == .relayed(rank: 1))
        let closed = try #require(try await company.questions.questionView(question.id, for: .employee("asker"), isAdmin: false).closedAt)
        let author = FollowUpAuthor.asker(.employee("asker"), question: question.id, rank: 1)
        company.clock.advance(by: 3 * 86_400 - 1)
        _ = try await company.questions.recordFollowUp(by: author, text: "Still there?", openFor: 3 * 86_400, now: company.clock.now())
        #expect(try await company.questions.openThreads(of: .employee("asker"), openFor: 3 * 86_400, now: company.clock.now()).count == 1)
        company.clock.advance(by: 1)
        #expect(company.clock.now() == closed.addingTimeInterval(3 * 86_400))
        await #expect(throws: DirectoryError.threadClosed(question.id)) {
            try await company.questions.recordFollowUp(by: author, text: "Hello?", openFor: 3 * 86_400, now: company.clock.now())
        }
        #expect(try await company.questions.openThreads(of: .employee("asker"), openFor: 3 * 86_400, now: company.clock.now()).isEmpty)
    }

    @Test(arguments: StoreBackend.available) func aBotsFollowUpsGoToItsCallback(backend: StoreBackend) async throws {
        let company = try await Company.make(backend)
        defer { Task { await company.database.close() } }
        let question = try await company.ask(by: .bot("ci"), channel: .api, to: ["s1"], maxAnswers: 1, callbackURL: "https://ci.example/hook")
        _ = try await company.answer(question, by: "s1")
        _ = try await company.sent()
        _ = try await company.questions.recordFollowUp(
            by: .specialist(handle: "s1", delivery: question.deliveries["s1"]!), text: "Did it work?", openFor: 86_400, now: company.clock.now())
        guard case .callback(let callback) = try #require(try await company.sent().only) else {
            Issue.record("not a callback")
            return
        }
        #expect(callback.url == "https://ci.example/hook" && callback.body.contains(#""event":"follow_up""#))
        #expect(callback.body.contains(#""alias":"specialist 1""#) && !callback.body.contains("S1 Person") && !callback.body.contains("@s1:"))
    }

    // MARK: - Reveals

    @Test(arguments: StoreBackend.available) func bothMustAgreeBeforeEitherLearnsWhoTheOtherIs(backend: StoreBackend) async throws {
        let company = try await Company.make(backend)
        defer { Task { await company.database.close() } }
        let question = try await company.ask(to: ["s1", "s2"], maxAnswers: 2)
        _ = try await company.answer(question, by: "s1")
        _ = try await company.sent()
        let s1 = try #require(question.deliveries["s1"])

        let offered = try await company.questions.reveal(.offer, question: question.id, rank: 1, by: .employee("asker"), now: company.clock.now())
        #expect(offered.changed && offered.askerView == RevealView(state: .offered) && offered.specialistView == RevealView(state: .invited))
        #expect(offered.deliveryID == s1 && offered.specialist == "s1" && offered.asker == "asker")
        // Offering twice changes nothing; the specialist hears of it once, and learns nobody's name.
        #expect(
            try await company.questions.reveal(.offer, question: question.id, rank: 1, by: .employee("asker"), now: company.clock.now()).changed
                == false)
        guard case .reveal(let notice) = try #require(try await company.sent().only) else {
            Issue.record("not a reveal notice")
            return
        }
        #expect(notice.event == .offered && notice.recipient.handle == "s1" && notice.side == .specialist && notice.alias == "specialist 1")
        #expect(try await company.questions.inbox(of: "s1", page: PageRequest()).items.first?.reveal == RevealView(state: .invited))

        // The specialist agrees: both see the other, and the bot introduces them.
        let revealed = try await company.questions.reveal(.offer, delivery: s1, by: "s1", now: company.clock.now())
        #expect(revealed.askerView == RevealView(state: .revealed, other: RevealedPerson(name: "S1 Person", imID: "@s1:localhost")))
        #expect(revealed.specialistView == RevealView(state: .revealed, other: RevealedPerson(name: "Asker Person", imID: "@asker:localhost")))
        let messages = try await company.sent()
        #expect(messages.count == 3)
        #expect(messages.contains { if case .introduction(let introduction) = $0 { introduction.deliveryID == s1 } else { false } })
        let view = try await company.questions.questionView(question.id, for: .employee("asker"), isAdmin: false)
        #expect(view.reveals[1]?.state == .revealed && view.reveals[1]?.other?.name == "S1 Person")
        #expect(try await company.compliance("reveal").map(\.text) == ["offer (answer 1)", "accept (answer 1)"])
        #expect(try await company.compliance("introduction").count == 1)
        // Too late to take back.
        await #expect(throws: DirectoryError.revealAccepted) {
            try await company.questions.reveal(.withdraw, question: question.id, rank: 1, by: .employee("asker"), now: company.clock.now())
        }
    }

    @Test(arguments: StoreBackend.available) func anOfferCanBeWithdrawnOrDeclinedAndADeclineIsFinal(backend: StoreBackend) async throws {
        let company = try await Company.make(backend)
        defer { Task { await company.database.close() } }
        let question = try await company.ask(to: ["s1", "s2"], maxAnswers: 2)
        _ = try await company.answer(question, by: "s1")
        _ = try await company.answer(question, by: "s2")
        let s2 = try #require(question.deliveries["s2"])
        let now = company.clock.now()
        // Nothing to withdraw or decline yet.
        await #expect(throws: DirectoryError.noRevealOffer) { try await company.questions.reveal(.decline, delivery: s2, by: "s2", now: now) }
        #expect(try await company.questions.reveal(.withdraw, delivery: s2, by: "s2", now: now).changed == false)
        // Offered and withdrawn by the specialist: back to nothing.
        _ = try await company.questions.reveal(.offer, delivery: s2, by: "s2", now: now)
        await #expect(throws: DirectoryError.noRevealOffer) {
            try await company.questions.reveal(.withdraw, question: question.id, rank: 2, by: .employee("asker"), now: now)
        }
        let withdrawn = try await company.questions.reveal(.withdraw, delivery: s2, by: "s2", now: now)
        #expect(withdrawn.changed && withdrawn.askerView == .none)
        // Offered again, and declined by the asker: final for both.
        _ = try await company.questions.reveal(.offer, delivery: s2, by: "s2", now: now)
        let declined = try await company.questions.reveal(.decline, question: question.id, rank: 2, by: .employee("asker"), now: now)
        #expect(declined.askerView == RevealView(state: .declined) && declined.specialistView == RevealView(state: .declined))
        #expect(try await company.questions.reveal(.decline, question: question.id, rank: 2, by: .employee("asker"), now: now).changed == false)
        await #expect(throws: DirectoryError.revealDeclined) { try await company.questions.reveal(.offer, delivery: s2, by: "s2", now: now) }
        await #expect(throws: DirectoryError.revealDeclined) { try await company.questions.reveal(.withdraw, delivery: s2, by: "s2", now: now) }
        // The other answer's pair is untouched.
        let view = try await company.questions.questionView(question.id, for: .employee("asker"), isAdmin: false)
        #expect(view.reveals[1] == nil && view.reveals[2] == RevealView(state: .declined))
        #expect(
            try await company.compliance("reveal").map(\.text) == [
                "offer (answer 2)", "withdraw (answer 2)", "offer (answer 2)", "decline (answer 2)",
            ])
    }

    @Test(arguments: StoreBackend.available) func botsOutsidersAndUnrelayedAnswersCannotReveal(backend: StoreBackend) async throws {
        let company = try await Company.make(backend)
        defer { Task { await company.database.close() } }
        let question = try await company.ask(to: ["s1", "s2", "s3"], maxAnswers: 1)
        _ = try await company.answer(question, by: "s1")
        // s2's answer came after the question was answered: kept, not relayed.
        #expect(try await company.answer(question, by: "s2") == .alreadyAnswered)
        let now = company.clock.now()
        await #expect(throws: DirectoryError.botsCannotReveal) {
            try await company.questions.reveal(.offer, question: question.id, rank: 1, by: .bot("ci"), now: now)
        }
        await #expect(throws: DirectoryError.questionNotFound(question.id)) {
            try await company.questions.reveal(.offer, question: question.id, rank: 1, by: .employee("s3"), now: now)
        }
        await #expect(throws: DirectoryError.answerNotFound(2)) {
            try await company.questions.reveal(.offer, question: question.id, rank: 2, by: .employee("asker"), now: now)
        }
        await #expect(throws: DirectoryError.noRelayedAnswer(question.deliveries["s2"]!)) {
            try await company.questions.reveal(.offer, delivery: question.deliveries["s2"]!, by: "s2", now: now)
        }
        await #expect(throws: DirectoryError.noRelayedAnswer(question.deliveries["s3"]!)) {
            try await company.questions.reveal(.offer, delivery: question.deliveries["s3"]!, by: "s3", now: now)
        }
        await #expect(throws: DirectoryError.deliveryNotFound(question.deliveries["s1"]!)) {
            try await company.questions.reveal(.offer, delivery: question.deliveries["s1"]!, by: "s2", now: now)
        }
        // A bot's question: its answerers cannot ask to meet it.
        let fromBot = try await company.ask(by: .bot("ci"), channel: .api, to: ["s3"], maxAnswers: 1)
        _ = try await company.answer(fromBot, by: "s3")
        await #expect(throws: DirectoryError.askerIsABot) {
            try await company.questions.reveal(.offer, delivery: fromBot.deliveries["s3"]!, by: "s3", now: now)
        }
        #expect(try await company.compliance("reveal").isEmpty)
    }

    // MARK: - Plain answers

    @Test(arguments: StoreBackend.available) func aHeldAnswerIsRelayedWhenItsMinuteIsUp(backend: StoreBackend) async throws {
        let company = try await Company.make(backend)
        defer { Task { await company.database.close() } }
        let first = try await company.ask(to: ["s1"])
        company.clock.advance(by: 10)
        let second = try await company.ask(to: ["s1"])
        #expect(try await company.questions.openDeliveries(of: "s1").map(\.id) == [first.deliveries["s1"]!, second.deliveries["s1"]!])
        let relayAt = company.clock.now().addingTimeInterval(60)
        let held = try await company.questions.holdAnswer(
            delivery: first.deliveries["s1"]!, by: "s1", text: "Restart it.", relayAt: relayAt, now: company.clock.now())
        #expect(
            held == HeldAnswer(deliveryID: first.deliveries["s1"]!, topic: TopicReference(slug: "kubernetes", name: "Kubernetes"), relayAt: relayAt))
        // Held: no longer open for another plain message, and not twice.
        #expect(try await company.questions.openDeliveries(of: "s1").map(\.id) == [second.deliveries["s1"]!])
        await #expect(throws: DirectoryError.deliveryAlreadyAnswered) {
            try await company.questions.holdAnswer(
                delivery: first.deliveries["s1"]!, by: "s1", text: "Again", relayAt: relayAt, now: company.clock.now())
        }
        await #expect(throws: DirectoryError.deliveryNotFound(first.deliveries["s1"]!)) {
            try await company.questions.holdAnswer(
                delivery: first.deliveries["s1"]!, by: "s2", text: "Not mine", relayAt: relayAt, now: company.clock.now())
        }
        #expect(try await company.questions.dueHeldAnswers(now: company.clock.now(), limit: 10).isEmpty)
        company.clock.advance(by: 60)
        let due = try await company.questions.dueHeldAnswers(now: company.clock.now(), limit: 10)
        #expect(due.count == 1)
        let relayed = try await company.questions.relayHeldAnswer(due[0], labeling: AnswerLabeling(k: 1), now: company.clock.now())
        #expect(relayed?.outcome == .relayed(rank: 1) && relayed?.relayed?.text == "Restart it.")
        // Once only.
        #expect(try await company.questions.relayHeldAnswer(due[0], labeling: AnswerLabeling(k: 1), now: company.clock.now()) == nil)
        #expect(try await company.questions.dueHeldAnswers(now: company.clock.now(), limit: 10).isEmpty)
        #expect(try await company.compliance("held_answer").map(\.text) == ["Restart it."])
    }

    @Test(arguments: StoreBackend.available) func undoTakesBackAHeldAnswerUntilItsMinuteIsUp(backend: StoreBackend) async throws {
        let company = try await Company.make(backend)
        defer { Task { await company.database.close() } }
        #expect(try await company.questions.withdrawHeldAnswer(by: "s1", now: company.clock.now()) == .nothing)
        let question = try await company.ask(to: ["s1", "s2"])
        let topic = TopicReference(slug: "kubernetes", name: "Kubernetes")
        let relayAt = company.clock.now().addingTimeInterval(60)
        _ = try await company.questions.holdAnswer(
            delivery: question.deliveries["s1"]!, by: "s1", text: "Oops", relayAt: relayAt, now: company.clock.now())
        company.clock.advance(by: 30)
        #expect(try await company.questions.withdrawHeldAnswer(by: "s1", now: company.clock.now()) == .withdrawn(topic))
        // Withdrawn: nothing to relay, the question is open for them again, and nothing more to undo.
        company.clock.advance(by: 60)
        #expect(try await company.questions.dueHeldAnswers(now: company.clock.now(), limit: 10).isEmpty)
        #expect(try await company.questions.openDeliveries(of: "s1").map(\.id) == [question.deliveries["s1"]!])
        #expect(try await company.questions.withdrawHeldAnswer(by: "s1", now: company.clock.now()) == .nothing)
        // Past its minute (even before the worker relayed it): too late.
        _ = try await company.questions.holdAnswer(
            delivery: question.deliveries["s1"]!, by: "s1", text: "Restart it.", relayAt: company.clock.now().addingTimeInterval(60),
            now: company.clock.now())
        company.clock.advance(by: 60)
        #expect(try await company.questions.withdrawHeldAnswer(by: "s1", now: company.clock.now()) == .tooLate(topic))
        #expect(try await company.compliance("withdrawn_answer").count == 1)
    }

    @Test(arguments: StoreBackend.available) func anAnswerGivenMeanwhileSupersedesTheHeldOne(backend: StoreBackend) async throws {
        let company = try await Company.make(backend)
        defer { Task { await company.database.close() } }
        let question = try await company.ask(to: ["s1", "s2"], maxAnswers: 1)
        _ = try await company.questions.holdAnswer(
            delivery: question.deliveries["s1"]!, by: "s1", text: "Held", relayAt: company.clock.now().addingTimeInterval(60),
            now: company.clock.now())
        #expect(try await company.answer(question, by: "s1", text: "Replied") == .relayed(rank: 1))
        company.clock.advance(by: 60)
        let due = try await company.questions.dueHeldAnswers(now: company.clock.now(), limit: 10)
        #expect(due.count == 1)
        #expect(try await company.questions.relayHeldAnswer(due[0], labeling: AnswerLabeling(k: 1), now: company.clock.now()) == nil)
        #expect(try await company.questions.dueHeldAnswers(now: company.clock.now(), limit: 10).isEmpty)
        let view = try await company.questions.questionView(question.id, for: .employee("asker"), isAdmin: false)
        #expect(view.answers.map(\.text) == ["Replied"])
        // The question is closed now: s2 can hold nothing for it.
        await #expect(throws: DirectoryError.questionClosed(question.deliveries["s2"]!)) {
            try await company.questions.holdAnswer(
                delivery: question.deliveries["s2"]!, by: "s2", text: "Late", relayAt: company.clock.now(), now: company.clock.now())
        }
    }

    @Test(arguments: StoreBackend.available) func aPlainMessageWaitsForItsSenderToChooseOnce(backend: StoreBackend) async throws {
        let company = try await Company.make(backend)
        defer { Task { await company.database.close() } }
        #expect(try await company.questions.takePlainChoice(by: "s1") == nil)
        try await company.questions.savePlainChoice(by: "s1", text: "First", options: ["d_a", "d_b"], now: company.clock.now())
        company.clock.advance(by: 5)
        try await company.questions.savePlainChoice(by: "s1", text: "Second", options: ["d_c"], now: company.clock.now())
        try await company.questions.savePlainChoice(by: "s2", text: "Theirs", options: ["d_d"], now: company.clock.now())
        #expect(
            try await company.questions.takePlainChoice(by: "s1") == PlainChoice(text: "Second", options: ["d_c"], createdAt: company.clock.now()))
        #expect(try await company.questions.takePlainChoice(by: "s1") == nil)
        #expect(try await company.questions.takePlainChoice(by: "s2")?.text == "Theirs")
        await #expect(throws: DirectoryError.employeeNotFound("nobody")) {
            try await company.questions.savePlainChoice(by: "nobody", text: "?", options: [], now: company.clock.now())
        }
    }
}

extension Array {
    /// The one element, or `nil` when there are none or several.
    fileprivate var only: Element? { count == 1 ? first : nil }
}
