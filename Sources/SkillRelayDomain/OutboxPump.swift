import Synchronization

/// Runs the outbox dispatcher one drain at a time, however many callers kick it: a kick during a drain asks for one
/// more round instead of a second, concurrent drain (which could start two workers for one destination). A drain only
/// starts the destinations' workers; each worker nudges the pump when it finishes, so its destination's next messages
/// follow at once.
public actor OutboxPump {
    /// Set while a nudge's task is on its way, so a burst of nudges starts one task, not one each.
    private nonisolated let nudged = Mutex(false)

    private let dispatcher: OutboxDispatcher
    private var running = false
    /// Set by `stop`: kicks drain nothing from then on.
    private var stopped = false
    private var again = false
    private var waiting: [CheckedContinuation<Void, Never>] = []
    private var lastError: (any Error)?
    /// Messages handed to workers by drains since `flush` last looked.
    private var started = 0

    public init(dispatcher: OutboxDispatcher) {
        self.dispatcher = dispatcher
        dispatcher.onWorkerFinished { [weak self] in self?.nudge() }
    }

    /// Asks for a drain soon without waiting for it: what the question flow calls after queueing messages. Cheap
    /// however often it is called.
    public nonisolated func nudge() {
        let first = nudged.withLock { pending in
            defer { pending = true }
            return !pending
        }
        guard first else { return }
        // Ahead of new requests: messages already promised go out before more work is taken on.
        Task(priority: .high) {
            await self.kickAfterNudge()
        }
    }

    private func kickAfterNudge() async {
        // Cleared before the drain, so that a message queued while it runs nudges again.
        nudged.withLock { $0 = false }
        await kick()
    }

    /// The least time between the starts of two rounds in a row.
    static let roundSpacing: Duration = .milliseconds(4)

    /// Drains the outbox; returns once a drain that started after this call has finished.
    public func kick() async {
        guard !stopped else { return }
        guard !running else {
            again = true
            await withCheckedContinuation { waiting.append($0) }
            return
        }
        running = true
        var lastRound: ContinuousClock.Instant?
        repeat {
            // Back to back under load, rounds are spaced a little, so that each takes what several asks and finished
            // workers left instead of one drain (a read and a write) each; a lone kick goes at once.
            if let lastRound, case let since = lastRound.duration(to: .now), since < Self.roundSpacing {
                try? await Task.sleep(for: Self.roundSpacing - since)
            }
            lastRound = .now
            again = false
            let resumed = waiting
            waiting = []
            do {
                started += try await dispatcher.drain()
            } catch {
                lastError = error
            }
            // Callers who kicked before this round began were served by it.
            for continuation in resumed { continuation.resume() }
        } while !stopped && (again || !waiting.isEmpty)
        running = false
        // Stopped: whoever waits for another round gets none.
        let left = waiting
        waiting = []
        for continuation in left { continuation.resume() }
    }

    /// Stops for a clean shutdown, once the round under way (if any) has finished: no drain from then on, and the
    /// dispatcher's workers finish or are cut off after `grace`, their outcomes recorded (`OutboxDispatcher.stop`).
    /// Throws if those cannot be recorded.
    public func stop(grace: Duration) async throws {
        stopped = true
        if running { await withCheckedContinuation { waiting.append($0) } }
        try await dispatcher.stop(grace: grace)
    }

    /// Drains until every message that is due has been tried and every worker has finished: what a test awaits
    /// before it looks at what was sent. A destination that hangs keeps it waiting, so the server never calls it.
    public func flush() async {
        repeat {
            started = 0
            await kick()
            await dispatcher.idle()
            // While this waited, finished workers' nudges may have begun a drain that is still reading (its workers not
            // yet counted in `started`), or left outcomes no drain has recorded yet (their destinations still held, so a
            // drain may have started nothing while messages waited): go round until a drain of our own has recorded
            // every outcome and started nothing, with no other drain under way.
        } while started > 0 || running || dispatcher.hasUnrecordedOutcomes
    }

    /// The last error a drain met since the last call, for the worker to log.
    public func takeLastError() -> (any Error)? {
        defer { lastError = nil }
        return lastError
    }
}
