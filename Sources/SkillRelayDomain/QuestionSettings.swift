/// How questions are routed: every number a setting with a default, read from the config file and flags.
public struct QuestionSettings: Sendable, Equatable, Codable {
    /// Specialists per wave (N).
    public var waveSize: Int = 5
    /// Seconds between waves while fewer than K answers came.
    public var waveIntervalSeconds: Int = 120
    /// Waves at most (W).
    public var maxWaves: Int = 3
    /// Seconds from asking until the question expires.
    public var deadlineSeconds: Int = 1800
    /// Answers relayed when the asker does not say (K).
    public var defaultMaxAnswers: Int = 3
    /// Whether `away` specialists may receive a question from the second wave on.
    public var allowAwayInLaterWaves: Bool = false
    /// Questions a specialist receives per hour at most: their interruption budget.
    public var hourlyBudget: Int = 4
    /// Questions a specialist receives in any 24 hours at most: nobody should carry a team's questions, and an expert
    /// asked more than a few times a day stops answering (Aardvark asked each person less than once a day).
    public var dailyBudget: Int = 4
    /// How many of the best candidates not yet asked have their presence checked for a wave.
    public var presencePoolSize: Int = 50
    /// Lowest skill level that makes someone a candidate.
    public var minimumLevel: Int = 1
    /// Questions one caller may ask per minute.
    public var asksPerMinute: Int = 30
    /// Longest question or answer, in characters.
    public var maxTextLength: Int = 4000
    /// Days the compliance log keeps an entry.
    public var retentionDays: Int = 365
    /// How far behind the outbox may be (seconds the oldest message has waited for its first try) before new
    /// questions are refused with 503 and `Retry-After` until deliveries catch up: a question delivered minutes late
    /// is not worth taking.
    public var maxDeliveryLagSeconds: Int = 10
    /// Content rules: a name and a regular expression; a question or answer matching one is refused.
    public var contentRules: [ContentRule] = ContentRule.defaults
    /// How candidates are ordered: `learned` (from outcomes) or `static` (by tags alone).
    public var routing: RoutingPolicy = .learned
    /// Days after which an outcome counts half as much in the learned routing's estimates.
    public var learningHalfLifeDays: Double = 14
    /// Seconds within which an answer counts as "in time" for the learned routing.
    public var timelyAnswerSeconds: Int = 600
    /// With `learned` routing, the chance of at least one answer in time that a question's deliveries should give
    /// together before a wave stops adding people, and below which a later wave goes out. Lower interrupts fewer people
    /// and wastes fewer deliveries, at the cost of a later first answer (BENCHMARKS.md, figure 7).
    public var waveConfidence: Double = 0.99
    /// How many active people at least must fit what an asker learns about who answered (see `AnswererLabel`); 1
    /// shows every level exactly.
    public var anonymityK: Int = 5
    /// Days after a question closes during which its asker and the specialists who answered may still send follow-ups.
    public var followUpDays: Int = 7

    public init() {}

    /// The largest daily budget: the candidate query counts a day's deliveries no further than this.
    public static let maxDailyBudget = 100
    /// The highest wave confidence: certainty would ask everyone.
    public static let maxWaveConfidence = 0.999
    /// Whether `value` may be a `waveConfidence`, and what it must be otherwise.
    public static func isWaveConfidence(_ value: Double) -> Bool { value > 0 && value <= maxWaveConfidence }
    public static let waveConfidenceRule = "must be more than 0 and at most \(maxWaveConfidence)"

    /// Checks that every number makes sense, naming the first that does not.
    public func validated() throws(DirectoryError) -> QuestionSettings {
        let positive: [(String, Int)] = [
            ("waveSize", waveSize), ("waveIntervalSeconds", waveIntervalSeconds), ("maxWaves", maxWaves), ("deadlineSeconds", deadlineSeconds),
            ("hourlyBudget", hourlyBudget), ("dailyBudget", dailyBudget), ("presencePoolSize", presencePoolSize), ("asksPerMinute", asksPerMinute),
            ("maxTextLength", maxTextLength), ("retentionDays", retentionDays), ("maxDeliveryLagSeconds", maxDeliveryLagSeconds),
            ("timelyAnswerSeconds", timelyAnswerSeconds), ("anonymityK", anonymityK), ("followUpDays", followUpDays),
        ]
        for (name, value) in positive where value < 1 { throw .invalidField(name, "must be at least 1") }
        guard dailyBudget <= Self.maxDailyBudget else { throw .invalidField("dailyBudget", "must be at most \(Self.maxDailyBudget)") }
        guard (1...10).contains(defaultMaxAnswers) else { throw .invalidField("defaultMaxAnswers", "must be from 1 to 10") }
        guard DirectoryValidation.levels.contains(minimumLevel) else { throw .invalidLevel(minimumLevel) }
        guard learningHalfLifeDays.isFinite, learningHalfLifeDays > 0, learningHalfLifeDays <= 3650 else {
            throw .invalidField("learningHalfLifeDays", "must be more than 0 and at most 3650")
        }
        guard Self.isWaveConfidence(waveConfidence) else { throw .invalidField("waveConfidence", Self.waveConfidenceRule) }
        _ = try ContentPolicy(rules: contentRules)
        return self
    }

    enum CodingKeys: String, CodingKey {
        case waveSize, waveIntervalSeconds, maxWaves, deadlineSeconds, defaultMaxAnswers, allowAwayInLaterWaves, hourlyBudget, dailyBudget
        case presencePoolSize
        case minimumLevel, asksPerMinute, maxTextLength, retentionDays, contentRules, maxDeliveryLagSeconds
        case routing, learningHalfLifeDays, timelyAnswerSeconds, waveConfidence, anonymityK, followUpDays
    }

    /// Reads a config file's settings: a key left out keeps its default.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = QuestionSettings()
        waveSize = try container.decodeIfPresent(Int.self, forKey: .waveSize) ?? defaults.waveSize
        waveIntervalSeconds = try container.decodeIfPresent(Int.self, forKey: .waveIntervalSeconds) ?? defaults.waveIntervalSeconds
        maxWaves = try container.decodeIfPresent(Int.self, forKey: .maxWaves) ?? defaults.maxWaves
        deadlineSeconds = try container.decodeIfPresent(Int.self, forKey: .deadlineSeconds) ?? defaults.deadlineSeconds
        defaultMaxAnswers = try container.decodeIfPresent(Int.self, forKey: .defaultMaxAnswers) ?? defaults.defaultMaxAnswers
        allowAwayInLaterWaves = try container.decodeIfPresent(Bool.self, forKey: .allowAwayInLaterWaves) ?? defaults.allowAwayInLaterWaves
        hourlyBudget = try container.decodeIfPresent(Int.self, forKey: .hourlyBudget) ?? defaults.hourlyBudget
        dailyBudget = try container.decodeIfPresent(Int.self, forKey: .dailyBudget) ?? defaults.dailyBudget
        presencePoolSize = try container.decodeIfPresent(Int.self, forKey: .presencePoolSize) ?? defaults.presencePoolSize
        minimumLevel = try container.decodeIfPresent(Int.self, forKey: .minimumLevel) ?? defaults.minimumLevel
        asksPerMinute = try container.decodeIfPresent(Int.self, forKey: .asksPerMinute) ?? defaults.asksPerMinute
        maxTextLength = try container.decodeIfPresent(Int.self, forKey: .maxTextLength) ?? defaults.maxTextLength
        retentionDays = try container.decodeIfPresent(Int.self, forKey: .retentionDays) ?? defaults.retentionDays
        contentRules = try container.decodeIfPresent([ContentRule].self, forKey: .contentRules) ?? defaults.contentRules
        maxDeliveryLagSeconds = try container.decodeIfPresent(Int.self, forKey: .maxDeliveryLagSeconds) ?? defaults.maxDeliveryLagSeconds
        routing = try container.decodeIfPresent(RoutingPolicy.self, forKey: .routing) ?? defaults.routing
        learningHalfLifeDays = try container.decodeIfPresent(Double.self, forKey: .learningHalfLifeDays) ?? defaults.learningHalfLifeDays
        timelyAnswerSeconds = try container.decodeIfPresent(Int.self, forKey: .timelyAnswerSeconds) ?? defaults.timelyAnswerSeconds
        waveConfidence = try container.decodeIfPresent(Double.self, forKey: .waveConfidence) ?? defaults.waveConfidence
        anonymityK = try container.decodeIfPresent(Int.self, forKey: .anonymityK) ?? defaults.anonymityK
        followUpDays = try container.decodeIfPresent(Int.self, forKey: .followUpDays) ?? defaults.followUpDays
    }
}
