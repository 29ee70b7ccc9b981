import Foundation
import Logging
import PostgresNIO
import SkillRelayDomain
import SkillRelayTestSupport
import Synchronization
import Testing

@testable import SkillRelayPostgres

/// Two instances on one PostgreSQL: two handles on one test database, as two processes would have.
@Suite("PostgreSQL: several instances share one lead, one event stream, one rate", .enabled(if: TestPostgres.serverURL != nil))
struct SeveralInstancesTests {
    /// How long a test waits for what should happen within seconds: generous, since the machine is shared.
    static let deadline = 60.0

    // MARK: - Leadership

    @Test func exactlyOneOfTwoLeadsAndTheOtherTakesOverWhenTheLeaderCloses() async throws {
        let (first, second) = try await Self.twoInstances()
        let log = CapturedLog()
        let leads = Recorded<Lead>()
        let instances = [first, second]
        let tasks = instances.enumerated().map { index, database in
            let leadership = PostgresLeadership(
                database: database, retryInterval: .milliseconds(300), checkInterval: .seconds(1), logger: log.logger(instance: index))
            return Task { try await leadership.whileLeading("the test's work") { await Self.lead(as: index, recordingIn: leads) } }
        }
        try await leads.wait(within: Self.deadline, "a leader") { $0.contains { $0.began } }
        let leader = try #require(leads.all.first).instance
        let standby = 1 - leader
        // The other has tried and found the lead taken: from then on it stands by.
        try await log.messages.wait(within: Self.deadline, "the other standing by") {
            $0.contains { $0.instance == standby && $0.text == "another instance leads the test's work; standing by" }
        }
        #expect(leads.all == [Lead(instance: leader, began: true)])

        await instances[leader].close()
        try await leads.wait(within: Self.deadline, "the other leading") { $0.contains { $0 == Lead(instance: standby, began: true) } }
        try await leads.wait(within: Self.deadline, "the closed leader's work stopping") {
            $0.contains { $0 == Lead(instance: leader, began: false) }
        }
        // The closed instance does not stand by on a database it no longer has.
        await #expect(throws: PostgresDatabaseClosed.self) { try await tasks[leader].value }
        #expect(leads.all.filter(\.began).map(\.instance) == [leader, standby])

        tasks[standby].cancel()
        try await tasks[standby].value
        await instances[standby].close()
    }

    @Test func whenTheLeadersSessionIsKilledItsWorkStopsAndTheOtherLeads() async throws {
        let (first, second) = try await Self.twoInstances()
        let log = CapturedLog()
        let leads = Recorded<Lead>()
        // The first leads before the second starts; once it lost the lead it waits a minute before trying again, so
        // that the second's taking over is what this test sees.
        let leading = PostgresLeadership(database: first, retryInterval: .seconds(60), checkInterval: .seconds(1), logger: log.logger(instance: 0))
        let firstTask = Task { try await leading.whileLeading("the test's work") { await Self.lead(as: 0, recordingIn: leads) } }
        try await leads.wait(within: Self.deadline, "the first leading") { $0 == [Lead(instance: 0, began: true)] }
        let standing = PostgresLeadership(
            database: second, retryInterval: .milliseconds(300), checkInterval: .seconds(1), logger: log.logger(instance: 1))
        let secondTask = Task { try await standing.whileLeading("the test's work") { await Self.lead(as: 1, recordingIn: leads) } }
        try await log.messages.wait(within: Self.deadline, "the second standing by") { $0.contains { $0.instance == 1 } }

        let killed = try await second.read { connection in
            var killed: [Int32] = []
            let rows = try await connection.query(
                """
                SELECT pg_terminate_backend(locks.pid), locks.pid FROM pg_locks AS locks JOIN pg_stat_activity AS activity USING (pid)
                WHERE locks.locktype = 'advisory' AND locks.granted AND locks.objsubid = 2 AND activity.datname = current_database()
                """, logger: TestPostgres.logger)
            for try await (done, pid) in rows.decode((Bool, Int32).self) where done { killed.append(pid) }
            return killed
        }
        #expect(killed.count == 1)

        try await leads.wait(within: Self.deadline, "the first's work stopping") { $0.contains { $0 == Lead(instance: 0, began: false) } }
        try await leads.wait(within: Self.deadline, "the second leading") { $0.contains { $0 == Lead(instance: 1, began: true) } }
        try await log.messages.wait(within: Self.deadline, "the first saying it lost the lead") {
            $0.contains { $0.instance == 0 && $0.text.hasPrefix("lost the lead of the test's work") }
        }

        firstTask.cancel()
        secondTask.cancel()
        await #expect(throws: CancellationError.self) { try await firstTask.value }
        try await secondTask.value
        await first.close()
        await second.close()
    }

    // MARK: - Live events

    @Test func anEventPublishedOnOneInstanceReachesEveryStreamOnce() async throws {
        let (first, second) = try await Self.twoInstances()
        let log = CapturedLog()
        let (_, events, running) = await Self.relaying(first, second, log: log)

        let here = Received(events[0].askerEvents(question: "q-1"))
        let there = Received(events[1].askerEvents(question: "q-1"))
        let inboxThere = Received(events[1].inboxEvents(handle: "kube.specialist.01"))
        let large = RelayedAnswer(
            rank: 1, alias: "specialist 1", label: AnswererLabel(topic: "kubernetes", level: 4, band: nil),
            text: String(repeating: "Drain the node first, then cordon it. ", count: 400), receivedAt: Date(timeIntervalSince1970: 1_800_000_000.25))
        let item = InboxItem(
            id: "d-1", topic: TopicReference(slug: "kubernetes", name: "Kubernetes"), text: "How do I drain a node?", state: .pending,
            questionStatus: .open, deliveredAt: Date(timeIntervalSince1970: 1_800_000_000))
        events[0].publish(.wave(number: 1, deliveredTo: 3), question: "q-1")
        events[0].publish(.answer(large), question: "q-1")
        events[0].publish(.delivered(item), handle: "kube.specialist.01")
        // The last event is the marker: whatever came twice would come before it.
        events[0].publish(.closed(.answered), question: "q-1")
        events[0].publish(.closed(deliveryID: "d-1", reason: .answered), handle: "kube.specialist.01")

        let expected: [AskerEvent] = [.wave(number: 1, deliveredTo: 3), .answer(large), .closed(.answered)]
        #expect(try await here.first(3) == expected)
        #expect(try await there.first(3) == expected)
        #expect(try await inboxThere.first(2) == [.delivered(item), .closed(deliveryID: "d-1", reason: .answered)])
        // The large answer went by way of the table.
        #expect(try await Self.storedEvents(in: second) == 1)

        // And the other way round. Notifications arrive in the order they were sent, so this is also what shows that
        // the first instance's events did not come back to its own streams: an echo would come before these.
        events[1].publish(.wave(number: 2, deliveredTo: 5), question: "q-1")
        events[1].publish(.closed(.expired), question: "q-1")
        #expect(try await here.first(2) == [.wave(number: 2, deliveredTo: 5), .closed(.expired)])
        #expect(try await there.first(2) == [.wave(number: 2, deliveredTo: 5), .closed(.expired)])

        for task in running { task.cancel() }
        await first.close()
        await second.close()
    }

    /// Once it listens again, the relay tells every stream on its instance that it may have missed events: an asker's
    /// stream reads the question again, an inbox stream ends for its follower to read the inbox again.
    @Test func aRelayWhoseConnectionDropsListensAgainAndSaysSo() async throws {
        let (first, second) = try await Self.twoInstances()
        let log = CapturedLog()
        let (relays, events, running) = await Self.relaying(first, second, log: log)
        let listening = relays[1]
        let there = Received(events[1].askerEvents(question: "q-2"))
        let updates = Received(events[1].askerUpdates(question: "q-2"))
        let inbox = CollectedEvents(events[1].inboxEvents(handle: "kube.specialist.01"))

        let killed = try await first.read { connection in
            var count = 0
            let rows = try await connection.query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = \("skillrelay events \(listening.instanceID)")",
                logger: TestPostgres.logger)
            for try await done in rows.decode(Bool.self) where done { count += 1 }
            return count
        }
        #expect(killed == 1)
        try await withDeadline(seconds: Self.deadline, "the relay listening again") { await listening.waitUntilListening(times: 2) }
        #expect(log.messages.all.contains { $0.instance == 1 && $0.text.hasPrefix("the live event relay lost its PostgreSQL connection") })
        #expect(log.messages.all.contains { $0.instance == 1 && $0.text == "the live event relay listens again" })

        #expect(try await updates.first(1) == [.mayHaveMissed(.all)])
        try await inbox.ended.wait(within: Self.deadline, "the inbox stream ending") { !$0.isEmpty }

        events[0].publish(.wave(number: 1, deliveredTo: 2), question: "q-2")
        #expect(try await there.first(1) == [.wave(number: 1, deliveredTo: 2)])
        #expect(try await updates.first(1) == [.event(.wave(number: 1, deliveredTo: 2))])

        for task in running { task.cancel() }
        await first.close()
        await second.close()
    }

    /// An instance killed between committing a change and notifying it takes the notification with it. The others see
    /// its listening connection go away without a farewell and tell their streams: an asker stream reads its question
    /// again; an inbox stream goes on (what the outbox sends, another instance sends again) and reads the inbox again
    /// for the reveal states and follow-ups it has not shown. Here the first instance's database closes under its
    /// running relay, as a kill would leave it.
    @Test func whenAnotherInstanceStopsListeningWithoutAFarewellTheStreamsAreTold() async throws {
        let (first, second) = try await Self.twoInstances()
        let log = CapturedLog()
        let (_, events, running) = try await Self.watching(first, second, log: log)
        let updates = Received(events[1].askerUpdates(question: "q-5"))
        // The inbox as read when the stream begins, then as read again: a reveal offer and a follow-up since.
        let reads = Mutex(0)
        var item = InboxItem(
            id: "d-5", topic: TopicReference(slug: "kubernetes", name: "Kubernetes"), text: "How do I drain a node?", state: .answered,
            questionStatus: .answered, deliveredAt: Date(timeIntervalSince1970: 1_800_000_000), rank: 1, reveal: RevealView.none)
        let before = item
        let followUp = FollowUp(rank: 1, from: .asker, alias: "the asker", text: "Thanks!", sentAt: Date(timeIntervalSince1970: 1_800_000_060))
        item.reveal = RevealView(state: .invited)
        item.followUps = [followUp]
        let after = item
        let inbox = Received(
            try await events[1].inboxEvents(
                handle: "kube.specialist.01",
                readingInbox: {
                    let count = reads.withLock { count in
                        count += 1
                        return count
                    }
                    return count == 1 ? [before] : [after]
                }))

        await first.close()
        #expect(try await updates.first(1) == [.mayHaveMissed(.publishedByStoppedInstance)])
        let missed: [InboxEvent] = [.reveal(deliveryID: "d-5", rank: 1, RevealView(state: .invited)), .followUp(deliveryID: "d-5", followUp)]
        #expect(try await inbox.first(2) == missed)
        #expect(reads.withLock { $0 } == 2)
        #expect(
            log.messages.all.contains {
                $0.instance == 1 && $0.text.hasPrefix("another instance stopped listening for live events without a farewell")
            })

        for task in running { task.cancel() }
        await second.close()
    }

    /// An instance that stops cleanly notifies what it still had, then its farewell, before its listening connection
    /// closes: the others' streams lose nothing, and no asker stream reads its question again. The check that finds
    /// its listener gone has heard the farewell by the time it decides, however late the notification came.
    @Test func anInstanceThatStopsCleanlySaysFarewellAndTheStreamsElsewhereGoOn() async throws {
        let (first, second) = try await Self.twoInstances()
        let log = CapturedLog()
        let (relays, events, running) = try await Self.watching(first, second, log: log)
        let updates = Received(events[1].askerUpdates(question: "q-6"))
        let inbox = Received(events[1].inboxEvents(handle: "kube.specialist.01"))

        events[0].publish(.wave(number: 1, deliveredTo: 3), question: "q-6")
        running[0].cancel()
        _ = await running[0].result
        await first.close()
        try await withDeadline(seconds: Self.deadline, "the second seeing the first gone") {
            await relays[1].waitUntilNotSeeing(instance: relays[0].instanceID)
        }
        #expect(log.messages.all.contains { $0.instance == 1 && $0.text == "another instance stopped after telling the others everything" })
        #expect(!log.messages.all.contains { $0.instance == 1 && $0.text.hasPrefix("another instance stopped listening") })

        events[1].publish(.closed(.expired), question: "q-6")
        events[1].publish(.closed(deliveryID: "d-6", reason: .expired), handle: "kube.specialist.01")
        #expect(try await updates.first(2) == [.event(.wave(number: 1, deliveredTo: 3)), .event(.closed(.expired))])
        #expect(try await inbox.first(1) == [.closed(deliveryID: "d-6", reason: .expired)])

        running[1].cancel()
        await second.close()
    }

    /// An instance that could not notify every event it published says no farewell when it stops, so that the others'
    /// asker streams read their questions again. Here more events waited than the relay keeps, and the oldest was
    /// dropped.
    @Test func anInstanceThatLostAnEventSaysNoFarewell() async throws {
        let (first, second) = try await Self.twoInstances()
        let log = CapturedLog()
        let (_, events, running) = try await Self.watching(first, second, log: log) { relays in
            for number in 0...PostgresEventRelay.waitingLimit {
                relays[0].forward(.asker(question: "q-flood", .wave(number: number, deliveredTo: 1)))
            }
        }
        let updates = Received(events[1].askerUpdates(question: "q-7"))

        running[0].cancel()
        _ = await running[0].result
        await first.close()
        #expect(try await updates.first(1) == [.mayHaveMissed(.publishedByStoppedInstance)])
        #expect(
            log.messages.all.contains {
                $0.instance == 1 && $0.text.hasPrefix("another instance stopped listening for live events without a farewell")
            })

        running[1].cancel()
        await second.close()
    }

    /// What the outbox sends (the `local` IM's messages) is handed to the other instances before the send returns, by
    /// the caller itself: the relay's background sender never runs here, and the sending instance closes the moment
    /// the send returned, as one killed right after marking the message sent would. Where the database cannot be
    /// reached, the send says so, and the outbox sends the message again.
    @Test func anEventSentHasReachedTheOtherInstancesWhenTheSendReturns() async throws {
        let (first, second) = try await Self.twoInstances()
        let log = CapturedLog()
        let sending = PostgresEventRelay(database: first, logger: log.logger(instance: 0))
        let listening = PostgresEventRelay(database: second, logger: log.logger(instance: 1))
        let events = QuestionEvents(relay: listening)
        let running = Task { try await events.relayEvents() }
        await listening.waitUntilListening()
        let inbox = Received(events.inboxEvents(handle: "kube.specialist.01"))
        let item = InboxItem(
            id: "d-9", topic: TopicReference(slug: "kubernetes", name: "Kubernetes"), text: "How do I drain a node?", state: .pending,
            questionStatus: .open, deliveredAt: Date(timeIntervalSince1970: 1_800_000_000))

        try await sending.send(.inbox(handle: "kube.specialist.01", .delivered(item)))
        await first.close()
        #expect(try await inbox.first(1) == [.delivered(item)])
        await #expect(throws: (any Error).self) {
            try await sending.send(.inbox(handle: "kube.specialist.01", .closed(deliveryID: "d-9", reason: .answered)))
        }

        running.cancel()
        await second.close()
    }

    /// An answer's events are published as it is recorded and notified by the relay's sender in the background; the
    /// request waits for them (`flush`) before it answers, so an instance killed right after it answered does not take
    /// them with it. Here the sending instance closes the moment the flush returned. A relay whose sender does not run
    /// holds a request up no longer than the limit.
    @Test func aFlushReturnsOnceWhatWasForwardedHasReachedTheOtherInstances() async throws {
        let (first, second) = try await Self.twoInstances()
        let log = CapturedLog()
        let (_, events, running) = await Self.relaying(first, second, log: log)
        let there = Received(events[1].askerEvents(question: "q-3"))

        let published: [AskerEvent] = (1...20).map { .wave(number: $0, deliveredTo: $0) }
        for event in published { events[0].publish(event, question: "q-3") }
        await events[0].handedOn(within: .seconds(Self.deadline))
        running[0].cancel()
        await first.close()
        #expect(try await there.first(published.count) == published)

        let idle = PostgresEventRelay(database: second, logger: log.logger(instance: 2))
        idle.forward(.asker(question: "q-3", .closed(.answered)))
        try await withDeadline(seconds: Self.deadline, "a flush with nobody sending") { await idle.flush(within: .milliseconds(100)) }

        running[1].cancel()
        await second.close()
    }

    /// Events forwarded while the relay's sender is busy wait, and go together in one statement: in order, and an
    /// event forwarded twice arrives twice (PostgreSQL delivers identical notifications of one transaction once, so
    /// each carries its number). Here the sender is not running yet when they are forwarded.
    @Test func eventsWaitingTogetherAreNotifiedInOneStatementInOrder() async throws {
        let (first, second) = try await Self.twoInstances()
        let log = CapturedLog()
        let sending = PostgresEventRelay(database: first, logger: log.logger(instance: 0))
        let listening = PostgresEventRelay(database: second, logger: log.logger(instance: 1))
        let there = QuestionEvents(relay: listening)
        let listeningTask = Task { try await there.relayEvents() }
        await listening.waitUntilListening()
        let received = Received(there.askerEvents(question: "q-4"))

        let published: [AskerEvent] =
            [.wave(number: 1, deliveredTo: 3), .closed(.expired), .wave(number: 1, deliveredTo: 3)]
            + (2...40).map { .wave(number: $0, deliveredTo: $0) }
        for event in published { sending.forward(.asker(question: "q-4", event)) }
        let sendingTask = Task { try await QuestionEvents(relay: sending).relayEvents() }
        await sending.flush(within: .seconds(Self.deadline))
        #expect(try await received.first(published.count) == published)
        #expect(sending.notifyingStatements.withLock { $0 } == 1)

        sendingTask.cancel()
        listeningTask.cancel()
        await first.close()
        await second.close()
    }

    // MARK: - Helpers

    /// A fresh database, and a second handle on it: two instances.
    static func twoInstances() async throws -> (PostgresAppDatabase, PostgresAppDatabase) {
        let first = try await TestPostgres.freshDatabase()
        let second = try await PostgresAppDatabase.open(url: first.location.url, logger: TestPostgres.logger, maximumConnections: 4)
        return (first, second)
    }

    /// A relay on each instance, each instance's live events through it, running and listening.
    static func relaying(
        _ first: PostgresAppDatabase, _ second: PostgresAppDatabase, log: CapturedLog
    ) async -> ([PostgresEventRelay], [QuestionEvents], [Task<Void, any Error>]) {
        let relays = [first, second].enumerated().map { PostgresEventRelay(database: $1, logger: log.logger(instance: $0)) }
        let events = relays.map { QuestionEvents(relay: $0) }
        let running = events.map { events in Task { try await events.relayEvents() } }
        for relay in relays { await relay.waitUntilListening() }
        return (relays, events, running)
    }

    /// `relaying`, with each relay looking for the other every 200 ms, once the second has seen the first listen;
    /// `beforeRunning` has the relays before they run.
    static func watching(
        _ first: PostgresAppDatabase, _ second: PostgresAppDatabase, log: CapturedLog, beforeRunning: ([PostgresEventRelay]) -> Void = { _ in }
    ) async throws -> ([PostgresEventRelay], [QuestionEvents], [Task<Void, any Error>]) {
        let relays = [first, second].enumerated().map { index, database in
            // Checks often, so that a test need not wait; the waits for a farewell and a barrier as long as a test's
            // deadline, so that a slow machine cannot turn a clean stop into a lost one.
            PostgresEventRelay(
                database: database, peerCheckInterval: .milliseconds(200), farewellWait: .seconds(deadline), barrierWait: .seconds(deadline),
                logger: log.logger(instance: index))
        }
        beforeRunning(relays)
        let events = relays.map { QuestionEvents(relay: $0) }
        let hearingBefore = events.map(\.hearsOtherInstances)
        #expect(hearingBefore == [false, false])
        let running = events.map { events in Task { try await events.relayEvents() } }
        // Both listening, not only seen: a check finds an instance by its listening connection, which may not have run
        // its LISTEN yet, and a check of the second's may come before its own LISTEN. An event published before then
        // is not heard (a CI run lost one so).
        try await withDeadline(seconds: deadline, "both instances listening, and the second seeing the first") {
            for relay in relays { await relay.waitUntilListening() }
            await relays[1].waitUntilSeeing(instance: relays[0].instanceID)
        }
        let hearingAfter = events.map(\.hearsOtherInstances)
        #expect(hearingAfter == [true, true])
        return (relays, events, running)
    }

    /// Leads until cancelled, recording when it began and ended.
    static func lead(as instance: Int, recordingIn leads: Recorded<Lead>) async {
        leads.append(Lead(instance: instance, began: true))
        try? await Task.sleep(for: .seconds(86_400))
        leads.append(Lead(instance: instance, began: false))
    }

    static func storedEvents(in database: PostgresAppDatabase) async throws -> Int {
        try await database.read { connection in
            for try await count in try await connection.query("SELECT count(*) FROM relayedEvent", logger: TestPostgres.logger).decode(Int.self) {
                return count
            }
            return 0
        }
    }
}

struct Lead: Equatable, Sendable {
    var instance: Int
    var began: Bool
}

/// A stream's events as they come, read a few at a time with a deadline.
final class Received<Event: Sendable & Equatable>: Sendable {
    private let events = Recorded<Event>()
    private let taken = Mutex(0)
    private let reader: Task<Void, Never>

    init(_ stream: AsyncStream<Event>) {
        reader = Task { [events] in
            for await event in stream { events.append(event) }
        }
    }

    deinit { reader.cancel() }

    /// The next `count` events after those already taken.
    func first(_ count: Int) async throws -> [Event] {
        let start = taken.withLock { $0 }
        try await events.wait(within: SeveralInstancesTests.deadline, "\(count) events") { $0.count >= start + count }
        taken.withLock { $0 = start + count }
        return Array(events.all[start..<(start + count)])
    }
}

/// The log lines the code under test wrote, by instance.
final class CapturedLog: Sendable {
    struct Message: Sendable {
        var instance: Int
        var text: String
    }

    let messages = Recorded<Message>()

    func logger(instance: Int) -> Logger {
        Logger(label: "skillrelay.tests.instance\(instance)") { [messages] _ in Handler(instance: instance, messages: messages) }
    }

    struct Handler: LogHandler {
        let instance: Int
        let messages: Recorded<Message>
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            messages.append(Message(instance: instance, text: "\(event.message)"))
        }
    }
}
