import Foundation
import Synchronization

/// How far the outbox is behind: the age of the oldest message to a person waiting for its first try in the batch the
/// last drain took, set when the drain began, and 0 once a drain has taken everything that was due. Messages to a
/// destination whose worker is still busy, retries and messages the IM server put off are left out (they wait because the IM server failed or asked SkillRelay to slow
/// down, not because SkillRelay is behind), and so are bots' callbacks (a bot's dead URL must not refuse everyone's
/// questions). The question flow reads it to refuse new
/// questions while deliveries cannot keep up.
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
///
/// Every destination (a person, or a bot's callback URL) has a queue of its own, sent in queueing order by a worker of
/// its own: a drain reads what is due, starts a worker for each destination that has none, and returns without
/// waiting for them. A finished worker leaves its outcome for the next drain, which records every outcome since the
/// last in one transaction before it reads (one write per drain, as when a drain sent everything itself), and only
/// then frees the destination, so that nothing is read as due that was already sent. A message that fails holds back its destination's later messages (the store leaves them out until
/// it is sent or given up) and nobody else's; a destination that keeps failing trips its own breaker and is left
/// alone for a while. Workers come in two lanes, people's IM messages and bots' callbacks, each with a width; a worker
/// busy for longer than `slowAfter` stops taking a place in its lane's width, so one slow room or hung URL never holds
/// up the rest, while the lane's `cap` bounds how many run at once in all.
public final class OutboxDispatcher: Sendable {
    let store: any QuestionStore
    let messenger: any Messenger
    let callbacks: any CallbackSender
    let clock: any WallClock
    /// How many people's IM messages are sent at once when a drain holds no more than a few waves' worth.
    let imConcurrency: Int
    /// How many are sent at once when a drain finds more than `backlogPeople` people waiting: a backlog, where one at a
    /// time would leave the last waiting for all the others' round trips; also the IM lane's cap.
    let imBacklogConcurrency: Int
    /// More people than this in one drain is a backlog.
    public static let backlogPeople = 8
    /// How many callback URLs are posted to at once (the callback lane's cap is four times this).
    let callbackConcurrency: Int
    /// A worker busy for longer than this no longer counts against its lane's width.
    let slowAfter: TimeInterval
    /// How often a busy worker renews the claims on its queue (see `QuestionStore.renewOutboxClaims`): three times a
    /// lease, so that a slow send never lets another instance take up a message twice; `nil` where the store claims
    /// nothing (SQLite), and then a worker starts no renewal at all.
    let claimRenewal: Duration?
    /// Where each drain records how far behind the outbox is.
    public let lag: OutboxLag
    /// Tries before a message is given up (a rate-limited try does not count).
    public static let maxAttempts = 10
    /// Failures in a row after which a destination's breaker opens.
    public static let breakerThreshold = 3

    /// The two lanes workers run in.
    enum Lane {
        case im, callback
    }

    private struct Worker {
        var lane: Lane
        var startedAt: Date
        var task: Task<Void, Never>?
    }

    private struct Breaker {
        var failures = 0
        var openUntil: Date?
    }

    /// What a worker came to, waiting for the next drain to record it.
    private struct Outcome {
        var destination: String
        var sent: [Int64] = []
        /// The IM's references for sent questions, answers and follow-ups, by `OutboxMessage.referenceKey`.
        var references: [String: String] = [:]
        var failure: (item: OutboxItem, error: any Error)?
        var at: Date
    }

    private struct State {
        /// Destinations with a worker, running or finished and not yet recorded.
        var workers: [String: Worker] = [:]
        var outcomes: [Outcome] = []
        var breakers: [String: Breaker] = [:]
        /// Called when a worker finishes, so that its destination's next messages and the place it held are taken up.
        var wake: (@Sendable () -> Void)?
        /// Told what each worker came to, for the log.
        var report: (@Sendable (SendReport) -> Void)?
        /// Set by `stop`: no drain reads or starts anything from then on.
        var stopping = false
    }

    /// What one destination's worker came to: the messages it sent, and the one that failed (with the error), which
    /// holds back the rest of that destination's queue. What a log says of a delivery, so that an operator can follow
    /// a message that did not arrive.
    public struct SendReport: Sendable {
        public var destination: String
        /// The outbox ids sent, in order.
        public var sent: [Int64]
        /// The outbox id that failed, and why.
        public var failure: (id: Int64, error: String)?
        /// Whether the failure is the IM server asking to wait (a rate limit), not an error.
        public var deferred: Bool
    }

    private let state = Mutex(State())

    /// `imConcurrency` 1 suits a homeserver that does one request's work at a time (Synapse without workers): sent
    /// together, a wave's messages all arrive as late as the last one would have arrived sent one by one. A backlog is
    /// sent `imBacklogConcurrency` at a time (never fewer than `imConcurrency`).
    public init(
        store: any QuestionStore, messenger: any Messenger, callbacks: any CallbackSender, clock: any WallClock = SystemWallClock(),
        imConcurrency: Int = 1, imBacklogConcurrency: Int = 32, callbackConcurrency: Int = 16, slowAfter: TimeInterval = 2,
        lag: OutboxLag = OutboxLag(), claimRenewal: Duration? = nil
    ) {
        self.lag = lag
        // Unless a test sets it: from the store's lease.
        self.claimRenewal = claimRenewal ?? store.outboxClaimLease.map { .milliseconds(Int64($0 * 1000 / 3)) }
        self.store = store
        self.messenger = messenger
        self.callbacks = callbacks
        self.clock = clock
        self.imConcurrency = max(1, imConcurrency)
        self.imBacklogConcurrency = max(self.imConcurrency, imBacklogConcurrency)
        self.callbackConcurrency = max(1, callbackConcurrency)
        self.slowAfter = slowAfter
    }

    /// Sets what a finished worker calls (the pump's nudge).
    public func onWorkerFinished(_ wake: @escaping @Sendable () -> Void) {
        state.withLock { $0.wake = wake }
    }

    /// Sets what is told, as each worker finishes, what it sent and what failed (the server logs it).
    public func onSendReport(_ report: @escaping @Sendable (SendReport) -> Void) {
        state.withLock { $0.report = report }
    }

    /// Reads what is due and starts a worker for each destination that has none (and whose breaker is closed), as far
    /// as the lanes have room; returns how many messages it handed to workers, without waiting for them. Not to be
    /// called concurrently with itself (`OutboxPump` runs one at a time).
    @discardableResult
    public func drain(limit: Int = 200) async throws -> Int {
        try await recordOutcomes()
        guard !state.withLock({ $0.stopping }) else { return 0 }
        let now = clock.now()
        // Destinations whose worker is busy are left out: their messages would only be read, decoded and skipped.
        let busy = state.withLock { Set($0.workers.keys) }
        let items = try await store.pendingOutbox(now: now, limit: limit, excluding: busy)
        // Oldest first (the store answers in queueing order). A destination whose worker is busy (one stuck room, one
        // hung URL) is that destination's delay, not SkillRelay falling behind, and must not refuse everyone's questions.
        lag.record(items.first(where: \.isWaitingForSkillRelay).map { now.timeIntervalSince($0.createdAt) } ?? 0)
        defer {
            // A drain that took everything due has caught up: whatever came in meanwhile is fresh.
            if items.count < limit { lag.record(0) }
        }
        guard !items.isEmpty else { return 0 }
        var queues: [String: [OutboxItem]] = [:]
        var order: [String] = []
        for item in items {
            let destination = item.message.destination
            if queues[destination] == nil { order.append(destination) }
            queues[destination, default: []].append(item)
        }
        let people = order.count { !$0.hasPrefix("callback:") }
        let started = state.withLock { state -> [(String, [OutboxItem])] in
            var started: [(String, [OutboxItem])] = []
            var busy: [Lane: (width: Int, all: Int)] = [:]
            for worker in state.workers.values {
                let slow = now.timeIntervalSince(worker.startedAt) >= slowAfter
                busy[worker.lane, default: (0, 0)].width += slow ? 0 : 1
                busy[worker.lane, default: (0, 0)].all += 1
            }
            for destination in order where !state.stopping {
                guard state.workers[destination] == nil else { continue }
                if let until = state.breakers[destination]?.openUntil, until > now { continue }
                let lane: Lane = destination.hasPrefix("callback:") ? .callback : .im
                let (width, cap) =
                    lane == .im ? (imWidth(people: people), imBacklogConcurrency) : (callbackConcurrency, 4 * callbackConcurrency)
                let inLane = busy[lane, default: (0, 0)]
                guard inLane.width < width, inLane.all < cap else { continue }
                busy[lane] = (inLane.width + 1, inLane.all + 1)
                state.workers[destination] = Worker(lane: lane, startedAt: now)
                started.append((destination, queues[destination] ?? []))
            }
            return started
        }
        for (destination, queue) in started {
            // Ahead of new requests, as the pump's drains are: messages already promised go out first.
            let task = Task(priority: .high) { await self.work(destination, queue) }
            state.withLock { state in state.workers[destination]?.task = task }
        }
        return started.reduce(0) { $0 + $1.1.count }
    }

    /// Stops for a clean shutdown: starts no more workers, gives those sending up to `grace` to finish, cancels the
    /// rest (a message whose send is cut off stays unsent, its try not counted) and records what they all came to.
    /// Recorded, nothing this instance sent is sent again by whoever takes the outbox up next (another instance, or
    /// this one restarted); what is left unsent is then the store's to give back (`QuestionStore.releaseClaims`). Call
    /// it once no drain is under way (`OutboxPump.stop` does). Throws if the outcomes cannot be recorded.
    public func stop(grace: Duration) async throws {
        state.withLock { $0.stopping = true }
        let deadline = ContinuousClock.now + grace
        while !runningWorkers.isEmpty, ContinuousClock.now < deadline, !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(10))
        }
        for task in runningWorkers { task.cancel() }
        await idle()
        try await recordOutcomes()
    }

    /// The tasks of the workers that have not finished.
    private var runningWorkers: [Task<Void, Never>] {
        state.withLock { state in
            let finished = Set(state.outcomes.map(\.destination))
            return state.workers.filter { !finished.contains($0.key) }.values.compactMap(\.task)
        }
    }

    /// Whether finished workers left outcomes that no drain has recorded yet (their destinations are still held).
    public var hasUnrecordedOutcomes: Bool { state.withLock { !$0.outcomes.isEmpty } }

    /// Waits until no worker is running (their outcomes are recorded by the next drain): for tests, and a pump asked
    /// to flush.
    public func idle() async {
        while true {
            let (tasks, starting) = state.withLock { state in
                (state.workers.values.compactMap(\.task), state.workers.values.contains { $0.task == nil })
            }
            for task in tasks { await task.value }
            if !starting { return }
            await Task.yield()
        }
    }

    /// How many people's messages are sent at once when a drain holds `people` people's.
    func imWidth(people: Int) -> Int {
        people > Self.backlogPeople ? imBacklogConcurrency : imConcurrency
    }

    // MARK: - A destination's worker

    /// Sends one destination's queue in order, stopping at the first failure (the messages behind it wait for it), and
    /// leaves the outcome for the next drain to record.
    private func work(_ destination: String, _ queue: [OutboxItem]) async {
        // Where several instances share the outbox, what one sends is claimed for a lease: renewed while this worker
        // runs, as one slow room, rate limit or hanging URL can outlast a lease, and another instance must never take up
        // a message this one is sending, or has sent and not marked yet (the next drain marks it, at once).
        let renewal = claimRenewal.map { every in
            Task { [store, clock, ids = queue.map(\.id)] in
                while true {
                    try await Task.sleep(for: every)
                    try? await store.renewOutboxClaims(ids, now: clock.now())
                }
            }
        }
        defer { renewal?.cancel() }
        var outcome = Outcome(destination: destination, at: clock.now())
        for item in queue {
            // Stopped (`stop`): what is left of the queue stays unsent, for whoever takes the outbox up next.
            if Task.isCancelled { break }
            do {
                if let reference = try await send(item), let key = item.message.referenceKey {
                    outcome.references[key] = reference
                }
                outcome.sent.append(item.id)
            } catch {
                // A send cut off by `stop` did not fail: it is not counted as a try.
                if !Task.isCancelled { outcome.failure = (item, error) }
                break
            }
        }
        outcome.at = clock.now()
        let (wake, report) = state.withLock { state in
            state.outcomes.append(outcome)
            switch outcome.failure?.error {
            case nil: state.breakers[destination] = nil
            case is DeliveryDeferred: break
            case .some:
                var breaker = state.breakers[destination] ?? Breaker()
                breaker.failures += 1
                if breaker.failures >= Self.breakerThreshold {
                    breaker.openUntil = outcome.at.addingTimeInterval(Self.backoff(afterAttempts: breaker.failures))
                }
                state.breakers[destination] = breaker
            }
            return (state.wake, state.report)
        }
        report?(
            SendReport(
                destination: destination, sent: outcome.sent,
                failure: outcome.failure.map { ($0.item.id, Self.describe($0.error)) },
                deferred: outcome.failure?.error is DeliveryDeferred))
        wake?()
    }

    /// Records what the finished workers came to — every message sent in one transaction, each failure on its own —
    /// and frees their destinations. What cannot be recorded (the store failed) waits for the next drain, its
    /// destinations still held, so that their messages are not read as due again in the meantime.
    private func recordOutcomes() async throws {
        let outcomes = state.withLock { state in
            defer { state.outcomes = [] }
            return state.outcomes
        }
        guard !outcomes.isEmpty else { return }
        do {
            let sent = outcomes.flatMap(\.sent)
            if !sent.isEmpty {
                let references = outcomes.reduce(into: [String: String]()) { $0.merge($1.references) { first, _ in first } }
                try await store.markOutboxSent(sent, references: references, now: outcomes.map(\.at).max() ?? clock.now())
            }
            for outcome in outcomes {
                if let failure = outcome.failure { try await record(failure.error, of: failure.item, now: outcome.at) }
            }
        } catch {
            // Tried again by the next drain (a mark already written is written again: at worst a try counted twice).
            state.withLock { $0.outcomes = outcomes + $0.outcomes }
            throw error
        }
        state.withLock { state in
            for outcome in outcomes { state.workers[outcome.destination] = nil }
        }
    }

    /// Records a failed try: a rate-limited one is put off as the IM server asked, uncounted; any other is counted and
    /// retried with backoff, or given up after `maxAttempts`.
    private func record(_ error: any Error, of item: OutboxItem, now: Date) async throws {
        let text = Self.describe(error)
        if let deferred = error as? DeliveryDeferred {
            try await store.deferOutbox(item.id, until: now.addingTimeInterval(max(0, deferred.retryAfter)), reason: text)
            return
        }
        let attempts = item.attempts + 1
        let retryAt = attempts >= Self.maxAttempts ? nil : now.addingTimeInterval(Self.backoff(afterAttempts: attempts))
        try await store.markOutboxFailed(item.id, error: text, retryAt: retryAt)
    }

    /// A failed try's error as the store and the log keep it: its description, at most 500 characters.
    static func describe(_ error: any Error) -> String {
        String(describing: error).prefix(500).description
    }

    /// Seconds before the next try: 1, 2, 4 … up to five minutes.
    public static func backoff(afterAttempts attempts: Int) -> TimeInterval {
        min(300, pow(2, Double(max(0, attempts - 1))))
    }

    /// Sends one message; returns the IM's reference for it, where it keeps one (see `OutboxMessage.referenceKey`).
    private func send(_ item: OutboxItem) async throws -> String? {
        switch item.message {
        case .question(let message): return try await messenger.deliverQuestion(message, key: item.key)
        case .answer(let message): return try await messenger.deliverAnswer(message, key: item.key)
        case .reveal(let message): return try await messenger.deliverReveal(message, key: item.key)
        case .introduction(let message): return try await messenger.introduce(message, key: item.key)
        case .followUp(let message): return try await messenger.deliverFollowUp(message, key: item.key)
        case .closed(let message): try await messenger.notifyClosed(message, key: item.key)
        case .askerNotice(let message): try await messenger.notifyAsker(message, key: item.key)
        case .callback(let message): try await callbacks.post(message, key: item.key)
        }
        return nil
    }
}
