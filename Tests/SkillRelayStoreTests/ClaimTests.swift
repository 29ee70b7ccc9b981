import Foundation
import PostgresNIO
import SkillRelayDomain
import SkillRelayTestSupport
import Testing

@testable import SkillRelayPostgres

/// Several instances on one PostgreSQL: outbox messages and due questions are claimed with a lease, so two instances
/// draining at once never take the same one, and a claim whose instance died is taken up once its lease is over.
@Suite(.enabled(if: TestPostgres.serverURL != nil, "needs SKILLRELAY_TEST_POSTGRES_URL"))
struct ClaimTests {
    /// Two handles (two pools, as two instances have) on one fresh database.
    static func twoInstances() async throws -> (PostgresAppDatabase, PostgresAppDatabase) {
        let first = try await TestPostgres.freshDatabase()
        do {
            return (first, try await PostgresAppDatabase.open(url: first.location.url, logger: TestPostgres.logger, maximumConnections: 4))
        } catch {
            await first.close()
            throw error
        }
    }

    static func message(_ number: Int, to handle: String) -> OutboxMessage {
        .question(
            QuestionMessage(
                deliveryID: "d\(number)", recipient: Recipient(handle: handle, imID: nil), topic: TopicReference(slug: "infra", name: "Infra"),
                text: "?", maxAnswers: 1))
    }

    /// The topic `question` asks about.
    static func addTopic(on database: PostgresAppDatabase, now: Date) async throws {
        try await database.write { connection in
            try await connection.query(
                "INSERT INTO topic (slug, name, createdAt, updatedAt) VALUES ('infra', 'Infra', \(now), \(now))", logger: TestPostgres.logger)
        }
    }

    /// A bot's question on the topic `addTopic` adds, open for an hour from `now`.
    static func question(_ id: String, now: Date) -> NewQuestion {
        NewQuestion(
            id: id, asker: .bot("bot"), topic: TopicReference(slug: "infra", name: "Infra"), text: "?", maxAnswers: 1, idempotencyKey: nil,
            callbackURL: nil, channel: .api, createdAt: now, expiresAt: now.addingTimeInterval(3600))
    }

    static func enqueue(_ messages: [OutboxMessage], on database: PostgresAppDatabase, now: Date) async throws {
        try await database.write { connection in
            for message in messages { try await PostgresQuestionStore.enqueue(connection, message, now: now) }
        }
    }

    @Test func twoInstancesDrainingTheSameOutboxAtOnceNeverGetOneMessageTwice() async throws {
        let (first, second) = try await Self.twoInstances()
        let clock = TestClock()
        let messages = (0..<300).map { Self.message($0, to: "p\($0 % 40)") }
        try await Self.enqueue(messages, on: first, now: clock.now())
        let stores = [PostgresQuestionStore(database: first, clock: clock), PostgresQuestionStore(database: second, clock: clock)]
        // Each instance drains a few at a time and marks what it got as sent, until nothing is left unsent.
        let taken = try await withThrowingTaskGroup(of: [(id: Int64, destination: String)].self) { group in
            for store in stores {
                group.addTask {
                    var mine: [(id: Int64, destination: String)] = []
                    while true {
                        let items = try await store.pendingOutbox(now: clock.now(), limit: 7, excluding: [])
                        if items.isEmpty {
                            // The other instance may hold a destination's earlier messages: wait until everything is sent.
                            guard try await store.nextDueTime() != nil else { break }
                            try await Task.sleep(for: .milliseconds(2))
                            continue
                        }
                        mine += items.map { ($0.id, $0.message.destination) }
                        try await store.markOutboxSent(items.map(\.id), references: [:], now: clock.now())
                    }
                    return mine
                }
            }
            var all: [[(id: Int64, destination: String)]] = []
            for try await taken in group { all.append(taken) }
            return all
        }
        await first.close()
        await second.close()
        let (one, other) = (taken[0].map(\.id), taken[1].map(\.id))
        #expect(!one.isEmpty && !other.isEmpty, "both instances drained: \(one.count) and \(other.count)")
        #expect(Set(one).isDisjoint(with: other))
        #expect(one.count + other.count == messages.count)
        #expect(Set(one + other).count == messages.count)
        // Each instance got each destination's messages in queueing order.
        for instance in taken {
            for destination in Set(instance.map(\.destination)) {
                let ids = instance.filter { $0.destination == destination }.map(\.id)
                #expect(ids == ids.sorted())
            }
        }
    }

    @Test func aClaimThatIsNeverMarkedIsTakenUpByAnotherInstanceAfterItsLease() async throws {
        let (first, second) = try await Self.twoInstances()
        let clock = TestClock()
        try await Self.enqueue([Self.message(1, to: "alice"), Self.message(2, to: "alice"), Self.message(3, to: "bob")], on: first, now: clock.now())
        let dead = PostgresQuestionStore(database: first, clock: clock)
        let survivor = PostgresQuestionStore(database: second, clock: clock)
        // The first instance claims alice's first message only, and dies without marking it.
        let claimed = try await dead.pendingOutbox(now: clock.now(), limit: 1, excluding: [])
        #expect(claimed.map(\.message.destination) == ["person:alice"])
        // Meanwhile the other sees neither that message nor alice's next one (it must wait behind it), only bob's.
        let bobs = try await survivor.pendingOutbox(now: clock.now(), limit: 10, excluding: [])
        #expect(bobs.map(\.message.destination) == ["person:bob"])
        try await survivor.markOutboxSent(bobs.map(\.id), references: [:], now: clock.now())
        clock.advance(by: PostgresQuestionStore.claimLease - 1)
        #expect(try await survivor.pendingOutbox(now: clock.now(), limit: 10, excluding: []).isEmpty)
        // The lease is over: alice's messages go to the survivor, in order, and no longer to the instance that lapsed.
        clock.advance(by: 2)
        let takenUp = try await survivor.pendingOutbox(now: clock.now(), limit: 10, excluding: [])
        #expect(takenUp.map(\.message) == [Self.message(1, to: "alice"), Self.message(2, to: "alice")])
        #expect(takenUp.first?.id == claimed.first?.id)
        #expect(try await dead.pendingOutbox(now: clock.now(), limit: 10, excluding: []).isEmpty)
        // Marked sent, nothing is due any more.
        try await survivor.markOutboxSent(takenUp.map(\.id), references: [:], now: clock.now())
        #expect(try await survivor.pendingOutbox(now: clock.now().addingTimeInterval(3600), limit: 10, excluding: []).isEmpty)
        await first.close()
        await second.close()
    }

    /// A send that outlasts the lease it was claimed with (a slow room, a homeserver's rate limit, a hanging callback
    /// URL): its worker renews the claim while it runs, so another instance never takes the message up and sends it again.
    @Test func aSendThatOutlastsItsLeaseKeepsItsClaimSoNoOtherInstanceSendsItAgain() async throws {
        let (first, second) = try await Self.twoInstances()
        let clock = TestClock()
        try await Self.enqueue([Self.message(1, to: "alice")], on: first, now: clock.now())
        let sending = PostgresQuestionStore(database: first, clock: clock)
        let other = PostgresQuestionStore(database: second, clock: clock)
        let messenger = OutboxDispatcherTests.RecordingMessenger()
        let gate = GatedMessenger(messenger, open: false)
        let dispatcher = OutboxDispatcher(
            store: sending, messenger: gate, callbacks: FakeCallbackSender(), clock: clock, claimRenewal: .milliseconds(20))
        #expect(try await dispatcher.drain() == 1)
        // The send hangs until just before the lease would end, and the worker renews the claim from then on.
        clock.advance(by: PostgresQuestionStore.claimLease - 1)
        let renewedUntil = clock.now().addingTimeInterval(PostgresQuestionStore.claimLease - 0.001)
        let deadline = ContinuousClock.now + .seconds(60)
        var claimedUntil: Date?
        while ContinuousClock.now < deadline {
            claimedUntil = try await first.read { connection in
                try await PostgresQuestionStore.rows(connection, "SELECT claimedUntil FROM outbox").first?.decode(Date?.self)
            }
            if let claimedUntil, claimedUntil >= renewedUntil { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(try #require(claimedUntil) >= renewedUntil, "the hanging send's claim was renewed")
        // Past the lease it was first claimed with, the other instance still leaves it alone.
        clock.advance(by: 2)
        #expect(try await other.pendingOutbox(now: clock.now(), limit: 10, excluding: []).isEmpty)
        // The send goes through and the next drain marks it: sent once, and nothing is left for either instance.
        gate.setOpen(true)
        await dispatcher.idle()
        #expect(try await dispatcher.drain() == 0)
        #expect(messenger.sent.withLock { $0 } == ["question d1"])
        let muchLater = clock.now().addingTimeInterval(3600)
        #expect(try await other.pendingOutbox(now: muchLater, limit: 10, excluding: []).isEmpty)
        #expect(try await sending.pendingOutbox(now: muchLater, limit: 10, excluding: []).isEmpty)
        await first.close()
        await second.close()
    }

    @Test func anInstanceReadsItsOwnUnmarkedClaimsAgainAsSQLiteWould() async throws {
        let database = try await TestPostgres.freshDatabase()
        let clock = TestClock()
        try await Self.enqueue([Self.message(1, to: "alice"), Self.message(2, to: "bob")], on: database, now: clock.now())
        let store = PostgresQuestionStore(database: database, clock: clock)
        let once = try await store.pendingOutbox(now: clock.now(), limit: 10, excluding: [])
        // A drain whose workers took only alice's message: bob's comes back on the next drain.
        try await store.markOutboxSent([once[0].id], references: [:], now: clock.now())
        #expect(try await store.pendingOutbox(now: clock.now(), limit: 10, excluding: []).map(\.id) == [once[1].id])
        await database.close()
    }

    @Test func aFailedMessageReleasesTheClaimsQueuedBehindIt() async throws {
        let database = try await TestPostgres.freshDatabase()
        let clock = TestClock()
        try await Self.enqueue([Self.message(1, to: "alice"), Self.message(2, to: "alice")], on: database, now: clock.now())
        let store = PostgresQuestionStore(database: database, clock: clock)
        let claimed = try await store.pendingOutbox(now: clock.now(), limit: 10, excluding: [])
        #expect(claimed.count == 2)
        // Given up on the first: the second is due at once, as with SQLite, not after a lease.
        try await store.markOutboxFailed(claimed[0].id, error: "gone", retryAt: nil)
        let other = PostgresQuestionStore(database: database, clock: clock)
        #expect(try await other.pendingOutbox(now: clock.now(), limit: 10, excluding: []).map(\.id) == [claimed[1].id])
        await database.close()
    }

    /// A claim reads in proportion to what it claims, not to how far behind the outbox is, even when PostgreSQL plans
    /// it from the statistics of an empty outbox (a new deployment or a fresh copy, until autovacuum looks again): the
    /// due messages in order as far as it claims, and of the others only those that wait, however its reads are planned.
    @Test func aClaimReadsWhatItClaimsWhateverTheStatistics() async throws {
        let database = try await TestPostgres.freshDatabase()
        let clock = TestClock()
        try await database.write { connection in _ = try await connection.query("ANALYZE outbox", logger: TestPostgres.logger) }
        let unsent = 2000
        try await Self.enqueue((0..<unsent).map { Self.message($0, to: "p\($0 % 20)") }, on: database, now: clock.now())
        let claim = PostgresQuestionStore.outboxClaim(now: clock.now(), limit: 200, mine: [], excluding: [])
        let (claimed, read) = try await database.transaction(holding: nil) { connection in
            // What the claim read of `outbox`, as PostgreSQL counts it: the entries of each of its indexes, and the rows
            // of any sequential scan.
            try await PostgresIndexReads.entries(
                of: ["outbox_pkey", "outboxDueById", "outboxPending", "outboxClaimed", "outbox"], on: connection
            ) { try await connection.rows(claim).count }
        }
        #expect(claimed == 200)
        // The first 200 unsent messages in order, and the 200 claimed by primary key: some 400 entries, where a
        // held-back check planned as a join, or as a scan of every unsent message for each one considered, read all
        // 2000 for each of the 200.
        #expect(read >= 2 * claimed, "the claim did not read what it claimed")
        // Nothing waits here, so deciding what is held back reads nothing more: not the 2000 unsent messages again.
        #expect(read < 3 * claimed, "read \(read) entries to decide which of \(unsent) messages are held back")
        await database.close()
    }

    /// An instance stopped cleanly (SIGTERM, as in a rolling restart) while a send hangs gives back its claims on
    /// what it did not finish, outbox messages and due questions: another instance takes them up at once, not a lease
    /// later, and nothing the stopped instance sent is sent again.
    @Test func anInstanceStoppedCleanlyGivesItsClaimsBackAndTheOtherTakesThemUpAtOnce() async throws {
        let (first, second) = try await Self.twoInstances()
        let clock = TestClock()
        try await Self.enqueue([Self.message(1, to: "alice"), Self.message(2, to: "bob"), Self.message(3, to: "bob")], on: first, now: clock.now())
        try await Self.addTopic(on: first, now: clock.now())
        let stopping = PostgresQuestionStore(database: first, clock: clock)
        let other = PostgresQuestionStore(database: second, clock: clock)
        _ = try await stopping.createQuestion(Self.question("q1", now: clock.now()), firstWave: [], nextActionAt: clock.now())
        // The instance that stops holds the due question (its tick was cut off) and, through its drain, every message:
        // alice's goes out, and bob's first hangs with his second behind it.
        #expect(try await stopping.dueQuestions(now: clock.now(), limit: 10) == ["q1"])
        let messenger = OutboxDispatcherTests.HangingMessenger(hanging: ["bob"])
        let pump = OutboxPump(
            dispatcher: OutboxDispatcher(store: stopping, messenger: messenger, callbacks: FakeCallbackSender(), clock: clock, imConcurrency: 2))
        await pump.kick()
        try await messenger.events.wait(within: 60, "alice's sent and bob's hanging") { Set($0) == ["sent d1", "hanging d2"] }
        #expect(try await other.pendingOutbox(now: clock.now(), limit: 10, excluding: []).isEmpty)
        #expect(try await other.dueQuestions(now: clock.now(), limit: 10).isEmpty)

        try await pump.stop(grace: .milliseconds(50))
        try await stopping.releaseClaims(now: clock.now())
        // At the same moment, long before any lease would end: the other instance takes up what was left, in order,
        // and not alice's message, which was recorded as sent.
        let takenUp = try await other.pendingOutbox(now: clock.now(), limit: 10, excluding: [])
        #expect(takenUp.map(\.message) == [Self.message(2, to: "bob"), Self.message(3, to: "bob")])
        #expect(takenUp.map(\.attempts) == [0, 0])
        #expect(try await other.dueQuestions(now: clock.now(), limit: 10) == ["q1"])
        #expect(messenger.recording.sent.withLock { $0 } == ["question d1"])
        await first.close()
        await second.close()
    }

    @Test func twoInstancesNeverClaimOneDueQuestionAndWavesAndExpiriesClearTheClaim() async throws {
        let (first, second) = try await Self.twoInstances()
        let clock = TestClock()
        try await Self.addTopic(on: first, now: clock.now())
        let one = PostgresQuestionStore(database: first, clock: clock)
        let other = PostgresQuestionStore(database: second, clock: clock)
        var ids: [String] = []
        for number in 0..<40 {
            let question = Self.question("q\(number)", now: clock.now())
            ids.append(try await one.createQuestion(question, firstWave: [], nextActionAt: clock.now().addingTimeInterval(Double(number))).id)
        }
        clock.advance(by: 60)
        async let fromOne = one.dueQuestions(now: clock.now(), limit: 25)
        async let fromOther = other.dueQuestions(now: clock.now(), limit: 25)
        let (a, b) = try await (fromOne, fromOther)
        #expect(Set(a).isDisjoint(with: b))
        #expect(Set(a + b) == Set(ids))
        // Each in due order.
        #expect(a == ids.filter(a.contains))
        // Recording a wave (none to send: the next try later) and expiring clear the claims.
        let later = clock.now().addingTimeInterval(10)
        #expect(try await one.recordWave(question: a[0], after: 0, to: [], nextActionAt: later, now: clock.now()) != nil)
        #expect(try await one.expireQuestion(a[1], now: clock.now()))
        // The other instance gets its own unhandled claims again (as SQLite's read would) and the question whose wave was
        // recorded, none of those the first still holds, nor the expired one.
        let dueLater = try await other.dueQuestions(now: later, limit: 100)
        #expect(Set(dueLater) == Set(b + [a[0]]))
        await first.close()
        await second.close()
    }
}
