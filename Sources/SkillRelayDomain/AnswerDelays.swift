import Foundation
import Synchronization

/// How long answers take to come, as this deployment has seen it: of the answers that came in time (within
/// `timelyAnswerSeconds` of their delivery), the share that came within a given time. The learned routing uses it to
/// judge whether the people already holding a question are still likely to answer in time, before it interrupts anyone
/// else.
///
/// With few answers seen, the observed delays are blended with a uniform spread over the window, worth
/// `priorWeight` answers: early on, every moment of the window is taken as equally likely.
public struct AnswerDelays: Sendable, Equatable {
    /// Answers the uniform prior is worth.
    public static let priorWeight = 10.0
    /// The window an answer must come within to count as in time, in seconds.
    public var window: TimeInterval
    /// The delays of answers that came in time, in seconds, sorted.
    public private(set) var sorted: [TimeInterval]

    /// `delays` may hold answers later than the window; those are left out.
    public init(window: TimeInterval, delays: [TimeInterval]) {
        self.window = max(1, window)
        self.sorted = delays.filter { $0 >= 0 && $0 <= max(1, window) }.sorted()
    }

    /// The share of answers in time that come within `elapsed` seconds of their delivery.
    public func shareAnswered(within elapsed: TimeInterval) -> Double {
        guard elapsed > 0 else { return 0 }
        guard elapsed < window else { return 1 }
        let uniform = elapsed / window
        guard !sorted.isEmpty else { return uniform }
        // The count of delays at most `elapsed`: the first index past them.
        var low = 0
        var high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle] <= elapsed { low = middle + 1 } else { high = middle }
        }
        let observed = Double(low)
        return (observed + Self.priorWeight * uniform) / (Double(sorted.count) + Self.priorWeight)
    }

    /// The chance that someone who was expected to answer in time with chance `expected` when the question reached them,
    /// and has not answered after `elapsed` seconds, still answers in time.
    public func stillAnswering(expected: Double, elapsed: TimeInterval) -> Double {
        let expected = min(1, max(0, expected))
        guard elapsed < window else { return 0 }
        let share = shareAnswered(within: elapsed)
        let silentSoFar = 1 - expected * share
        guard silentSoFar > 0 else { return 0 }
        return expected * (1 - share) / silentSoFar
    }

    /// The chance that at least one of the people still holding a question answers it in time.
    public func anyStillAnswering(_ pending: [PendingDelivery], now: Date) -> Double {
        var noneAnswers = 1.0
        for delivery in pending {
            let expected = delivery.expectedTimely ?? Self.unknownExpectation
            noneAnswers *= 1 - stillAnswering(expected: expected, elapsed: now.timeIntervalSince(delivery.deliveredAt))
        }
        return 1 - noneAnswers
    }

    /// What a delivery made without an estimate (by `static` routing, or before estimates were kept) is taken to promise.
    public static let unknownExpectation = 0.5
}

/// A delivery still waiting for its specialist: when it went out, and the learned routing's estimate then of an answer
/// in time (`nil` where none was made).
public struct PendingDelivery: Sendable, Equatable {
    public var deliveredAt: Date
    public var expectedTimely: Double?

    public init(deliveredAt: Date, expectedTimely: Double?) {
        self.deliveredAt = deliveredAt
        self.expectedTimely = expectedTimely
    }
}

/// The answer delays the store last gave, read again once `refreshInterval` has passed on the service's clock: the
/// shape of answer delays changes over weeks, not between two questions.
public final class AnswerDelayCache: Sendable {
    /// Seconds between two reads of the store.
    public static let refreshInterval: TimeInterval = 3600
    /// Answers read at most, the newest.
    public static let sampleSize = 500

    private let state = Mutex<(readAt: Date, delays: AnswerDelays)?>(nil)

    public init() {}

    /// The cached delays if they are fresh at `now`.
    func fresh(at now: Date) -> AnswerDelays? {
        state.withLock { cached in
            guard let cached, now.timeIntervalSince(cached.readAt) < Self.refreshInterval, now >= cached.readAt else { return nil }
            return cached.delays
        }
    }

    func store(_ delays: AnswerDelays, readAt: Date) {
        state.withLock { $0 = (readAt, delays) }
    }
}
