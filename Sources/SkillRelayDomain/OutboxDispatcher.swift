import Foundation

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
    /// Tries before a message is given up.
    public static let maxAttempts = 10

    public init(store: any QuestionStore, messenger: any Messenger, callbacks: any CallbackSender, clock: any WallClock = SystemWallClock()) {
        self.store = store
        self.messenger = messenger
        self.callbacks = callbacks
        self.clock = clock
    }

    /// Sends every message that is due; returns how many were sent. Messages to one recipient (a person, or a
    /// callback URL) go one after another in the order they were queued; different recipients are served
    /// concurrently, up to `concurrency` at a time, so one slow callback does not hold up everyone's IM messages.
    @discardableResult
    public func drain(limit: Int = 200, concurrency: Int = 16) async throws -> Int {
        let items = try await store.pendingOutbox(now: clock.now(), limit: limit)
        guard !items.isEmpty else { return 0 }
        var queues: [String: [OutboxItem]] = [:]
        var order: [String] = []
        for item in items {
            let key = Self.recipientKey(item.message)
            if queues[key] == nil { order.append(key) }
            queues[key, default: []].append(item)
        }
        var sent: [Int64] = []
        var references: [String: String] = [:]
        var failed: [(OutboxItem, String)] = []
        await withTaskGroup(of: Sent.self) { group in
            var next = order.makeIterator()
            func startNext() -> Bool {
                guard let key = next.next(), let queue = queues[key] else { return false }
                group.addTask { await send(queue) }
                return true
            }
            for _ in 0..<max(1, concurrency) where !startNext() { break }
            while let result = await group.next() {
                sent += result.sent
                references.merge(result.references) { first, _ in first }
                failed += result.failed
                _ = startNext()
            }
        }
        if !sent.isEmpty { try await store.markOutboxSent(sent, references: references, now: clock.now()) }
        for (item, error) in failed {
            let attempts = item.attempts + 1
            let retryAt = attempts >= Self.maxAttempts ? nil : clock.now().addingTimeInterval(Self.backoff(afterAttempts: attempts))
            try await store.markOutboxFailed(item.id, error: error, retryAt: retryAt)
        }
        return sent.count
    }

    /// What one recipient's queue came to.
    private struct Sent: Sendable {
        var sent: [Int64] = []
        /// The IM's references for delivered questions, by delivery id.
        var references: [String: String] = [:]
        var failed: [(OutboxItem, String)] = []
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
