import Foundation
import SkillRelayDomain

/// The company a scenario describes, drawn by the seed: its people, their schedules, their tags (what the directory
/// says) and their true skills (what they really know, which only the simulation sees).
struct SimulatedCompany: Sendable {
    /// A simulated person.
    struct Person: Sendable {
        var handle: String
        var manager: Int?
        /// Seconds to add to UTC for their local time.
        var utcOffsetSeconds: Int
        /// Working hours, in seconds after local midnight.
        var workStart: Int
        var workEnd: Int
        /// Their tags in the directory: topic index and level.
        var tags: [(topic: Int, level: Int)]
        /// What they really know, by topic index (0 to 5); topics left out are 0.
        var trueSkill: [Int: Int]
    }

    /// A topic in the tree.
    struct TopicInfo: Sendable {
        var slug: String
        var name: String
        var parent: Int?
        var children: [Int]
    }

    var people: [Person]
    var topics: [TopicInfo]
    /// Cumulative weights of the topics people ask about.
    var askWeights: [Double]
    /// For each topic, the people tagged with it or a subtopic, in index order: the candidates a deployment could find.
    var taggedByTopic: [[Int]]
    /// Indexes of everyone tagged with anything.
    var specialists: [Int]

    init(scenario: Scenario, seed: UInt64) {
        var random = SimulationRandom(seed: seed ^ 0x5EED_C0FF_EE00_0001)
        // The topic tree, parents before children.
        var topics: [TopicInfo] = []
        func add(_ nodes: [Scenario.TopicNode], parent: Int?) {
            for node in nodes {
                let index = topics.count
                topics.append(TopicInfo(slug: node.slug, name: node.name, parent: parent, children: []))
                if let parent { topics[parent].children.append(index) }
                add(node.children ?? [], parent: index)
            }
        }
        add(scenario.topics, parent: nil)
        self.topics = topics

        // Popularity: Zipf over an order of the topics drawn by the seed.
        var order = Array(topics.indices)
        for index in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(index, random.int(in: 0...index)) }
        var popularity = [Double](repeating: 0, count: topics.count)
        for (rank, topic) in order.enumerated() { popularity[topic] = 1 / pow(Double(rank + 1), scenario.topicPopularityZipf) }
        askWeights = Self.cumulative(popularity)
        let tagWeights = Self.cumulative(popularity.map { pow($0, scenario.tags.tagPopularityFollow) })
        let scheduleWeights = Self.cumulative(scenario.schedules.map(\.share))
        let levelWeights = Self.cumulative(scenario.tags.levelShares)

        let digits = String(scenario.people).count
        var people: [Person] = []
        people.reserveCapacity(scenario.people)
        for index in 0..<scenario.people {
            let schedule = scenario.schedules[random.pick(cumulative: scheduleWeights)]
            let number = String(index + 1)
            people.append(
                Person(
                    handle: "sim-" + String(repeating: "0", count: digits - number.count) + number,
                    manager: index == 0 ? nil : (index - 1) / scenario.managerSpan, utcOffsetSeconds: Int((schedule.utcOffsetHours * 3600).rounded()),
                    workStart: (Scenario.minutes(schedule.start) ?? 0) * 60, workEnd: (Scenario.minutes(schedule.end) ?? 0) * 60, tags: [],
                    trueSkill: [:]))
        }

        let quality = scenario.tags
        for index in people.indices where random.chance(quality.specialistShare) {
            var person = people[index]
            let count = min(random.int(in: quality.tagsPerSpecialistMin...quality.tagsPerSpecialistMax), topics.count)
            var chosen = Set<Int>()
            var attempts = 0
            while chosen.count < count, attempts < 20 * count {
                attempts += 1
                let topic = random.pick(cumulative: tagWeights)
                guard chosen.insert(topic).inserted else { continue }
                let level = random.pick(cumulative: levelWeights) + 1
                let draw = random.uniform()
                let truth: Int
                if draw < quality.staleShare {
                    truth = 0
                } else if draw < quality.staleShare + quality.overTaggedShare {
                    truth = max(0, level - random.int(in: 1...2))
                } else {
                    truth = min(5, max(1, level + Int((random.normal() * quality.skillNoise).rounded())))
                }
                person.tags.append((topic, level))
                person.trueSkill[topic] = truth
            }
            // Self-declared noise: a confident tag on something they do not really know.
            if random.chance(quality.selfDeclaredNoiseShare), let topic = Self.untagged(person, topics.count, &random) {
                person.tags.append((topic, random.int(in: 3...5)))
                person.trueSkill[topic] = random.int(in: 0...1)
            }
            // An untagged expert: knows a topic well, tagged at most in a sibling at a low level.
            if random.chance(quality.untaggedExpertShare), let topic = Self.untagged(person, topics.count, &random) {
                person.trueSkill[topic] = random.int(in: 4...5)
                let siblings = (topics[topic].parent.map { topics[$0].children } ?? []).filter { $0 != topic && person.trueSkill[$0] == nil }
                if !siblings.isEmpty, random.chance(0.5) {
                    let sibling = siblings[random.int(in: 0...(siblings.count - 1))]
                    let level = random.int(in: 1...2)
                    person.tags.append((sibling, level))
                    person.trueSkill[sibling] = level
                }
            }
            people[index] = person
        }
        self.people = people

        // Who a deployment could find for each topic: tagged with it or anything below it.
        var tagged = [[Int]](repeating: [], count: topics.count)
        for (index, person) in people.enumerated() {
            var reached = Set<Int>()
            for tag in person.tags {
                var topic: Int? = tag.topic
                while let current = topic {
                    reached.insert(current)
                    topic = topics[current].parent
                }
            }
            for topic in reached.sorted() { tagged[topic].append(index) }
        }
        taggedByTopic = tagged
        specialists = people.indices.filter { !people[$0].tags.isEmpty }
    }

    /// What someone really knows about a question on `topic`: their skill in it, or one less from the topic just above
    /// or anything below it.
    func skill(of person: Int, in topic: Int) -> Int {
        let known = people[person].trueSkill
        guard !known.isEmpty else { return 0 }
        var best = known[topic] ?? 0
        if let parent = topics[topic].parent { best = max(best, (known[parent] ?? 0) - 1) }
        var stack = topics[topic].children
        while let next = stack.popLast() {
            best = max(best, (known[next] ?? 0) - 1)
            stack.append(contentsOf: topics[next].children)
        }
        return best
    }

    private static func untagged(_ person: Person, _ topicCount: Int, _ random: inout SimulationRandom) -> Int? {
        for _ in 0..<20 {
            let topic = random.int(in: 0...(topicCount - 1))
            if person.trueSkill[topic] == nil { return topic }
        }
        return nil
    }

    private static func cumulative(_ weights: [Double]) -> [Double] {
        var total = 0.0
        return weights.map { weight in
            total += weight
            return total
        }
    }

    // MARK: - The directory's CSV files

    /// `employees.csv`, `topics.csv` and `skills.csv` for the import, as a deployment would load them.
    func writeDirectory(to directory: URL) throws {
        // Each person's time zone and working hours, as a directory would hold them: the schedule they really keep.
        var employees = "handle,name,email,im_id,manager,admin,active,timezone,working_hours\n"
        for (index, person) in people.enumerated() {
            let manager = person.manager.map { people[$0].handle } ?? ""
            employees += "\(person.handle),Simulated Person \(index + 1),\(person.handle)@simulation.invalid,"
            employees += "@\(person.handle):simulation.invalid,\(manager),\(index == 0),true,"
            employees += "\(try Self.timeZoneName(offsetSeconds: person.utcOffsetSeconds)),"
            employees += "Mon-Fri \(Self.clock(person.workStart))-\(Self.clock(person.workEnd))\n"
        }
        var topicsCSV = "slug,name,parent,aliases,description\n"
        for topic in topics {
            topicsCSV += "\(topic.slug),\(Self.quoted(topic.name)),\(topic.parent.map { topics[$0].slug } ?? ""),,\n"
        }
        var skills = "handle,topic,level\n"
        for person in people {
            for tag in person.tags { skills += "\(person.handle),\(topics[tag.topic].slug),\(tag.level)\n" }
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try employees.write(to: directory.appendingPathComponent("employees.csv"), atomically: false, encoding: .utf8)
        try topicsCSV.write(to: directory.appendingPathComponent("topics.csv"), atomically: false, encoding: .utf8)
        try skills.write(to: directory.appendingPathComponent("skills.csv"), atomically: false, encoding: .utf8)
    }

    /// An IANA zone that keeps `offsetSeconds` from UTC through the simulated weeks (January, so no daylight saving
    /// time in the zones named here): `Etc/GMT-1` for UTC+1 (the sign is POSIX's), a city for the half hours.
    static func timeZoneName(offsetSeconds: Int) throws(SimulationError) -> String {
        if offsetSeconds == 0 { return "UTC" }
        if offsetSeconds % 3600 == 0 {
            let hours = offsetSeconds / 3600
            return hours > 0 ? "Etc/GMT-\(hours)" : "Etc/GMT+\(-hours)"
        }
        let cities = [
            19_800: "Asia/Kolkata", 20_700: "Asia/Kathmandu", 34_200: "Australia/Darwin", 12_600: "Asia/Tehran", -12_600: "America/St_Johns",
            16_200: "Asia/Kabul", 23_400: "Asia/Yangon",
        ]
        guard let city = cities[offsetSeconds] else {
            throw .scenario(field: "schedules", "an offset of \(Double(offsetSeconds) / 3600) hours has no time zone the simulation knows")
        }
        return city
    }

    /// Seconds after midnight as `HH:MM`.
    static func clock(_ seconds: Int) -> String { String(format: "%02d:%02d", seconds / 3600, seconds / 60 % 60) }

    private static func quoted(_ text: String) -> String { "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
}
