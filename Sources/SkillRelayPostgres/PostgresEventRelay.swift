import Foundation
import Logging
import NIOCore
import PostgresNIO
import SkillRelayDomain
import Synchronization

/// Live events between the instances sharing one PostgreSQL, by `NOTIFY` and `LISTEN` on one channel. Each
/// notification names the instance it came from, which ignores its own (its streams had the event when it was
/// published). A notification's payload must stay under 8000 bytes, so a larger event is written to `relayedEvent` and
/// the notification carries its row's id; rows are purged after ten minutes.
///
/// An event published (`forward`) is notified by a sender in the background, in order, after the request that made it
/// returned; the events waiting when the sender is ready go in one statement. What the outbox sends (`send`) is
/// notified by the caller before it returns: the outbox marks it sent only then, so an instance killed in between
/// leaves it to another, never lost.
///
/// Listening takes a connection of its own. If it drops, the relay says so in the log and listens again; events
/// published meanwhile are not replayed, but once it listens again every stream on this instance is told it may have
/// missed some (`missed`), and reads what it missed from the store. The same happens when another instance's listening
/// connection goes away (looked for every few seconds) without its farewell: an instance killed between committing a
/// change and notifying it takes the notification with it, and the streams here read the change from the store
/// instead. An instance that stops cleanly first notifies what it still had and then its farewell, and its going
/// away costs the streams on the others nothing; one that could not notify some event says no farewell, so that the
/// others' streams read the store again.
public final class PostgresEventRelay: QuestionEventRelay {
    /// This instance, as its notifications name it.
    public let instanceID: String
    private let database: PostgresAppDatabase
    private let logger: Logger
    /// Events forwarded and not yet notified, oldest first; the sender is woken by `wake`.
    private let waiting = Mutex(CircularBuffer<QuestionEvent>())
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    /// Numbers the notifications this instance sends, so that no two carry the same payload: PostgreSQL delivers
    /// identical notifications of one transaction once, and a batch is one transaction.
    private let notified = Mutex(0)
    /// Reaches 1 once the sender, stopping, has notified what was waiting and this instance's farewell.
    private let farewellSaid = Progress()
    /// Whether some event forwarded was never notified (dropped, or its statement failed): then no farewell.
    private let lostSome = Mutex(false)
    /// Statements that notified events so far (for tests: how the events were batched).
    let notifyingStatements = Mutex(0)
    private let listening = Progress()
    /// Events forwarded so far, and how many of them the background sender has notified (or failed to).
    private let forwarded = Mutex(0)
    private let handled = Progress()
    private let lastPurge = Mutex<ContinuousClock.Instant?>(nil)
    /// The other instances the last check found listening (`nil` before one, or after one failed), and how many
    /// checks were made.
    private let otherInstances = Mutex<Set<String>?>(nil)
    /// Instances whose farewell this one heard: their going away is not a loss.
    private let departed = Mutex<Set<String>>([])
    /// The highest barrier this instance's listener has heard back.
    private let barriersHeard = Progress()
    private let checks = Progress()

    /// How often the relay looks for instances whose listening connection went away.
    let peerCheckInterval: Duration
    /// How long a stopping relay's listener waits for its farewell to be notified, and how long a check waits for its
    /// barrier to come back, before going on without.
    let farewellWait: Duration
    let barrierWait: Duration

    static let channel = "skillrelay_events"
    /// What an instance's listening connection is called (`application_name`), after its instance id.
    static let listenerPrefix = "skillrelay events "
    /// PostgreSQL refuses a notification payload of this many bytes or more.
    static let notifyLimit = 8000
    /// Events that may wait for the sender; beyond this the oldest is dropped (never notified).
    static let waitingLimit = 10_000
    /// At most this many events in one statement.
    static let batchLimit = 200

    public init(
        database: PostgresAppDatabase, instanceID: String = UUID().uuidString.lowercased(), peerCheckInterval: Duration = .seconds(5),
        farewellWait: Duration = .seconds(5), barrierWait: Duration = .seconds(10), logger: Logger
    ) {
        self.peerCheckInterval = peerCheckInterval
        self.farewellWait = farewellWait
        self.barrierWait = barrierWait
        self.database = database
        self.instanceID = instanceID
        self.logger = logger
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    public func forward(_ event: QuestionEvent) {
        forwarded.withLock { $0 += 1 }
        let dropped = waiting.withLock { waiting in
            waiting.append(event)
            guard waiting.count > Self.waitingLimit else { return false }
            waiting.removeFirst()
            return true
        }
        // The oldest waiting event made room for this one: it will not be notified.
        if dropped {
            lostSome.withLock { $0 = true }
            handled.advance()
        }
        wake.yield()
    }

    public func flush(within limit: Duration) async {
        await handled.wait(atLeast: forwarded.withLock { $0 }, atMost: limit)
    }

    public func send(_ event: QuestionEvent) async throws {
        try await notify([event])
    }

    public func run(delivering deliver: @escaping @Sendable (QuestionEvent) -> Void, missed: @escaping @Sendable (MissedEvents) -> Void) async throws
    {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.sendForwarded() }
            group.addTask { try await self.listen(delivering: deliver, missed: missed) }
            group.addTask { try await self.watchOtherInstances(missed: missed) }
            try await group.next()
            group.cancelAll()
        }
    }

    public var hasListened: Bool { listening.current > 0 }

    /// Returns once the relay has begun listening `times` times in all: the first time, and once more after each drop.
    public func waitUntilListening(times: Int = 1) async {
        await listening.wait(atLeast: times)
    }

    /// Returns once a check for other instances (`peerCheckInterval`) has found the instance `id` listening.
    public func waitUntilSeeing(instance id: String) async {
        await waitForCheck { $0.contains(id) }
    }

    /// Returns once a check for other instances has found the instance `id` no longer listening, and said what that
    /// means for the streams here.
    public func waitUntilNotSeeing(instance id: String) async {
        await waitForCheck { !$0.contains(id) }
    }

    private func waitForCheck(until found: (Set<String>) -> Bool) async {
        while true {
            let made = checks.current
            if otherInstances.withLock({ $0.map(found) == true }) { return }
            await checks.wait(atLeast: made + 1)
        }
    }

    /// What one notification carries: the event itself, or the id of the row holding it.
    struct Envelope: Codable {
        var origin: String
        /// This notification's number from its instance (`notified`).
        var number: Int?
        var event: QuestionEvent?
        var stored: Int64?
        /// The instance stops, and has notified everything it published.
        var farewell: Bool?
        /// Sent by an instance to itself: once heard, so has everything committed before it (`barriersHeard`).
        var barrier: Int?

        /// The notification's payload.
        func text() throws -> String { String(decoding: try JSONEncoder().encode(self), as: UTF8.self) }
    }

    // MARK: - Sending

    /// One batch at a time and in order, so that the other instances see a question's events as they happened here.
    /// When the relay stops (cancelled), what is still waiting and then the farewell. A batch is notified to the end
    /// even if the relay is cancelled meanwhile: none is dropped half-way.
    private func sendForwarded() async {
        for await _ in wakeups {
            while true {
                let batch = takeWaiting(atMost: Self.batchLimit)
                if batch.isEmpty { break }
                await Task.detached { [self] in
                    do {
                        try await notify(batch)
                    } catch {
                        lostSome.withLock { $0 = true }
                        logger.warning(
                            "could not relay live events to the other instances",
                            metadata: ["skillrelay.error": "\(error)", "skillrelay.events": "\(batch.count)"])
                    }
                    handled.advance(by: batch.count)
                }.value
            }
        }
        guard !database.dedicated.isClosed else { return }
        await Task.detached { [self] in
            let remaining = takeWaiting(atMost: Int.max)
            do {
                let complete = !lostSome.withLock { $0 }
                try await notify(remaining, farewell: complete)
                if complete { logger.debug("told the other instances this one stops") }
            } catch {
                logger.warning(
                    "could not tell the other instances this one stops; their streams will read the store again",
                    metadata: ["skillrelay.error": "\(error)"])
            }
            handled.advance(by: remaining.count)
        }.value
        farewellSaid.advance()
    }

    private func takeWaiting(atMost limit: Int) -> [QuestionEvent] {
        waiting.withLock { waiting in
            let batch = Array(waiting.prefix(limit))
            waiting.removeFirst(batch.count)
            return batch
        }
    }

    /// Notifies `events` in order: those small enough to carry in one statement, each larger one in a transaction of
    /// its own with its row; with `farewell`, this instance's farewell last.
    private func notify(_ events: [QuestionEvent], farewell: Bool = false) async throws {
        var carried: [String] = []
        for event in events {
            let number = notified.withLock { number in
                number += 1
                return number
            }
            let inline = try Envelope(origin: instanceID, number: number, event: event).text()
            if inline.utf8.count < Self.notifyLimit {
                carried.append(inline)
                continue
            }
            try await notifyCarried(carried)
            carried = []
            try await notifyStored(event, number: number)
        }
        if farewell {
            carried.append(try Envelope(origin: instanceID, farewell: true).text())
        }
        try await notifyCarried(carried)
    }

    /// One statement for every payload, notified in the order given (PostgreSQL evaluates a volatile function in the
    /// select list after `ORDER BY`).
    private func notifyCarried(_ payloads: [String]) async throws {
        guard !payloads.isEmpty else { return }
        notifyingStatements.withLock { $0 += 1 }
        try await database.client.query(
            """
            SELECT pg_notify(\(Self.channel), payload) FROM unnest(\(payloads)::text[]) WITH ORDINALITY AS batch(payload, position)
            ORDER BY position
            """, logger: logger)
    }

    private func notifyStored(_ event: QuestionEvent, number: Int) async throws {
        let payload = String(decoding: try JSONEncoder().encode(event), as: UTF8.self)
        let purge = purgeIsDue()
        notifyingStatements.withLock { $0 += 1 }
        try await database.client.withTransaction(logger: logger) { connection in
            var id: Int64?
            for try await stored in try await connection.query(
                "INSERT INTO relayedEvent (payload) VALUES (\(payload)) RETURNING id", logger: logger
            ).decode(Int64.self) {
                id = stored
            }
            let note = try Envelope(origin: instanceID, number: number, stored: id).text()
            // Delivered when the transaction commits, so the row is there for whoever reads it.
            try await connection.query("SELECT pg_notify(\(Self.channel), \(note))", logger: logger)
            if purge {
                try await connection.query("DELETE FROM relayedEvent WHERE createdAt < now() - interval '10 minutes'", logger: logger)
            }
        }
    }

    /// Whether old stored events are due to be purged: at most once a minute per instance.
    private func purgeIsDue() -> Bool {
        let now = ContinuousClock.now
        return lastPurge.withLock { last in
            if let last, now - last < .seconds(60) { return false }
            last = now
            return true
        }
    }

    // MARK: - Listening

    private func listen(delivering deliver: @escaping @Sendable (QuestionEvent) -> Void, missed: @escaping @Sendable (MissedEvents) -> Void)
        async throws
    {
        var dropped = false
        var backoff: Duration = .seconds(1)
        while true {
            try Task.checkCancellation()
            var failure: (any Error)?
            do {
                let connection = try await database.dedicated.connect(to: database.location, purpose: "events \(instanceID)", logger: logger)
                do {
                    try await connection.listen(on: Self.channel) { notifications in
                        // Listening again: what the others notified while it could not went unheard, so the streams
                        // here are told to read the store again.
                        if dropped {
                            logger.notice("the live event relay listens again")
                            missed(.all)
                        }
                        dropped = false
                        backoff = .seconds(1)
                        listening.advance()
                        for try await notification in notifications {
                            await receive(notification.payload, delivering: deliver)
                        }
                    }
                } catch {
                    failure = error
                }
                // Stopping cleanly: the listener closes after the farewell, since the others take a listener gone
                // without one for a loss. Waited for outside this cancelled task, and for `farewellWait` at most.
                if Task.isCancelled && !database.dedicated.isClosed {
                    await Task.detached { [farewellSaid, farewellWait] in await farewellSaid.wait(atLeast: 1, atMost: farewellWait) }.value
                }
                await database.dedicated.close(connection)
            } catch let closed as PostgresDatabaseClosed {
                throw closed
            } catch {
                failure = error
            }
            if Task.isCancelled { throw CancellationError() }
            if database.dedicated.isClosed { throw PostgresDatabaseClosed() }
            logger.warning(
                "the live event relay lost its PostgreSQL connection; reconnecting (events other instances publish meanwhile are missed)",
                metadata: ["skillrelay.error": "\(failure.map { "\($0)" } ?? "connection closed")", "skillrelay.retry_in": "\(backoff)"])
            dropped = true
            try await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(30))
        }
    }

    /// Until cancelled: every `peerCheckInterval`, which instances listen on this database; when one that listened no
    /// longer does, `missed`. A check that fails (the database out of reach) starts afresh: the listener says what
    /// happened, and tells the streams itself once it listens again.
    private func watchOtherInstances(missed: @escaping @Sendable (MissedEvents) -> Void) async throws {
        var barriers = 0
        while true {
            let listening = try? await listeningInstances()
            let known = otherInstances.withLock { $0 }
            if let known, let listening, case let gone = known.subtracting(listening), !gone.isEmpty {
                // A farewell is committed before its instance's listener closes, so before this check saw it gone, and
                // notifications arrive in the order they were committed: once a barrier notified now has come back,
                // every farewell there was has been heard.
                if !gone.isSubset(of: departed.withLock { $0 }) {
                    barriers += 1
                    await hearWhatWasNotifiedBefore(barrier: barriers)
                }
                let announced = departed.withLock { gone.intersection($0) }
                if !announced.isEmpty {
                    logger.notice(
                        "another instance stopped after telling the others everything",
                        metadata: ["skillrelay.instances": "\(announced.sorted().joined(separator: ", "))"])
                }
                let lost = gone.subtracting(announced)
                if !lost.isEmpty {
                    logger.notice(
                        "another instance stopped listening for live events without a farewell; streams here read what it may not have told them",
                        metadata: ["skillrelay.instances": "\(lost.sorted().joined(separator: ", "))"])
                    missed(.publishedByStoppedInstance)
                }
            }
            if let listening {
                // Farewells are kept while their instance still listens: those gone are decided on, or were never seen.
                departed.withLock { $0.formIntersection(listening) }
            }
            otherInstances.withLock { $0 = listening }
            checks.advance()
            try await Task.sleep(for: peerCheckInterval)
        }
    }

    /// Notifies a barrier to this instance's own listener and waits (`barrierWait`) until it has come back. Where it
    /// cannot be sent or does not come back, what was heard is all there is to go on.
    private func hearWhatWasNotifiedBefore(barrier: Int) async {
        do {
            try await notifyCarried([try Envelope(origin: instanceID, barrier: barrier).text()])
        } catch {
            return
        }
        await barriersHeard.wait(atLeast: barrier, atMost: barrierWait)
    }

    /// The ids of the other instances listening on this database now.
    private func listeningInstances() async throws -> Set<String> {
        var found: Set<String> = []
        let rows = try await database.client.query(
            """
            SELECT application_name FROM pg_stat_activity
            WHERE datname = current_database() AND starts_with(application_name, \(Self.listenerPrefix))
            """, logger: logger)
        for try await name in rows.decode(String.self) {
            let id = String(name.dropFirst(Self.listenerPrefix.count))
            if id != instanceID { found.insert(id) }
        }
        return found
    }

    /// One notification: another instance's event, read from its row when it was too large to carry.
    private func receive(_ payload: String, delivering deliver: @Sendable (QuestionEvent) -> Void) async {
        let decoder = JSONDecoder()
        guard let envelope = try? decoder.decode(Envelope.self, from: Data(payload.utf8)) else {
            logger.warning("ignored a live event another instance relayed that this one cannot read")
            return
        }
        guard envelope.origin != instanceID else {
            if let barrier = envelope.barrier { barriersHeard.advance(to: barrier) }
            return
        }
        if envelope.farewell == true {
            departed.withLock { _ = $0.insert(envelope.origin) }
            return
        }
        if let event = envelope.event {
            deliver(event)
            return
        }
        guard let id = envelope.stored else { return }
        do {
            var found: QuestionEvent?
            for try await stored in try await database.client.query("SELECT payload FROM relayedEvent WHERE id = \(id)", logger: logger)
                .decode(String.self)
            {
                found = try decoder.decode(QuestionEvent.self, from: Data(stored.utf8))
            }
            guard let found else {
                logger.warning("a large live event another instance relayed was already purged", metadata: ["skillrelay.event.id": "\(id)"])
                return
            }
            deliver(found)
        } catch {
            logger.warning(
                "could not read a large live event another instance relayed",
                metadata: ["skillrelay.event.id": "\(id)", "skillrelay.error": "\(error)"])
        }
    }
}

/// A count that only grows (how many times the relay began listening, how many events it notified), and who waits for
/// it to reach a number.
private final class Progress: Sendable {
    private struct State {
        var count = 0
        var nextWaiter = 0
        var waiters: [Int: (count: Int, continuation: CheckedContinuation<Void, Never>)] = [:]
    }

    private let state = Mutex(State())

    var current: Int { state.withLock { $0.count } }

    func advance(by steps: Int = 1) {
        advance(to: nil, by: steps)
    }

    /// Raises the count to `target` (a count already there stays).
    func advance(to target: Int) {
        advance(to: target, by: 0)
    }

    private func advance(to target: Int?, by steps: Int) {
        let ready = state.withLock { state in
            state.count = max(state.count + steps, target ?? 0)
            let ready = state.waiters.filter { $0.value.count <= state.count }
            for id in ready.keys { state.waiters[id] = nil }
            return ready.values.map(\.continuation)
        }
        for continuation in ready { continuation.resume() }
    }

    /// `wait(atLeast:)`, or `limit`, whichever comes first.
    func wait(atLeast count: Int, atMost limit: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.wait(atLeast: count) }
            group.addTask { try? await Task.sleep(for: limit) }
            await group.next()
            group.cancelAll()
        }
    }

    func wait(atLeast count: Int) async {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state in
                    if state.count >= count || Task.isCancelled { return true }
                    state.waiters[id] = (count, continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiting = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiting?.continuation.resume()
        }
    }
}
