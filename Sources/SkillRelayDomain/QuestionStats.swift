import Foundation

/// The numbers that tell whether SkillRelay works, over the questions asked since a time.
public struct QuestionStats: Sendable, Equatable {
    /// A topic whose questions went unanswered: where the company lacks experts.
    public struct UnansweredTopic: Sendable, Equatable {
        public var topic: TopicReference
        /// Questions on it that closed (expired) without a single answer.
        public var unanswered: Int
        public var asked: Int

        public init(topic: TopicReference, unanswered: Int, asked: Int) {
            self.topic = topic
            self.unanswered = unanswered
            self.asked = asked
        }
    }

    /// A specialist and how often questions reached them.
    public struct InterruptedSpecialist: Sendable, Equatable {
        public var handle: String
        public var name: String
        public var deliveries: Int
        public var answered: Int

        public init(handle: String, name: String, deliveries: Int, answered: Int) {
            self.handle = handle
            self.name = name
            self.deliveries = deliveries
            self.answered = answered
        }
    }

    /// Questions asked since the start.
    public var asked: Int
    /// Of those, how many are in each status.
    public var open: Int
    public var answered: Int
    public var expired: Int
    public var cancelled: Int
    /// Questions that got at least one answer relayed.
    public var withAnswers: Int
    /// Answers relayed to askers, in all.
    public var relayedAnswers: Int
    /// Seconds from asking to the first relayed answer, for each question that got one.
    public var firstAnswerSeconds: [Double]
    /// Topics with questions that expired unanswered, most first.
    public var unansweredTopics: [UnansweredTopic]
    /// Specialists who received the most questions, most first.
    public var mostInterrupted: [InterruptedSpecialist]
    /// The routing's own figures.
    public var routing: RoutingFigures

    public init(
        asked: Int, open: Int, answered: Int, expired: Int, cancelled: Int, withAnswers: Int, relayedAnswers: Int, firstAnswerSeconds: [Double],
        unansweredTopics: [UnansweredTopic], mostInterrupted: [InterruptedSpecialist], routing: RoutingFigures = RoutingFigures()
    ) {
        self.routing = routing
        self.asked = asked
        self.open = open
        self.answered = answered
        self.expired = expired
        self.cancelled = cancelled
        self.withAnswers = withAnswers
        self.relayedAnswers = relayedAnswers
        self.firstAnswerSeconds = firstAnswerSeconds.sorted()
        self.unansweredTopics = unansweredTopics
        self.mostInterrupted = mostInterrupted
    }

    /// The share of questions asked that got at least one answer (0 when none were asked).
    public var shareAnswered: Double { asked == 0 ? 0 : Double(withAnswers) / Double(asked) }

    /// Relayed answers per question asked (0 when none were asked).
    public var answersPerQuestion: Double { asked == 0 ? 0 : Double(relayedAnswers) / Double(asked) }

    /// The median time to the first answer, in seconds.
    public var medianFirstAnswerSeconds: Double? { Self.percentile(50, of: firstAnswerSeconds) }

    /// The 90th percentile of the time to the first answer, in seconds.
    public var p90FirstAnswerSeconds: Double? { Self.percentile(90, of: firstAnswerSeconds) }

    /// The nearest-rank percentile of sorted values: the smallest value with at least `p`% of values at or below it.
    public static func percentile(_ p: Double, of sorted: [Double]) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}

/// Reads the numbers from the questions, deliveries and answers.
public protocol StatsStore: Sendable {
    /// The statistics over questions created at or after `since` (all of them with `nil`); `top` bounds both lists.
    func questionStats(since: Date?, top: Int) async throws -> QuestionStats
    /// Per UTC day, the questions created from `from` until `until` (days without questions left out).
    func dailyQuestionStats(from: Date, until: Date) async throws -> [DailyQuestionStats]
}

/// The statistics, for admins.
public struct StatsService: Sendable {
    let store: any StatsStore
    let settings: QuestionSettings

    public init(store: any StatsStore, settings: QuestionSettings = QuestionSettings()) {
        self.store = store
        self.settings = settings
    }

    /// The numbers since a time (or ever), for an admin.
    public func stats(since: Date? = nil, by caller: Caller) async throws -> QuestionStats {
        try DirectoryPolicy.authorize(caller, to: .readStats)
        var stats = try await store.questionStats(since: since, top: 10)
        stats.routing.policy = settings.routing
        stats.routing.halfLifeDays = settings.learningHalfLifeDays
        return stats
    }
}
