import Foundation

/// Outcomes of deliveries, each counted with a weight that halves every half-life (see `RoutingEstimator`), as they
/// stood at `updatedAt`.
public struct OutcomeCounts: Sendable, Equatable {
    /// Deliveries whose outcome is known: answered, passed, or left unanswered past the time that counts.
    public var outcomes: Double
    /// Of those, answered within `QuestionSettings.timelyAnswerSeconds`.
    public var timely: Double
    /// Of those, passed.
    public var passed: Double
    /// Relayed answers the asker rated.
    public var rated: Double
    /// Of those, rated helpful.
    public var helpful: Double
    /// When the counts were last brought up to date; `nil` for no data.
    public var updatedAt: Date?

    public init(outcomes: Double = 0, timely: Double = 0, passed: Double = 0, rated: Double = 0, helpful: Double = 0, updatedAt: Date? = nil) {
        self.outcomes = outcomes
        self.timely = timely
        self.passed = passed
        self.rated = rated
        self.helpful = helpful
        self.updatedAt = updatedAt
    }

    /// The counts as they stand at `now`: every one multiplied by the decay since `updatedAt`.
    public func decayed(to now: Date, halfLife: TimeInterval) -> OutcomeCounts {
        guard let updatedAt else { return self }
        let factor = RoutingEstimator.decayFactor(from: updatedAt, to: now, halfLife: halfLife)
        return OutcomeCounts(
            outcomes: outcomes * factor, timely: timely * factor, passed: passed * factor, rated: rated * factor, helpful: helpful * factor,
            updatedAt: now)
    }
}

/// What SkillRelay has seen a candidate do: on the question's topic, at this hour of the week, and overall.
public struct LearnedRecord: Sendable, Equatable {
    /// On the question's own topic.
    public var topic: OutcomeCounts
    /// In this hour of the week (UTC), on any topic.
    public var hour: OutcomeCounts
    /// On any topic, at any hour.
    public var overall: OutcomeCounts

    public init(topic: OutcomeCounts = OutcomeCounts(), hour: OutcomeCounts = OutcomeCounts(), overall: OutcomeCounts = OutcomeCounts()) {
        self.topic = topic
        self.hour = hour
        self.overall = overall
    }

    /// The hour of the week (0 = Monday 00:00-00:59 UTC, 167 = Sunday 23:00-23:59 UTC) that `date` falls in.
    public static func hourOfWeek(_ date: Date) -> Int {
        // 1970-01-01 was a Thursday: day 0 of the epoch is day 3 of the week counted from Monday.
        let hours = Int((date.timeIntervalSince1970 / 3600).rounded(.down))
        let days = hours.floorDivided(by: 24)
        let weekday = (days + 3).floorModulo(7)
        return weekday * 24 + hours.floorModulo(24)
    }
}

extension Int {
    fileprivate func floorDivided(by divisor: Int) -> Int { (self - floorModulo(divisor)) / divisor }
    fileprivate func floorModulo(_ divisor: Int) -> Int { ((self % divisor) + divisor) % divisor }
}

/// What the store needs to keep the learned routing's statistics: how fast they decay and what counts as in time.
public struct RoutingLearning: Sendable, Equatable {
    public var halfLife: TimeInterval
    /// An answer within this long after its delivery counts as in time; a delivery still unanswered this long after it
    /// was made, when its question closes, counts as silence.
    public var timelySeconds: TimeInterval

    public init(halfLife: TimeInterval = 14 * 86_400, timelySeconds: TimeInterval = 600) {
        self.halfLife = halfLife
        self.timelySeconds = timelySeconds
    }

    public init(settings: QuestionSettings) {
        self.init(halfLife: settings.learningHalfLifeDays * 86_400, timelySeconds: TimeInterval(settings.timelyAnswerSeconds))
    }
}
