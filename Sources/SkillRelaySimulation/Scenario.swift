import Foundation
import SkillRelayDomain

/// A simulated company and how its people behave: everything `skillrelay simulate` knows, read from a JSON file.
/// Nothing here describes the routing; the simulation sees only what a deployment sees.
public struct Scenario: Sendable, Equatable, Codable {
    /// A name for the report.
    public var name: String
    /// People in the company.
    public var people: Int
    /// Direct reports per manager at most (the org tree is filled breadth first).
    public var managerSpan: Int
    /// The topic tree: roots with their subtopics.
    public var topics: [TopicNode]
    /// Topic popularity: the k-th most asked topic (in an order drawn by the seed) gets weight 1/k^s.
    public var topicPopularityZipf: Double
    /// Time zones and working hours, each for a share of the people.
    public var schedules: [Schedule]
    /// Share of working time each person spends in meetings (shown as busy).
    public var meetingBusyShare: Double
    /// Share of working time each person is away from the keyboard (shown as away).
    public var awayShare: Double
    /// `reported`: the presence source tells each person's presence; `off`: it answers offline for everyone, as a
    /// Synapse with presence disabled does.
    public var presence: PresenceReporting
    /// How the skills directory's tags relate to what people really know.
    public var tags: TagQuality
    /// How people answer, pass, ignore, rate and ask.
    public var behaviour: Behaviour
    /// Question settings for this company (keys left out keep the server's defaults).
    public var settings: QuestionSettings?

    /// Whether the presence source reports presence.
    public enum PresenceReporting: String, Sendable, Equatable, Codable {
        case reported, off
    }

    /// A topic and its subtopics.
    public struct TopicNode: Sendable, Equatable, Codable {
        public var slug: String
        public var name: String
        public var children: [TopicNode]?
    }

    /// A time zone and working hours (Monday to Friday, local time) for a share of the people.
    public struct Schedule: Sendable, Equatable, Codable {
        public var share: Double
        /// Hours from UTC (e.g. -5, 1, 5.5).
        public var utcOffsetHours: Double
        /// `HH:MM`, local.
        public var start: String
        /// `HH:MM`, local, after `start`.
        public var end: String
    }

    /// How good the tags are.
    public struct TagQuality: Sendable, Equatable, Codable {
        /// Share of people tagged with at least one topic (the specialists).
        public var specialistShare: Double
        /// Tags per specialist, from `tagsPerSpecialistMin` to `tagsPerSpecialistMax`.
        public var tagsPerSpecialistMin: Int
        public var tagsPerSpecialistMax: Int
        /// How strongly a specialist's topics follow the topics' popularity: 0 uniform, 1 as popular as asked.
        public var tagPopularityFollow: Double
        /// Shares of tags at level 1 to 5 (five numbers).
        public var levelShares: [Double]
        /// Share of tags one or two levels above the person's true skill.
        public var overTaggedShare: Double
        /// Share of tags whose skill is gone (true skill 0).
        public var staleShare: Double
        /// Share of specialists with a high true skill (4 or 5) in a topic they are tagged with only in a sibling
        /// subtopic at a low level, or not at all.
        public var untaggedExpertShare: Double
        /// Share of specialists with one extra tag at level 3 to 5 and a true skill of 0 or 1 (self-declared noise).
        public var selfDeclaredNoiseShare: Double
        /// Standard deviation, in levels, of the true skill around an accurate tag's level.
        public var skillNoise: Double
    }

    /// How people act.
    public struct Behaviour: Sendable, Equatable, Codable {
        /// Chance to answer a question, by true skill 0 to 5 (six numbers), before load and interruption.
        public var answerProbabilityBySkill: [Double]
        /// Each question already received today lowers the chance to answer by this share.
        public var loadPenaltyPerDelivery: Double
        /// A question within this many minutes of the previous one ...
        public var recentInterruptionMinutes: Double
        /// ... is answered with this share less chance.
        public var recentInterruptionPenalty: Double
        /// Answer delay: log-normal with this median ...
        public var answerDelayMedianSeconds: Double
        /// ... and this spread (sigma of the logarithm).
        public var answerDelaySpread: Double
        /// Delays are this many times longer for someone in a meeting.
        public var meetingDelayFactor: Double
        /// Of those who do not answer, the share who pass (the others ignore the question).
        public var passProbability: Double
        /// Median delay of a pass (same spread as answers).
        public var passDelayMedianSeconds: Double
        /// Chance an answer is helpful, by the answerer's true skill 0 to 5 (six numbers).
        public var helpfulProbabilityBySkill: [Double]
        /// Chance an asker rates a relayed answer.
        public var ratingProbability: Double
        /// Questions each person asks per working day (Poisson mean).
        public var questionsPerPersonPerDay: Double
    }
}

// MARK: - Reading and checking

extension Scenario {
    /// Reads and checks a scenario file.
    public static func load(path: String) throws(SimulationError) -> Scenario {
        guard let data = FileManager.default.contents(atPath: path) else { throw .scenario(field: nil, "cannot read '\(path)'") }
        return try decode(data)
    }

    /// Decodes and checks a scenario's JSON.
    public static func decode(_ data: Data) throws(SimulationError) -> Scenario {
        let scenario: Scenario
        do {
            scenario = try JSONDecoder().decode(Scenario.self, from: data)
        } catch let error as DecodingError {
            throw SimulationError.describing(error)
        } catch {
            throw .scenario(field: nil, "is not valid JSON")
        }
        try scenario.validate()
        return scenario
    }

    /// Checks every number, naming the first field that is wrong.
    public func validate() throws(SimulationError) {
        guard (2...200_000).contains(people) else { throw .scenario(field: "people", "must be from 2 to 200000") }
        guard managerSpan >= 1 else { throw .scenario(field: "managerSpan", "must be at least 1") }
        guard !topics.isEmpty else { throw .scenario(field: "topics", "must name at least one topic") }
        var seen = Set<String>()
        for (path, node) in flattenedTopics() {
            guard DirectoryValidation.isValidSlug(node.slug) else {
                throw .scenario(field: path + ".slug", "'\(node.slug)' must be lowercase letters, digits and hyphens")
            }
            guard seen.insert(node.slug).inserted else { throw .scenario(field: path + ".slug", "'\(node.slug)' appears twice") }
            guard !node.name.trimmingCharacters(in: .whitespaces).isEmpty else { throw .scenario(field: path + ".name", "must not be empty") }
        }
        guard topicPopularityZipf >= 0, topicPopularityZipf <= 5 else { throw .scenario(field: "topicPopularityZipf", "must be from 0 to 5") }
        guard !schedules.isEmpty else { throw .scenario(field: "schedules", "must hold at least one schedule") }
        for (index, schedule) in schedules.enumerated() {
            let path = "schedules[\(index)]"
            try Self.share(schedule.share, path + ".share")
            guard (-12...14).contains(schedule.utcOffsetHours) else { throw .scenario(field: path + ".utcOffsetHours", "must be from -12 to 14") }
            guard let start = Self.minutes(schedule.start) else { throw .scenario(field: path + ".start", "must be HH:MM") }
            guard let end = Self.minutes(schedule.end) else { throw .scenario(field: path + ".end", "must be HH:MM") }
            guard start < end else { throw .scenario(field: path + ".end", "must be after start") }
        }
        guard abs(schedules.map(\.share).reduce(0, +) - 1) < 0.001 else { throw .scenario(field: "schedules", "shares must add up to 1") }
        try Self.share(meetingBusyShare, "meetingBusyShare")
        try Self.share(awayShare, "awayShare")
        guard meetingBusyShare + awayShare <= 1 else { throw .scenario(field: "awayShare", "meetingBusyShare + awayShare must be at most 1") }
        try tags.validate()
        try behaviour.validate()
        if let settings {
            do { _ = try settings.validated() } catch { throw .scenario(field: "settings", error.message) }
        }
    }

    /// Every topic with its path in the file (`topics[0].children[2]`), parents before children.
    func flattenedTopics() -> [(path: String, node: TopicNode)] {
        var result: [(String, TopicNode)] = []
        func walk(_ nodes: [TopicNode], _ prefix: String) {
            for (index, node) in nodes.enumerated() {
                let path = "\(prefix)[\(index)]"
                result.append((path, node))
                walk(node.children ?? [], path + ".children")
            }
        }
        walk(topics, "topics")
        return result
    }

    static func share(_ value: Double, _ field: String) throws(SimulationError) {
        guard value.isFinite, (0...1).contains(value) else { throw .scenario(field: field, "must be from 0 to 1") }
    }

    static func shares(_ values: [Double], count: Int, _ field: String) throws(SimulationError) {
        guard values.count == count else { throw .scenario(field: field, "must hold \(count) numbers") }
        for (index, value) in values.enumerated() { try share(value, "\(field)[\(index)]") }
    }

    static func positive(_ value: Double, _ field: String) throws(SimulationError) {
        guard value.isFinite, value > 0 else { throw .scenario(field: field, "must be greater than 0") }
    }

    /// Minutes after midnight of `HH:MM`, or `nil`.
    static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let hours = Int(parts[0]), let minutes = Int(parts[1]),
            (0...24).contains(hours), (0...59).contains(minutes), hours * 60 + minutes <= 24 * 60
        else { return nil }
        return hours * 60 + minutes
    }
}

extension Scenario.TagQuality {
    func validate() throws(SimulationError) {
        try Scenario.share(specialistShare, "tags.specialistShare")
        guard tagsPerSpecialistMin >= 1 else { throw .scenario(field: "tags.tagsPerSpecialistMin", "must be at least 1") }
        guard tagsPerSpecialistMax >= tagsPerSpecialistMin else {
            throw .scenario(field: "tags.tagsPerSpecialistMax", "must be at least tagsPerSpecialistMin")
        }
        try Scenario.share(tagPopularityFollow, "tags.tagPopularityFollow")
        try Scenario.shares(levelShares, count: 5, "tags.levelShares")
        guard levelShares.reduce(0, +) > 0 else { throw .scenario(field: "tags.levelShares", "must not all be 0") }
        try Scenario.share(overTaggedShare, "tags.overTaggedShare")
        try Scenario.share(staleShare, "tags.staleShare")
        guard overTaggedShare + staleShare <= 1 else { throw .scenario(field: "tags.staleShare", "overTaggedShare + staleShare must be at most 1") }
        try Scenario.share(untaggedExpertShare, "tags.untaggedExpertShare")
        try Scenario.share(selfDeclaredNoiseShare, "tags.selfDeclaredNoiseShare")
        guard skillNoise.isFinite, (0...3).contains(skillNoise) else { throw .scenario(field: "tags.skillNoise", "must be from 0 to 3") }
    }
}

extension Scenario.Behaviour {
    func validate() throws(SimulationError) {
        try Scenario.shares(answerProbabilityBySkill, count: 6, "behaviour.answerProbabilityBySkill")
        try Scenario.share(loadPenaltyPerDelivery, "behaviour.loadPenaltyPerDelivery")
        guard recentInterruptionMinutes.isFinite, recentInterruptionMinutes >= 0 else {
            throw .scenario(field: "behaviour.recentInterruptionMinutes", "must be at least 0")
        }
        try Scenario.share(recentInterruptionPenalty, "behaviour.recentInterruptionPenalty")
        try Scenario.positive(answerDelayMedianSeconds, "behaviour.answerDelayMedianSeconds")
        guard answerDelaySpread.isFinite, (0...3).contains(answerDelaySpread) else {
            throw .scenario(field: "behaviour.answerDelaySpread", "must be from 0 to 3")
        }
        guard meetingDelayFactor.isFinite, meetingDelayFactor >= 1 else {
            throw .scenario(field: "behaviour.meetingDelayFactor", "must be at least 1")
        }
        try Scenario.share(passProbability, "behaviour.passProbability")
        try Scenario.positive(passDelayMedianSeconds, "behaviour.passDelayMedianSeconds")
        try Scenario.shares(helpfulProbabilityBySkill, count: 6, "behaviour.helpfulProbabilityBySkill")
        try Scenario.share(ratingProbability, "behaviour.ratingProbability")
        guard questionsPerPersonPerDay.isFinite, (0...50).contains(questionsPerPersonPerDay) else {
            throw .scenario(field: "behaviour.questionsPerPersonPerDay", "must be from 0 to 50")
        }
    }
}
