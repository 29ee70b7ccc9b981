/// A manager's view of the people below them, a page at a time.
public protocol TeamStore: Sendable {
    /// One page of the people below `query.under` (the caller, or someone below them): their direct reports, or with a
    /// search or a topic, everyone below who matches. Managers only; someone not below the caller is `employeeNotFound`.
    func teamPage(_ query: TeamQuery, by caller: Caller) async throws -> TeamPage
}

/// What a team page shows: whose people, which of them, and from where.
public struct TeamQuery: Sendable, Equatable {
    /// The handle of the person whose people are shown; `nil` for the caller.
    public var under: String?
    /// Everyone below rather than the direct reports, in org-chart order, without a search or topic.
    public var everyone: Bool
    /// Words that begin a name or handle; all must match.
    public var search: String?
    /// A topic (slug or alias) everyone shown is tagged with, at `minimumLevel` or above.
    public var topic: String?
    public var minimumLevel: Int
    /// Where the page starts: after or before a row of another page.
    public var cursor: TeamCursor?
    public var limit: Int

    /// The most people a page shows: 40, so that a page of people with ten skills each (the benchmark company's
    /// average) stays under 300 KB (figure 8).
    public static let maximumLimit = 40

    public init(
        under: String? = nil, everyone: Bool = false, search: String? = nil, topic: String? = nil, minimumLevel: Int = 1, cursor: TeamCursor? = nil,
        limit: Int = TeamQuery.maximumLimit
    ) {
        self.under = under
        self.everyone = everyone
        self.search = search
        self.topic = topic
        self.minimumLevel = minimumLevel
        self.cursor = cursor
        self.limit = limit
    }

    /// Whether the page lists only direct reports (not everyone, no search, no topic).
    public var isDirectReports: Bool { !everyone && search == nil && topic == nil }
}

/// A place between two rows of a team listing: the page starts after it, or ends before it. The key is opaque.
public struct TeamCursor: Sendable, Equatable, Hashable {
    public enum Direction: Sendable, Equatable, Hashable {
        case after, before
    }

    public var direction: Direction
    public var key: String

    public init(_ direction: Direction, key: String) {
        self.direction = direction
        self.key = key
    }
}

/// Someone in a team listing, with how many active people are below them.
public struct TeamMember: Sendable, Equatable {
    public var handle: String
    public var name: String
    /// Active people below them, directly or further down.
    public var peopleBelow: Int
    public var skills: [Skill]
    /// Their IANA time zone; `nil` means UTC.
    public var timeZone: String?
    /// When they may be interrupted; `nil` means at any time.
    public var workingHours: WorkingHours?

    public init(handle: String, name: String, peopleBelow: Int, skills: [Skill], timeZone: String? = nil, workingHours: WorkingHours? = nil) {
        self.timeZone = timeZone
        self.workingHours = workingHours
        self.handle = handle
        self.name = name
        self.peopleBelow = peopleBelow
        self.skills = skills
    }
}

/// A person on the way from the caller down to the one whose people are shown.
public struct TeamAncestor: Sendable, Equatable {
    public var handle: String
    public var name: String

    public init(handle: String, name: String) {
        self.handle = handle
        self.name = name
    }
}

/// One page of a team.
public struct TeamPage: Sendable, Equatable {
    /// The person whose people are shown, with the count below them.
    public var manager: TeamMember
    /// From the caller down to `manager`'s own manager; empty when `manager` is the caller.
    public var breadcrumbs: [TeamAncestor]
    /// The topic filtered on, resolved.
    public var topic: TopicReference?
    public var members: [TeamMember]
    /// Where the previous and next pages start, when there are any.
    public var previous: TeamCursor?
    public var next: TeamCursor?

    public init(
        manager: TeamMember, breadcrumbs: [TeamAncestor], topic: TopicReference?, members: [TeamMember], previous: TeamCursor?,
        next: TeamCursor?
    ) {
        self.manager = manager
        self.breadcrumbs = breadcrumbs
        self.topic = topic
        self.members = members
        self.previous = previous
        self.next = next
    }
}
