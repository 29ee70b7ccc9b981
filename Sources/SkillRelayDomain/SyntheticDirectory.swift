/// A synthetic company for benchmarks, written in the import's CSV formats: a deep org tree, a topic tree, and skills
/// whose topic popularity is skewed (a few topics have most specialists, as in real companies). Deterministic for a
/// given seed.
public struct SyntheticDirectory: Sendable {
    public var employees: Int
    public var topics: Int
    public var skills: Int
    public var seed: UInt64

    public init(employees: Int, topics: Int, skills: Int, seed: UInt64 = 42) throws(DirectoryError) {
        guard employees >= 1 else { throw .invalidField("employees", "must be at least 1") }
        guard topics >= 1 else { throw .invalidField("topics", "must be at least 1") }
        guard skills >= 0, skills <= employees * topics else { throw .invalidField("skills", "must be from 0 to employees × topics") }
        self.employees = employees
        self.topics = topics
        self.skills = skills
        self.seed = seed
    }

    /// The handle of employee `index` (0-based).
    public static func handle(_ index: Int) -> String { "e\(index)" }

    /// The slug of topic `index` (0-based); the first tenth (at least one) are roots.
    public static func slug(_ index: Int) -> String { "topic-\(index)" }

    /// `employees.csv`: employee 0 leads; everyone else reports to someone earlier, eight reports at most per manager,
    /// so the tree is about log8(N) deep. Every thousandth employee is an admin.
    public func employeesCSV(into write: (String) -> Void) {
        write("handle,name,email,im_id,manager,admin,active\n")
        for index in 0..<employees {
            let handle = Self.handle(index)
            let manager = index == 0 ? "" : Self.handle((index - 1) / 8)
            write("\(handle),Employee \(index),\(handle)@example.org,@\(handle):localhost,\(manager),\(index % 1000 == 0),true\n")
        }
    }

    /// `topics.csv`: a tenth of the topics are roots; the rest hang below them. Each topic has one alias.
    public func topicsCSV(into write: (String) -> Void) {
        write("slug,name,parent,aliases,description\n")
        let roots = max(1, topics / 10)
        for index in 0..<topics {
            let parent = index < roots ? "" : Self.slug(index % roots)
            write("\(Self.slug(index)),Topic \(index),\(parent),t\(index),Synthetic topic number \(index) for benchmarks\n")
        }
    }

    /// `skills.csv`: exactly `skills` distinct (employee, topic) pairs, spread evenly over the employees; topics drawn
    /// by a Zipf-like law (topic 0 the most popular), levels 1–5.
    public func skillsCSV(into write: (String) -> Void) {
        write("handle,topic,level\n")
        var random = SplitMix64(seed: seed)
        var cumulative: [Double] = []
        var total = 0.0
        for rank in 0..<topics {
            total += 1.0 / Double(rank + 1)
            cumulative.append(total)
        }
        var chosen: Set<Int> = []
        for employee in 0..<employees {
            // Employee i gets floor((i+1)S/E) - floor(iS/E) skills: never more than ceil(S/E) <= topics, exactly S in all.
            let count = (employee + 1) * skills / employees - employee * skills / employees
            chosen.removeAll(keepingCapacity: true)
            var attempts = 0
            while chosen.count < count, attempts < count * 20 {
                chosen.insert(Self.draw(random.unit() * total, cumulative))
                attempts += 1
            }
            var fill = 0
            while chosen.count < count {
                chosen.insert(fill)
                fill += 1
            }
            for topic in chosen.sorted() {
                write("\(Self.handle(employee)),\(Self.slug(topic)),\(1 + Int(random.next() % 5))\n")
            }
        }
    }

    /// The first index whose cumulative weight reaches `pick`.
    private static func draw(_ pick: Double, _ cumulative: [Double]) -> Int {
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let middle = (low + high) / 2
            if cumulative[middle] < pick { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

/// A small, fast, seedable random number generator (SplitMix64), so a synthetic company is the same on every run.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform value in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
