/// Runs the outbox dispatcher one drain at a time, however many callers kick it: a kick during a drain asks for one
/// more round instead of a second, concurrent drain (which could send a message twice).
public actor OutboxPump {
    private let dispatcher: OutboxDispatcher
    private var running = false
    private var again = false
    private var waiting: [CheckedContinuation<Void, Never>] = []
    private var lastError: (any Error)?

    public init(dispatcher: OutboxDispatcher) {
        self.dispatcher = dispatcher
    }

    /// Drains the outbox; returns once a drain that started after this call has finished.
    public func kick() async {
        guard !running else {
            again = true
            await withCheckedContinuation { waiting.append($0) }
            return
        }
        running = true
        repeat {
            again = false
            let resumed = waiting
            waiting = []
            do {
                try await dispatcher.drain()
            } catch {
                lastError = error
            }
            // Callers who kicked before this round began were served by it.
            for continuation in resumed { continuation.resume() }
        } while again || !waiting.isEmpty
        running = false
    }

    /// The last error a drain met since the last call, for the worker to log.
    public func takeLastError() -> (any Error)? {
        defer { lastError = nil }
        return lastError
    }
}
