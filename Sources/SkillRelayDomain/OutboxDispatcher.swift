import Foundation
import Synchronization

/// How far the outbox is behind: the age of the oldest message waiting for its first try in the batch the last drain
/// took, set when the drain began, and 0 once a drain has taken everything that was due. Retries are left out: they
/// wait for their backoff because the IM server failed, not because SkillRelay is behind. The question flow reads it
/// to refuse new questions while deliveries cannot keep up.
public final class OutboxLag: Sendable {
    private let seconds = Mutex<TimeInterval>(0)

    public init() {}

    public var current: TimeInterval { seconds.withLock { $0 } }

    func record(_ value: TimeInterval) { seconds.withLock { $0 = max(0, value) } }
}

/// Posts a signed JSON body to a bot's callback URL.
public protocol CallbackSender: Sendable {
    /// Sends the body; throws on a network error or a non-2xx answer.
    func post(_ message: CallbackMessage, key: String) async throws
}

/// Sends what the outbox holds: each message once it is sent, retried with backoff when it fails, never blocking the
/// question flow.
public struct OutboxDispatcher: Sendable {
    let store: any QuestionStore
    let messenger: any Messenger
    let callbacks: any CallbackSender
    let clock: any WallClock
    /// How many people's IM messages are sent at once when a drain holds no more than a few waves' worth.
    let imConcurrency: Int
    /// How many are sent at once when a drain finds more than `backlogPeople` people waiting: a backlog, where one at a
    /// time would leave the last waiting for all the others' round trips (and, under load, for every task they queue
    /// behind), and the outbox would fall further behind with every ask.
    let imBacklogConcurrency: Int
    /// More people than this in one drain is a backlog.
    public static let backlogPeople = 8
    /// How many callback URLs are posted to at once.
    let callbackConcurrency: Int
    /// Where each drain records how far behind the outbox is.
    public let lag: OutboxLag
    /// Tries before a message is given up.
    public static let maxAttempts = 10

    /// `imConcurrency` 1 suits a homeserver that does one request's work at a time (Synapse without workers): sent
    /// together, a wave's messages all arrive as late as the last one would have arrived sent one by one. A backlog is
    /// sent `imBacklogConcurrency` at a time (never fewer than `imConcurrency`).
    public init(
        store: any QuestionStore, messenger: any Messenger, callbacks: any CallbackSender, clock: any WallClock = SystemWallClock(),
        imConcurrency: Int = 1, imBacklogConcurrency: Int = 32, callbackConcurrency: Int = 16, lag: OutboxLag = OutboxLag()
    ) {
        self.lag = lag
        self.store = store
        self.messenger = messenger
        self.callbacks = callbacks
        self.clock = clock
        self.imConcurrency = max(1, imConcurrency)
        self.imBacklogConcurrency = max(self.imConcurrency, imBacklogConcurrency)
        self.callbackConcurrency = max(1, callbackConcurrency)
    }

    /// Sends every message that is due; returns how many were sent. Messages to one recipient (a person, or a
    /// callback URL) go one after another in the order they were queued. IM messages and callbacks travel side by side,
    /// so one slow callback does not hold up anyone's IM messages; within each, up to `imWidth(people:)` people and
    /// `callbackConcurrency` URLs are served at once.
    @discardableResult
    public func drain(limit: Int = 200) async throws -> Int {
        let now = clock.now()
        let items = try await store.pendingOutbox(now: now, limit: limit)
        // Oldest first (the store answers in queueing order).
        lag.record(items.first { $0.attempts == 0 }.map { now.timeIntervalSince($0.createdAt) } ?? 0)
        guard !items.isEmpty else { return 0 }
        var queues: [String: [OutboxItem]] = [:]
        var order: [String] = []
        for item in items {
            let key = Self.recipientKey(item.message)
            if queues[key] == nil { order.append(key) }
            queues[key, default: []].append(item)
        }
        let people = order.filter { !Self.isCallback($0) }.compactMap { queues[$0] }
        let lanes = [
            (people, imWidth(people: people.count)),
            (order.filter(Self.isCallback).compactMap { queues[$0] }, callbackConcurrency),
        ]
        var result = Sent()
        await withTaskGroup(of: Sent.self) { group in
            for (lane, width) in lanes where !lane.isEmpty { group.addTask { await send(lane, width: width) } }
            for await sent in group { result.merge(sent) }
        }
        if !result.sent.isEmpty { try await store.markOutboxSent(result.sent, references: result.references, now: clock.now()) }
        for (item, error) in result.failed {
            let attempts = item.attempts + 1
            let retryAt = attempts >= Self.maxAttempts ? nil : clock.now().addingTimeInterval(Self.backoff(afterAttempts: attempts))
            try await store.markOutboxFailed(item.id, error: error, retryAt: retryAt)
        }
        // A drain that took everything due has caught up: whatever came in meanwhile is fresh.
        if items.count < limit { lag.record(0) }
        return result.sent.count
    }

    /// How many people's messages are sent at once when a drain holds `people` people's.
    func imWidth(people: Int) -> Int {
        people > Self.backlogPeople ? imBacklogConcurrency : imConcurrency
    }

    /// Sends recipients' queues, up to `width` of them at once.
    private func send(_ queues: [[OutboxItem]], width: Int) async -> Sent {
        var result = Sent()
        await withTaskGroup(of: Sent.self) { group in
            var next = queues.makeIterator()
            func startNext() {
                guard let queue = next.next() else { return }
                group.addTask { await send(queue) }
            }
            for _ in 0..<width { startNext() }
            while let sent = await group.next() {
                result.merge(sent)
                startNext()
            }
        }
        return result
    }

    /// What one recipient's queue came to.
    private struct Sent: Sendable {
        var sent: [Int64] = []
        /// The IM's references for delivered questions, by delivery id.
        var references: [String: String] = [:]
        var failed: [(OutboxItem, String)] = []

        mutating func merge(_ other: Sent) {
            sent += other.sent
            references.merge(other.references) { first, _ in first }
            failed += other.failed
        }
    }

    /// Sends one recipient's messages in order.
    private func send(_ queue: [OutboxItem]) async -> Sent {
        var result = Sent()
        for item in queue {
            do {
                if let reference = try await send(item), case .question(let message) = item.message {
                    result.references[message.deliveryID] = reference
                }
                result.sent.append(item.id)
            } catch {
                result.failed.append((item, String(describing: error).prefix(500).description))
            }
        }
        return result
    }

    static func isCallback(_ key: String) -> Bool { key.hasPrefix("callback:") }

    /// Who a message goes to: what must keep its order.
    static func recipientKey(_ message: OutboxMessage) -> String {
        switch message {
        case .question(let message): "person:\(message.recipient.handle)"
        case .closed(let message): "person:\(message.recipient.handle)"
        case .answer(let message): "person:\(message.asker.handle)"
        case .askerNotice(let message): "person:\(message.asker.handle)"
        case .callback(let message): "callback:\(message.url)"
        }
    }

    /// Seconds before the next try: 1, 2, 4 … up to five minutes.
    public static func backoff(afterAttempts attempts: Int) -> TimeInterval {
        min(300, pow(2, Double(max(0, attempts - 1))))
    }

    /// Sends one message; returns the IM's reference for a delivered question.
    private func send(_ item: OutboxItem) async throws -> String? {
        switch item.message {
        case .question(let message): return try await messenger.deliverQuestion(message, key: item.key)
        case .answer(let message): try await messenger.deliverAnswer(message, key: item.key)
        case .closed(let message): try await messenger.notifyClosed(message, key: item.key)
        case .askerNotice(let message): try await messenger.notifyAsker(message, key: item.key)
        case .callback(let message): try await callbacks.post(message, key: item.key)
        }
        return nil
    }
}
