import Foundation

/// The learned routing's estimates for one candidate: how likely they are to answer a question on the topic in time
/// now, and how likely that answer is to help, each a Beta posterior over what SkillRelay has seen them do.
///
/// - In time: the person's overall rate (uniform prior) is the prior for the topic, with the strength of
///   `priorStrength` outcomes; it is then scaled by how this hour of the week compares with their overall rate.
/// - Helpful: the prior comes from the tag (higher levels are expected to help more, a self-declared tag a little
///   less), worth `helpfulPriorStrength` ratings, then the ratings of their answers on the topic.
/// - Every count decays with a half-life, so a change in someone's role or load shows within weeks.
///
/// Ranking draws from both posteriors (Thompson sampling): someone with little data is uncertain, so is sometimes
/// drawn high and gets a trial, while a proven poor fit is drawn low nearly every time.
public struct RoutingEstimator: Sendable {
    /// Outcomes a prior is worth.
    public static let priorStrength = 4.0
    /// Ratings the tag's prior for helping is worth: ratings come for one answer in two at best, so a few of them
    /// should not outweigh a manager's judgement.
    public static let helpfulPriorStrength = 10.0
    /// How much a delivery within the last hours counts against being asked again: the score is multiplied by
    /// `1 - restPenalty * exp(-hours since the last delivery / restHours)`.
    public static let restPenalty = 0.5
    public static let restHours = 3.0
    /// Each question received in the past day multiplies the score by this: nobody should carry a team's questions.
    public static let dailyLoadFactor = 0.5
    /// How much more helping counts than answering in time: the score is `timely * helpful^helpfulWeight`.
    public static let helpfulWeight = 3.0

    public var halfLife: TimeInterval
    public var now: Date

    public init(halfLife: TimeInterval, now: Date) {
        self.halfLife = halfLife
        self.now = now
    }

    public init(settings: QuestionSettings, now: Date) {
        self.init(halfLife: settings.learningHalfLifeDays * 86_400, now: now)
    }

    /// The parameters of a Beta distribution.
    public struct Beta: Sendable, Equatable {
        public var alpha: Double
        public var beta: Double
        public var mean: Double { alpha / (alpha + beta) }
    }

    /// One candidate's estimate.
    public struct Estimate: Sendable, Equatable {
        /// Answering on this topic in time, at any hour.
        public var timely: Beta
        /// How this hour of the week compares with their overall rate (1: no different).
        public var hourFactor: Double
        /// The answer helping, given one.
        public var helpful: Beta
        /// How much recent interruptions (the last hours, and the count over the past day) hold them back (1: not at all).
        public var rest: Double

        /// The expected chance of an answer in time, now.
        public var timelyNow: Double { min(1, timely.mean * hourFactor) }
        /// The expected chance of a good answer in time, now.
        public var expected: Double { timelyNow * helpful.mean }
    }

    public func estimate(_ candidate: Candidate) -> Estimate {
        let record = candidate.learned
        let overall = record.overall.decayed(to: now, halfLife: halfLife)
        let hour = record.hour.decayed(to: now, halfLife: halfLife)
        let topic = record.topic.decayed(to: now, halfLife: halfLife)
        let s = Self.priorStrength
        let overallRate = (1 + overall.timely) / (2 + overall.outcomes)
        let hourRate = (overallRate * s + hour.timely) / (s + hour.outcomes)
        let timely = Beta(
            alpha: overallRate * s + topic.timely, beta: (1 - overallRate) * s + max(0, topic.outcomes - topic.timely))
        let helpfulPrior = Self.helpfulPrior(level: candidate.level, source: candidate.source)
        let h = Self.helpfulPriorStrength
        let helpful = Beta(alpha: helpfulPrior * h + topic.helpful, beta: (1 - helpfulPrior) * h + max(0, topic.rated - topic.helpful))
        var rest = 1.0
        if let last = candidate.lastInterruptedAt {
            let hours = max(0, now.timeIntervalSince(last)) / 3600
            rest = 1 - Self.restPenalty * exp(-hours / Self.restHours)
        }
        rest *= pow(Self.dailyLoadFactor, Double(candidate.deliveriesLastDay))
        return Estimate(timely: timely, hourFactor: hourRate / overallRate, helpful: helpful, rest: rest)
    }

    /// What a tag alone says about the chance that an answer helps.
    static func helpfulPrior(level: Int, source: SkillSource) -> Double {
        let prior = 0.35 + 0.1 * Double(level) - (source == .selfDeclared ? 0.1 : 0)
        return min(0.95, max(0.1, prior))
    }

    /// A draw of the chance of a good answer in time, for ranking.
    public func sample(_ estimate: Estimate, using random: inout SplitMix64) -> Double {
        let timely = Self.sampleBeta(estimate.timely, using: &random)
        let helpful = Self.sampleBeta(estimate.helpful, using: &random)
        return min(1, timely * estimate.hourFactor) * pow(helpful, Self.helpfulWeight) * estimate.rest
    }

    /// How much a count made at `from` still weighs at `to`.
    public static func decayFactor(from: Date, to: Date, halfLife: TimeInterval) -> Double {
        let elapsed = to.timeIntervalSince(from)
        guard elapsed > 0, halfLife > 0 else { return 1 }
        return exp2(-elapsed / halfLife)
    }

    // MARK: - Sampling

    /// A draw from a Beta distribution, as the ratio of two Gamma draws.
    static func sampleBeta(_ beta: Beta, using random: inout SplitMix64) -> Double {
        let x = sampleGamma(shape: beta.alpha, using: &random)
        let y = sampleGamma(shape: beta.beta, using: &random)
        let total = x + y
        return total > 0 ? x / total : beta.mean
    }

    /// A draw from a Gamma distribution of scale 1 (Marsaglia and Tsang, 2000); shapes below 1 through the usual boost.
    static func sampleGamma(shape: Double, using random: inout SplitMix64) -> Double {
        guard shape > 0 else { return 0 }
        if shape < 1 {
            let u = max(random.unit(), .leastNonzeroMagnitude)
            return sampleGamma(shape: shape + 1, using: &random) * pow(u, 1 / shape)
        }
        let d = shape - 1.0 / 3
        let c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double
            var v: Double
            repeat {
                x = sampleNormal(using: &random)
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = random.unit()
            if u < 1 - 0.0331 * x * x * x * x { return d * v }
            if log(max(u, .leastNonzeroMagnitude)) < 0.5 * x * x + d * (1 - v + log(v)) { return d * v }
        }
    }

    /// A standard normal draw (Box-Muller).
    static func sampleNormal(using random: inout SplitMix64) -> Double {
        let u1 = max(random.unit(), .leastNonzeroMagnitude)
        let u2 = random.unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}
