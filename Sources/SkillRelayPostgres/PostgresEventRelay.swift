import Foundation
import Logging
import PostgresNIO
import SkillRelayDomain
import Synchronization

/// Live events between the instances sharing one PostgreSQL, by `NOTIFY` and `LISTEN` on one channel. Each
/// notification names the instance it came from, which ignores its own (its streams had the event when it was
/// published). A notification's payload must stay under 8000 bytes, so a larger event is written to `relayedEvent` and
/// the notification carries its row's id; rows are purged after ten minutes.
///
/// An event published (`forward`) is notified by a sender in the background, in order, after the request that made it
/// returned. What the outbox sends (`send`) is notified by the caller before it returns: the outbox marks it sent only
/// then, so an instance killed in between leaves it to another, never lost.
///
/// Listening takes a connection of its own. If it drops, the relay says so in the log and listens again; events
/// published meanwhile are not replayed, but once it listens again every stream on this instance is told it may have
/// missed some (`resumed`), and reads what it missed from the store.
public final class PostgresEventRelay: QuestionEventRelay {
    /// This instance, as its notifications name it.
    public let instanceID: String
    private let database: PostgresAppDatabase
    private let logger: Logger
    private let outgoing: AsyncStream<QuestionEvent>
    private let outgoingContinuation: AsyncStream<QuestionEvent>.Continuation
    private let listening = Progress()
    /// Events forwarded so far, and how many of them the background sender has notified (or failed to).
    private let forwarded = Mutex(0)
    private let handled = Progress()
    private let lastPurge = Mutex<ContinuousClock.Instant?>(nil)

    static let channel = "skillrelay_events"
    /// PostgreSQL refuses a notification payload of this many bytes or more.
    static let notifyLimit = 8000

    public init(database: PostgresAppDatabase, instanceID: String = UUID().uuidString.lowercased(), logger: Logger) {
        self.database = database
        self.instanceID = instanceID
        self.logger = logger
        (outgoing, outgoingContinuation) = AsyncStream.makeStream(of: QuestionEvent.self, bufferingPolicy: .bufferingNewest(10_000))
    }

    public func forward(_ event: QuestionEvent) {
        forwarded.withLock { $0 += 1 }
        switch outgoingContinuation.yield(event) {
        case .enqueued: break
        // The oldest waiting event made room for this one, or the relay stopped: neither will be notified.
        case .dropped: handled.advance()
        case .terminated: handled.advance()
        @unknown default: handled.advance()
        }
    }

    public func flush(within limit: Duration) async {
        let target = forwarded.withLock { $0 }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.handled.wait(atLeast: target) }
            group.addTask { try? await Task.sleep(for: limit) }
            await group.next()
            group.cancelAll()
        }
    }

    public func send(_ event: QuestionEvent) async throws {
        try await notify(event)
    }

    public func run(delivering deliver: @escaping @Sendable (QuestionEvent) -> Void, resumed: @escaping @Sendable () -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.sendForwarded() }
            group.addTask { try await self.listen(delivering: deliver, resumed: resumed) }
            try await group.next()
            group.cancelAll()
        }
    }

    /// Returns once the relay has begun listening `times` times in all: the first time, and once more after each drop.
    public func waitUntilListening(times: Int = 1) async {
        await listening.wait(atLeast: times)
    }

    /// What one notification carries: the event itself, or the id of the row holding it.
    struct Envelope: Codable {
        var origin: String
        var event: QuestionEvent?
        var stored: Int64?
    }

    // MARK: - Sending

    /// One at a time and in order, so that the other instances see a question's events as they happened here.
    private func sendForwarded() async {
        for await event in outgoing {
            do {
                try await notify(event)
            } catch {
                logger.warning("could not relay a live event to the other instances", metadata: ["skillrelay.error": "\(error)"])
            }
            handled.advance()
        }
    }

    private func notify(_ event: QuestionEvent) async throws {
        let encoder = JSONEncoder()
        let inline = String(decoding: try encoder.encode(Envelope(origin: instanceID, event: event)), as: UTF8.self)
        if inline.utf8.count < Self.notifyLimit {
            try await database.client.query("SELECT pg_notify(\(Self.channel), \(inline))", logger: logger)
            return
        }
        let payload = String(decoding: try encoder.encode(event), as: UTF8.self)
        let purge = purgeIsDue()
        try await database.client.withTransaction(logger: logger) { connection in
            var id: Int64?
            for try await stored in try await connection.query(
                "INSERT INTO relayedEvent (payload) VALUES (\(payload)) RETURNING id", logger: logger
            ).decode(Int64.self) {
                id = stored
            }
            let note = String(decoding: try encoder.encode(Envelope(origin: instanceID, stored: id)), as: UTF8.self)
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

    private func listen(delivering deliver: @escaping @Sendable (QuestionEvent) -> Void, resumed: @escaping @Sendable () -> Void) async throws {
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
                            resumed()
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

    /// One notification: another instance's event, read from its row when it was too large to carry.
    private func receive(_ payload: String, delivering deliver: @Sendable (QuestionEvent) -> Void) async {
        let decoder = JSONDecoder()
        guard let envelope = try? decoder.decode(Envelope.self, from: Data(payload.utf8)) else {
            logger.warning("ignored a live event another instance relayed that this one cannot read")
            return
        }
        guard envelope.origin != instanceID else { return }
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

    func advance() {
        let ready = state.withLock { state in
            state.count += 1
            let ready = state.waiters.filter { $0.value.count <= state.count }
            for id in ready.keys { state.waiters[id] = nil }
            return ready.values.map(\.continuation)
        }
        for continuation in ready { continuation.resume() }
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
