import Foundation

/// How the routing itself is doing, over the deliveries of the questions asked since a time: what it sent, how those
/// went, how much of it was trials of people it knew little about, and how much it has learned.
public struct RoutingFigures: Sendable, Equatable {
    /// The routing in use.
    public var policy: RoutingPolicy
    /// The learned statistics' half-life, in days.
    public var halfLifeDays: Double
    /// Deliveries made.
    public var deliveries: Int
    /// Of those, answered within the time that counts (`timelyAnswerSeconds`).
    public var answeredInTime: Int
    /// Answered later than that.
    public var answeredLate: Int
    public var passed: Int
    /// Neither answered nor passed by the time the question closed.
    public var unanswered: Int
    /// Deliveries to someone with fewer than `RoutingFigures.trialOutcomes` known outcomes on the topic: exploration.
    public var trials: Int
    /// People with learned statistics, and (person, topic) pairs.
    public var peopleLearned: Int
    public var pairsLearned: Int

    /// Below this many known outcomes on a topic, a delivery is a trial.
    public static let trialOutcomes = 3.0

    public init(
        policy: RoutingPolicy = .learned, halfLifeDays: Double = 14, deliveries: Int = 0, answeredInTime: Int = 0, answeredLate: Int = 0,
        passed: Int = 0, unanswered: Int = 0, trials: Int = 0, peopleLearned: Int = 0, pairsLearned: Int = 0
    ) {
        self.policy = policy
        self.halfLifeDays = halfLifeDays
        self.deliveries = deliveries
        self.answeredInTime = answeredInTime
        self.answeredLate = answeredLate
        self.passed = passed
        self.unanswered = unanswered
        self.trials = trials
        self.peopleLearned = peopleLearned
        self.pairsLearned = pairsLearned
    }

    private func share(_ count: Int) -> Double { deliveries == 0 ? 0 : Double(count) / Double(deliveries) }

    public var answeredInTimeShare: Double { share(answeredInTime) }
    public var passedShare: Double { share(passed) }
    /// Deliveries neither answered nor passed: interruptions that gave nothing back.
    public var unansweredShare: Double { share(unanswered) }
    public var trialShare: Double { share(trials) }
}
