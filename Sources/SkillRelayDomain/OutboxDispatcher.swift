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

    /// Sends every message that is due; returns how many were sent.
    @discardableResult
    public func drain(limit: Int = 100) async throws -> Int {
        var sent = 0
        for item in try await store.pendingOutbox(now: clock.now(), limit: limit) {
            do {
                try await send(item)
                try await store.markOutboxSent(item.id, now: clock.now())
                sent += 1
            } catch {
                let attempts = item.attempts + 1
                let retryAt = attempts >= Self.maxAttempts ? nil : clock.now().addingTimeInterval(Self.backoff(afterAttempts: attempts))
                try await store.markOutboxFailed(item.id, error: String(describing: error).prefix(500).description, retryAt: retryAt)
            }
        }
        return sent
    }

    /// Seconds before the next try: 1, 2, 4 … up to five minutes.
    public static func backoff(afterAttempts attempts: Int) -> TimeInterval {
        min(300, pow(2, Double(max(0, attempts - 1))))
    }

    private func send(_ item: OutboxItem) async throws {
        switch item.message {
        case .question(let message): try await messenger.deliverQuestion(message, key: item.key)
        case .answer(let message): try await messenger.deliverAnswer(message, key: item.key)
        case .closed(let message): try await messenger.notifyClosed(message, key: item.key)
        case .askerNotice(let message): try await messenger.notifyAsker(message, key: item.key)
        case .callback(let message): try await callbacks.post(message, key: item.key)
        }
    }
}
