import Foundation

/// Something the answers suggest about a person's tags, for their manager to confirm: nothing is tagged or untagged
/// until a person decides.
public struct SkillSuggestion: Sendable, Equatable {
    /// What the evidence suggests.
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        /// Helpful answers on a topic the person is not tagged with: tag them.
        case suggested
        /// A tagged person passes or ignores most questions on the topic: the tag may be out of date.
        case stale
    }

    /// Where a suggestion stands.
    public enum Status: String, Sendable, Equatable, CaseIterable {
        case open
        /// A manager tagged the person (`suggested`) or removed the tag (`stale`).
        case accepted
        /// A manager decided against it (or, for `stale`, to keep the tag); not raised again for a while.
        case dismissed
    }

    /// The public id, opaque to clients.
    public var id: String
    public var kind: Kind
    public var status: Status
    public var handle: String
    public var name: String
    public var topic: TopicReference
    /// `suggested`: helpful answers on the topic; `stale`: deliveries on the topic passed or left unanswered.
    public var evidence: Int
    /// `stale`: the deliveries on the topic the share was taken over; `suggested`: the same as `evidence`.
    public var deliveries: Int
    /// The person's level in the topic now, if tagged.
    public var currentLevel: Int?
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String, kind: Kind, status: Status, handle: String, name: String, topic: TopicReference, evidence: Int, deliveries: Int,
        currentLevel: Int?, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.kind = kind
        self.status = status
        self.handle = handle
        self.name = name
        self.topic = topic
        self.evidence = evidence
        self.deliveries = deliveries
        self.currentLevel = currentLevel
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A manager's decision on a suggestion.
public enum SuggestionDecision: Sendable, Equatable {
    /// `suggested`: tag the person at the level; `stale`: remove the tag (no level).
    case accept(level: Int?)
    /// `suggested`: do not tag; `stale`: keep the tag.
    case dismiss
}

/// When answers make a suggestion and when a dismissed one may come back.
public enum SuggestionRules {
    /// Deliveries on a topic looked back over for a stale tag.
    public static let staleWindow: TimeInterval = 30 * 86_400
    /// The fewest deliveries with a known outcome before a tag can be called stale.
    public static let staleMinimumDeliveries = 4
    /// The share of those passed or left unanswered that makes a tag stale.
    public static let staleShare = 0.75
    /// How long a dismissed suggestion or flag stays quiet for the same person and topic.
    public static let dismissalQuietPeriod: TimeInterval = 90 * 86_400
}

/// The open suggestions for the people below a manager, and the manager's decisions on them; each decision is audited
/// and goes through the directory's own tagging and untagging, so `DirectoryPolicy` applies.
public protocol SuggestionStore: Sendable {
    /// Open suggestions about the people below `handle` (the caller, or someone below them; an admin anyone), newest
    /// first, a page at a time; with `nil`, below the caller, or everyone's for an admin. Managers and admins only.
    func suggestions(below handle: String?, by caller: Caller, page: PageRequest) async throws -> ListPage<SkillSuggestion>
    /// Accepts or dismisses an open suggestion; a decided one is `suggestionDecided`.
    func decide(suggestion id: String, _ decision: SuggestionDecision, by caller: Caller) async throws -> SkillSuggestion
}
