/// A named range of skill levels, coarser than one level. The bands nest: `expert` (4–5) lies within `experienced`
/// (3–5), so that a level can be shown as itself, as `expert`, as `experienced` and finally not at all.
public enum LevelBand: String, Sendable, Equatable, Codable, CaseIterable {
    /// Levels 1 and 2.
    case familiar
    /// Levels 3 to 5.
    case experienced
    /// Levels 4 and 5.
    case expert

    /// The levels the band covers.
    public var levels: ClosedRange<Int> {
        switch self {
        case .familiar: 1...2
        case .experienced: 3...5
        case .expert: 4...5
        }
    }
}

/// What an asker learns about who answered, beside the alias: the question's topic with the answerer's level, or a
/// band of levels, or nothing ("a specialist"). Decided when the answer is relayed, so that at least k active people
/// could have given it (see `AnswererLabel.choose`), and stored with the answer so that it never changes.
public struct AnswererLabel: Sendable, Equatable, Codable {
    /// The question's topic slug; `nil` when nothing is said about the answerer.
    public var topic: String?
    /// The answerer's level, when it may be told exactly.
    public var level: Int?
    /// The answerer's band, when the level may not be told exactly.
    public var band: LevelBand?

    public init(topic: String?, level: Int?, band: LevelBand?) {
        self.topic = topic
        self.level = level
        self.band = band
    }

    /// The label that says nothing but that a specialist answered.
    public static let specialist = AnswererLabel(topic: nil, level: nil, band: nil)

    /// The label as people read it: `kubernetes, level 4`, `kubernetes, expert (level 4–5)` or `a specialist`.
    public var text: String {
        guard let topic else { return "a specialist" }
        if let level { return "\(topic), level \(level)" }
        if let band { return "\(topic), \(band.rawValue) (level \(band.levels.lowerBound)–\(band.levels.upperBound))" }
        return "a specialist in \(topic)"
    }

    /// Whether the label says anything beyond "a specialist".
    public var isDetailed: Bool { topic != nil }

    /// The levels the label allows: one, a band's, or all.
    public var levels: ClosedRange<Int> {
        if let level { return level...level }
        return band?.levels ?? 1...5
    }
}

extension AnswererLabel {
    /// The label as the API, the event streams and bots' callbacks show it (`AnswerLabel` in the OpenAPI document): the
    /// text, and its parts where there are any.
    public struct Shown: Encodable, Sendable, Equatable {
        public struct Band: Encodable, Sendable, Equatable {
            public var name: String
            public var minLevel: Int
            public var maxLevel: Int
        }
        public var text: String
        public var topic: String?
        public var level: Int?
        public var band: Band?

        public init(_ label: AnswererLabel) {
            text = label.text
            topic = label.topic
            level = label.level
            band = label.band.map { Band(name: $0.rawValue, minLevel: $0.levels.lowerBound, maxLevel: $0.levels.upperBound) }
        }
    }
}

// MARK: - Choosing a label

extension AnswererLabel {
    /// How precise a label may be: shown exactly, as a band, or not at all.
    public enum Precision: Sendable, Equatable, Hashable {
        case level(Int)
        case band(LevelBand)
        case none
    }

    /// The label for an answerer at `level` on `topic`, given `people`: how many active people (the answerer
    /// among them, the asker not) could have received the question, by their best level in the topic.
    public static func choose(topic: String, level: Int, people: [Int: Int], k: Int) -> AnswererLabel {
        switch precision(for: level, people: people, k: k) {
        case .level(let level): AnswererLabel(topic: topic, level: level, band: nil)
        case .band(let band): AnswererLabel(topic: topic, level: nil, band: band)
        case .none: .specialist
        }
    }

    /// The precision a level is shown with. Everyone who could have answered is put in exactly one group — a level, a
    /// band or "anyone" — such that every group holds at least `k` people (only "anyone" may hold fewer, when fewer
    /// than `k` could answer at all); the answerer is shown as their group. Since the grouping depends only on how
    /// many people hold each level, which the asker may know, and never on who answered, whoever sees a label can
    /// narrow the answerer down to that group and no further. (Showing each person "as precisely as k people allow"
    /// one by one would not do: with ten people at level 4 and three at level 5, "expert" would only ever be said of
    /// the three.)
    public static func precision(for level: Int, people: [Int: Int], k: Int) -> Precision {
        groups(people: people, k: k)[level] ?? .none
    }

    /// Each level's group (see `precision(for:people:k:)`).
    public static func groups(people: [Int: Int], k: Int) -> [Int: Precision] {
        let k = max(1, k)
        var groups = [Int: Precision]()
        /// A node of the tree levels → bands → anyone: groups are formed bottom-up, a node taking whatever its
        /// children could not place; a node left with fewer than k takes in its children's groups, smallest first,
        /// until it has k; if it cannot, its parent takes everything.
        func place(_ node: Node) -> (left: [Int], placed: [(levels: [Int], size: Int)]) {
            if case .level(let level) = node.precision {
                let count = people[level] ?? 0
                if count == 0 { return ([], []) }
                if count >= k {
                    groups[level] = node.precision
                    return ([], [([level], count)])
                }
                return ([level], [])
            }
            var left: [Int] = []
            var placed: [(levels: [Int], size: Int)] = []
            for child in node.children {
                let result = place(child)
                left += result.left
                placed += result.placed
            }
            var size = left.reduce(0) { $0 + (people[$1] ?? 0) }
            guard size > 0 else { return ([], placed) }
            placed.sort { ($0.size, $0.levels.first ?? 0) < ($1.size, $1.levels.first ?? 0) }
            while size < k, !placed.isEmpty {
                let group = placed.removeFirst()
                left += group.levels
                size += group.size
            }
            guard size >= k || node.precision == .none else { return (left, placed) }
            for level in left { groups[level] = node.precision }
            return ([], placed + [(left, size)])
        }
        _ = place(Node.tree)
        return groups
    }

    /// The tree of precisions: anyone, then the bands, then the levels.
    private struct Node {
        var precision: Precision
        var children: [Node] = []

        static let tree = Node(
            precision: .none,
            children: [
                Node(precision: .band(.familiar), children: [Node(precision: .level(1)), Node(precision: .level(2))]),
                Node(
                    precision: .band(.experienced),
                    children: [
                        Node(precision: .level(3)),
                        Node(precision: .band(.expert), children: [Node(precision: .level(4)), Node(precision: .level(5))]),
                    ]),
            ])
    }
}

/// What the store needs to label an answer when it relays it.
public struct AnswerLabeling: Sendable, Equatable {
    /// At least this many active people must fit the label (`QuestionSettings.anonymityK`).
    public var k: Int
    /// Nobody below this level is asked, so nobody below it counts among those who could have answered.
    public var minimumLevel: Int

    public init(k: Int, minimumLevel: Int = 1) {
        self.k = k
        self.minimumLevel = minimumLevel
    }

    /// The labeling the settings ask for.
    public init(_ settings: QuestionSettings) {
        self.init(k: settings.anonymityK, minimumLevel: settings.minimumLevel)
    }
}
