import Foundation
import PostgresNIO
import SkillRelayDomain
import SkillRelayTestSupport
import Testing

@testable import SkillRelayStore

/// A question's life at the store (the conformance suite): asked to a first wave, a second wave, answers ranked and
/// labelled in their transactions, closed when the K-th arrives, with its compliance entries, outbox messages, the
/// specialists' records, the learned statistics and the stats.
@Suite struct QuestionFlowStoreTests {
    /// `ann` asks; `s1`…`s4` hold `infra` at level 3.
    static func seed(_ database: TestDatabase, clock: TestClock) async throws {
        var employees = "handle,name,email,im_id,manager,admin,active\n"
        for person in ["ann", "s1", "s2", "s3", "s4"] { employees += "\(person),\(person),\(person)@example.org,@\(person):x,,false,true\n" }
        let skills = "handle,topic,level\ns1,infra,3\ns2,infra,3\ns3,infra,3\ns4,infra,3\n"
        switch database {
        case .sqlite:
            _ = try await database.directoryStore(clock: clock).importDirectory(
                try ImportBatch.parse(files: [
                    .employees: employees, .topics: "slug,name,parent,aliases,description\ninfra,Infrastructure,,k8s,\n", .skills: skills,
                ]), by: .cliOperator)
        case .postgres(let postgres):
            // The same rows the directory import writes, until PostgresDirectoryStore's import is merged here.
            let now = clock.now()
            try await postgres.write { connection in
                for person in ["ann", "s1", "s2", "s3", "s4"] {
                    try await connection.query(
                        """
                        INSERT INTO employee (handle, name, email, imId, createdAt, updatedAt)
                        VALUES (\(person), \(person), \(person + "@example.org"), \("@" + person + ":x"), \(now), \(now))
                        """, logger: TestPostgres.logger)
                }
                try await connection.query(
                    "INSERT INTO topic (slug, name, createdAt, updatedAt) VALUES ('infra', 'Infrastructure', \(now), \(now))",
                    logger: TestPostgres.logger)
                try await connection.query(
                    "INSERT INTO topicAlias (alias, topicId) SELECT 'k8s', id FROM topic WHERE slug = 'infra'", logger: TestPostgres.logger)
                try await connection.query(
                    """
                    INSERT INTO skill (employeeId, topicId, level, source, taggedAt)
                    SELECT employee.id, topic.id, 3, 'import', \(now) FROM employee, topic WHERE employee.handle <> 'ann'
                    """, logger: TestPostgres.logger)
            }
        }
    }

    /// A clock, an empty database of `backend` seeded as above, and its question store.
    static func seeded(_ backend: StoreBackend) async throws -> (TestClock, TestDatabase, any QuestionStore & StatsStore) {
        let clock = TestClock()
        let database = try await TestDatabase.empty(backend)
        try await seed(database, clock: clock)
        return (clock, database, database.questionStore(clock: clock))
    }

    /// A bot that retries an ask before the first try has returned: the tries race, and every one of them must come back
    /// with the one question recorded, delivered and logged once. (PostgreSQL reads whether the ask is known before it
    /// waits for the write lock, so tries made at once all get past that read and meet again at the insert.)
    @Test(arguments: StoreBackend.available)
    func triesOfOneAskMadeAtOnceRecordOneQuestion(backend: StoreBackend) async throws {
        let (clock, _, store) = try await Self.seeded(backend)
        let wave = try await store.candidates(CandidateQuery(topic: "infra", excluding: "ann"), now: clock.now()).filter { $0.handle == "s1" }
        #expect(wave.count == 1)
        let tries = try await withThrowingTaskGroup(of: CreatedQuestion.self) { group in
            for attempt in 0..<8 {
                group.addTask {
                    let question = NewQuestion(
                        id: "q-try\(attempt)", asker: .bot("deploy-bot"), topic: TopicReference(slug: "infra", name: "Infrastructure"),
                        text: "Is the cluster up?", maxAnswers: 1, idempotencyKey: "retried", callbackURL: nil, channel: .api,
                        createdAt: clock.now(), expiresAt: clock.now().addingTimeInterval(3600))
                    return try await store.createQuestion(question, firstWave: wave, nextActionAt: clock.now())
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let recorded = try #require(tries.first { $0.created })
        #expect(tries.filter(\.created).count == 1 && recorded.deliveredTo == 1)
        #expect(tries.allSatisfy { $0.id == recorded.id })
        let entries = try await store.complianceEntries(since: .distantPast, until: nil)
        #expect(entries.map(\.kind) == ["question", "delivery"] && entries.allSatisfy { $0.questionID == recorded.id })
        #expect(try await store.pendingOutbox(now: clock.now(), limit: 50, excluding: []).count == 1)
    }

    @Test(arguments: StoreBackend.available)
    func aQuestionIsDeliveredInWavesRankedOnceLabelledAndClosedByItsLastAnswer(backend: StoreBackend) async throws {
        let (clock, database, store) = try await Self.seeded(backend)
        let candidates = try await store.candidates(CandidateQuery(topic: "k8s", excluding: "ann"), now: clock.now())
        #expect(Set(candidates.map(\.handle)) == ["s1", "s2", "s3", "s4"])
        let question = NewQuestion(
            id: "q1", asker: .employee("ann"), topic: TopicReference(slug: "infra", name: "Infrastructure"), text: "How do I drain a node?",
            maxAnswers: 2, idempotencyKey: "k1", callbackURL: nil, channel: .im, createdAt: clock.now(),
            expiresAt: clock.now().addingTimeInterval(3600))
        let byHandle = Dictionary(uniqueKeysWithValues: candidates.map { ($0.handle, $0) })
        let created = try await store.createQuestion(question, firstWave: [byHandle["s1"]!, byHandle["s2"]!], nextActionAt: clock.now())
        #expect(created == CreatedQuestion(id: "q1", created: true, deliveredTo: 2))
        // The same key finds the same question, unchanged.
        #expect(try await store.createQuestion(question, firstWave: [], nextActionAt: clock.now()).created == false)
        var context = try #require(try await store.waveContext(question: "q1"))
        #expect(context.alreadyAsked == ["s1", "s2"] && context.waves == 1 && context.pending.count == 2)
        // A second wave only once: a stale wave count is refused.
        let wave = try await store.recordWave(
            question: "q1", after: 1, to: [byHandle["s3"]!], nextActionAt: clock.now().addingTimeInterval(60), now: clock.now())
        #expect(wave == WaveOutcome(wave: 2, newDeliveries: 1, deliveredTo: 3))
        #expect(try await store.recordWave(question: "q1", after: 1, to: [byHandle["s4"]!], nextActionAt: clock.now(), now: clock.now()) == nil)
        context = try #require(try await store.waveContext(question: "q1"))
        #expect(context.waves == 2 && context.alreadyAsked == ["s1", "s2", "s3"])
        // The deliveries, from the outbox: one question message each.
        let outbox = try await store.pendingOutbox(now: clock.now(), limit: 50, excluding: [])
        var deliveries: [String: String] = [:]
        for item in outbox {
            if case .question(let message) = item.message { deliveries[message.recipient.handle] = message.deliveryID }
        }
        #expect(deliveries.keys.sorted() == ["s1", "s2", "s3"])
        try await store.markOutboxSent(outbox.map(\.id), references: [deliveries["s1"]!: "$event1"], now: clock.now())
        clock.advance(by: 60)
        let labeling = AnswerLabeling(k: 1, minimumLevel: 1)
        let pass = try await store.recordPass(delivery: deliveries["s2"]!, by: "s2", now: clock.now())
        #expect(pass.questionID == "q1" && !pass.nonePending)
        let first = try await store.recordAnswer(delivery: deliveries["s3"]!, by: "s3", text: "cordon first", labeling: labeling, now: clock.now())
        #expect(first.outcome == .relayed(rank: 1) && !first.closedQuestion)
        #expect(first.relayed?.alias == "specialist 3")
        await #expect(throws: DirectoryError.deliveryAlreadyAnswered) {
            try await store.recordAnswer(delivery: deliveries["s3"]!, by: "s3", text: "again", labeling: labeling, now: clock.now())
        }
        await #expect(throws: DirectoryError.deliveryNotFound(deliveries["s1"]!)) {
            try await store.recordAnswer(delivery: deliveries["s1"]!, by: "s3", text: "not mine", labeling: labeling, now: clock.now())
        }
        let second = try await store.recordAnswer(delivery: deliveries["s1"]!, by: "s1", text: "kubectl drain", labeling: labeling, now: clock.now())
        #expect(second.outcome == .relayed(rank: 2) && second.closedQuestion)
        #expect(try await store.waveContext(question: "q1") == nil)
        try await store.rateAnswer(question: "q1", rank: 2, helpful: true, by: .employee("ann"), isAdmin: false, now: clock.now())
        await #expect(throws: DirectoryError.questionNotFound("q1")) {
            try await store.rateAnswer(question: "q1", rank: 1, helpful: true, by: .employee("s1"), isAdmin: false, now: clock.now())
        }
        let view = try await store.questionView("q1", for: .employee("ann"), isAdmin: false)
        #expect(view.status == .answered && view.deliveredTo == 3 && view.waves == 2)
        #expect(view.answers.map(\.rank) == [1, 2])
        #expect(view.answers.map(\.text) == ["cordon first", "kubectl drain"])
        #expect(view.answers.map(\.helpful) == [nil, true])
        #expect(view.answers.map(\.label) == [first.relayed!.label, second.relayed!.label])
        // The compliance log, in order.
        let kinds = try await store.complianceEntries(since: .distantPast, until: nil).map(\.kind)
        #expect(kinds == ["question", "delivery", "delivery", "delivery", "pass", "answer", "relay", "answer", "relay", "notice", "rating"])
        // The asker's two answers and the close notice, in order, are queued for her; nobody else is told (all answered
        // or passed).
        let asker = try await store.pendingOutbox(now: clock.now(), limit: 50, excluding: [])
        #expect(asker.map(\.message.destination) == ["person:ann", "person:ann", "person:ann"])
        let stats = try await store.questionStats(since: nil, top: 5)
        #expect(stats.asked == 1 && stats.answered == 1 && stats.withAnswers == 1 && stats.relayedAnswers == 2)
        #expect(stats.firstAnswerSeconds == [60])
        #expect(stats.routing.deliveries == 3 && stats.routing.answeredInTime == 2 && stats.routing.passed == 1)
        #expect(stats.routing.peopleLearned == 3)
        #expect(stats.mostInterrupted.map(\.deliveries) == [1, 1, 1])
        let daily = try await store.dailyQuestionStats(from: clock.now().addingTimeInterval(-86_400), until: clock.now().addingTimeInterval(86_400))
        #expect(daily.map(\.asked) == [1] && daily.first?.medianFirstAnswerSeconds == 60)
        await database.close()
    }

    /// A wave is written as a whole (on PostgreSQL, one statement for all its rows): each delivery keeps its own number,
    /// level and expectation (a missing one stays missing), and the compliance log and the outbox list them in the wave's
    /// order; the references of a drain's sends are each kept with their own delivery.
    @Test(arguments: StoreBackend.available)
    func aWaveKeepsEachDeliverysOwnValuesInItsOrderAndEachSendsReference(backend: StoreBackend) async throws {
        let (clock, database, store) = try await Self.seeded(backend)
        var wave = ["s3", "s1", "s4", "s2"].map { Candidate(handle: $0, level: 3) }
        wave[0].expectedTimely = 0.9
        wave[2].expectedTimely = 0.25
        let question = NewQuestion(
            id: "q9", asker: .employee("ann"), topic: TopicReference(slug: "infra", name: "Infrastructure"), text: "Which CNI?",
            maxAnswers: 1, idempotencyKey: nil, callbackURL: nil, channel: .api, createdAt: clock.now(),
            expiresAt: clock.now().addingTimeInterval(3600))
        #expect(try await store.createQuestion(question, firstWave: wave, nextActionAt: clock.now()).deliveredTo == 4)
        let delivered = try await database.rows(
            """
            SELECT employee.handle, CAST(delivery.number AS TEXT), CAST(delivery.wave AS TEXT), delivery.publicId
            FROM delivery JOIN employee ON employee.id = delivery.specialistId ORDER BY delivery.id
            """)
        #expect(delivered.map { $0[0] } == ["s3", "s1", "s4", "s2"])
        #expect(delivered.map { $0[1] } == ["1", "2", "3", "4"] && delivered.allSatisfy { $0[2] == "1" })
        let context = try #require(try await store.waveContext(question: "q9"))
        #expect(context.pending.map(\.expectedTimely) == [0.9, nil, 0.25, nil])
        let deliveryIDs = delivered.map { $0[3] ?? "" }
        let logged = try await store.complianceEntries(since: .distantPast, until: nil)
        #expect(logged.map(\.kind) == ["question", "delivery", "delivery", "delivery", "delivery"])
        #expect(logged.dropFirst().map(\.deliveryID) == deliveryIDs.map { $0 })
        #expect(logged.allSatisfy { $0.questionID == "q9" && $0.text == "Which CNI?" })
        let ann = try await database.texts("SELECT CAST(id AS TEXT) FROM employee WHERE handle = 'ann'")
        #expect(logged.first?.sender == "employee:\(ann[0])")
        let outbox = try await store.pendingOutbox(now: clock.now(), limit: 50, excluding: [])
        let queued = outbox.compactMap { item -> String? in
            guard case .question(let message) = item.message else { return nil }
            return message.deliveryID
        }
        #expect(queued == deliveryIDs)
        #expect(outbox.map(\.message.destination) == ["s3", "s1", "s4", "s2"].map { "person:\($0)" })
        // Three of the four sends came back with a reference: each is kept with its own delivery, the fourth with none.
        let references = Dictionary(uniqueKeysWithValues: deliveryIDs.prefix(3).enumerated().map { ($1, "$event\($0)") })
        try await store.markOutboxSent(outbox.map(\.id), references: references, now: clock.now())
        let state = database.imState(clock: clock)
        for (delivery, event) in references { #expect(try await state.delivery(forMessageReference: event) == delivery) }
        #expect(try await database.count("SELECT count(*) FROM delivery WHERE imReference IS NULL") == 1)
        await database.close()
    }

    @Test(arguments: StoreBackend.available)
    func anExpiredQuestionTellsWhoeverStillHoldsIt(backend: StoreBackend) async throws {
        let (clock, database, store) = try await Self.seeded(backend)
        let question = NewQuestion(
            id: "q2", asker: .bot("bot"), topic: TopicReference(slug: "infra", name: "Infrastructure"), text: "?", maxAnswers: 1,
            idempotencyKey: nil, callbackURL: "http://bot.example/hook", channel: .api, createdAt: clock.now(),
            expiresAt: clock.now().addingTimeInterval(60))
        _ = try await store.createQuestion(question, firstWave: [Candidate(handle: "s1", level: 3)], nextActionAt: clock.now().addingTimeInterval(60))
        #expect(try await store.dueQuestions(now: clock.now(), limit: 10).isEmpty)
        clock.advance(by: 60)
        #expect(try await store.dueQuestions(now: clock.now(), limit: 10) == ["q2"])
        #expect(try await store.expireQuestion("q2", now: clock.now()))
        #expect(try await !store.expireQuestion("q2", now: clock.now()))
        #expect(try await store.dueQuestions(now: clock.now(), limit: 10).isEmpty)
        let messages = try await store.pendingOutbox(now: clock.now(), limit: 10, excluding: []).map(\.message)
        #expect(messages.count == 3)
        guard case .closed(let closed) = messages[1], case .callback(let callback) = messages[2] else {
            Issue.record("expected a close notice and a callback: \(messages)")
            return
        }
        #expect(closed.reason == .expired && closed.recipient.handle == "s1")
        #expect(callback.body == #"{"answers":0,"event":"closed","question":"q2","reason":"expired"}"#)
        let view = try await store.questionView("q2", for: .bot("bot"), isAdmin: false)
        #expect(view.status == .expired && view.closedAt == clock.now())
        await database.close()
    }

    /// An asker's questions page newest first, theirs only; a cursor naming someone else's question is refused. The
    /// reads beside them: a question by its idempotency key, and how long recent answers took.
    @Test(arguments: StoreBackend.available)
    func anAskersQuestionsPageNewestFirstAndAStrangersCursorIsRefused(backend: StoreBackend) async throws {
        let (clock, database, store) = try await Self.seeded(backend)
        let topic = TopicReference(slug: "infra", name: "Infrastructure")
        func ask(_ id: String, by asker: Asker, key: String? = nil) async throws {
            let question = NewQuestion(
                id: id, asker: asker, topic: topic, text: "Question \(id)?", maxAnswers: 1, idempotencyKey: key, callbackURL: nil, channel: .api,
                createdAt: clock.now(), expiresAt: clock.now().addingTimeInterval(3600))
            _ = try await store.createQuestion(question, firstWave: [Candidate(handle: "s1", level: 3)], nextActionAt: clock.now())
            clock.advance(by: 10)
        }
        for number in 1...5 { try await ask("q\(number)", by: .employee("ann")) }
        try await ask("q-bot", by: .bot("deploy-bot"), key: "nightly")

        var seen: [String] = []
        var page = PageRequest(limit: 2)
        var pages = 0
        repeat {
            let found = try await store.questions(askedBy: .employee("ann"), page: page)
            seen += found.items.map(\.id)
            page.after = found.next
            pages += 1
        } while page.after != nil && pages < 10
        #expect(seen == ["q5", "q4", "q3", "q2", "q1"] && pages == 3)
        await #expect(throws: InvalidCursor.self) {
            try await store.questions(askedBy: .employee("ann"), page: PageRequest(after: PageCursor(list: .questions, keys: ["q-bot"])))
        }
        #expect(try await store.questions(askedBy: .bot("deploy-bot"), page: PageRequest()).items.map(\.id) == ["q-bot"])
        #expect(try await store.question(askedBy: .bot("deploy-bot"), idempotencyKey: "nightly") == "q-bot")
        #expect(try await store.question(askedBy: .employee("ann"), idempotencyKey: "nightly") == nil)

        // s1 answers the first question 90 s after it was delivered.
        let delivery = try #require(try await store.inbox(of: "s1", page: PageRequest(limit: 10)).items.last)
        #expect(delivery.text == "Question q1?")
        _ = try await store.recordAnswer(
            delivery: delivery.id, by: "s1", text: "Yes.", labeling: AnswerLabeling(k: 5), now: delivery.deliveredAt.addingTimeInterval(90))
        // SQLite works it out from Julian days, a few microseconds off.
        let delays = try await store.recentAnswerDelays(limit: 10)
        #expect(delays.count == 1 && abs((delays.first ?? 0) - 90) < 0.01, "\(delays)")
        await database.close()
    }

    /// A specialist's inbox pages newest first (two deliveries made at one moment in the order they were made), each
    /// delivery with its thread and where revealing stands; a cursor naming someone else's delivery is refused, and a
    /// handle nobody has is an error. Nothing delivered yet is an empty page.
    @Test(arguments: StoreBackend.available)
    func aSpecialistsInboxPagesNewestFirstWithItsThreadsAndAStrangersCursorIsRefused(backend: StoreBackend) async throws {
        let (clock, database, store) = try await Self.seeded(backend)
        #expect(try await store.inbox(of: "s1", page: PageRequest()).items.isEmpty)
        for number in 1...5 {
            let question = NewQuestion(
                id: "q\(number)", asker: .employee("ann"), topic: TopicReference(slug: "infra", name: "Infrastructure"),
                text: "Question q\(number)?", maxAnswers: 2, idempotencyKey: nil, callbackURL: nil, channel: .api, createdAt: clock.now(),
                expiresAt: clock.now().addingTimeInterval(3600))
            _ = try await store.createQuestion(
                question, firstWave: [Candidate(handle: "s1", level: 3), Candidate(handle: "s2", level: 3)], nextActionAt: clock.now())
            // The third and fourth at one moment.
            if number != 3 { clock.advance(by: 10) }
        }

        var seen: [String] = []
        var page = PageRequest(limit: 2)
        var pages = 0
        repeat {
            let found = try await store.inbox(of: "s1", page: page)
            seen += found.items.map(\.text)
            page.after = found.next
            pages += 1
        } while page.after != nil && pages < 10
        #expect(seen == ["Question q5?", "Question q4?", "Question q3?", "Question q2?", "Question q1?"] && pages == 3)

        // s1 answers the first question; its asker follows up in the thread and offers to reveal.
        let first = try #require(try await store.inbox(of: "s1", page: PageRequest()).items.last)
        let answered = try await store.recordAnswer(delivery: first.id, by: "s1", text: "Yes.", labeling: AnswerLabeling(k: 5), now: clock.now())
        let rank = try #require(answered.relayed?.rank)
        _ = try await store.recordFollowUp(
            by: .asker(.employee("ann"), question: "q1", rank: rank), text: "Which node?", openFor: 86_400, now: clock.now())
        _ = try await store.reveal(.offer, question: "q1", rank: rank, by: .employee("ann"), now: clock.now())
        let items = try await store.inbox(of: "s1", page: PageRequest()).items
        let thread = try #require(items.first { $0.id == first.id })
        #expect(thread.state == .answered && thread.rank == rank && thread.reveal == RevealView(state: .invited))
        #expect(thread.followUps.map(\.text) == ["Which node?"] && thread.followUps.map(\.alias) == ["the asker"])
        #expect(items.filter { $0.id != first.id }.allSatisfy { $0.state == .pending && $0.rank == nil && $0.reveal == nil && $0.followUps.isEmpty })

        let strangers = try #require(try await store.inbox(of: "s2", page: PageRequest()).items.first).id
        await #expect(throws: InvalidCursor.self) {
            try await store.inbox(of: "s1", page: PageRequest(after: PageCursor(list: .inbox, keys: [strangers])))
        }
        await #expect(throws: DirectoryError.employeeNotFound("nobody")) { try await store.inbox(of: "nobody", page: PageRequest()) }
        await database.close()
    }
}
