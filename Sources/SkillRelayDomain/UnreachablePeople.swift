import Foundation

/// Specialists the IM cannot reach: tagged with at least one skill and with an IM id, but not in a direct
/// conversation with the bot, so no question reaches them. Their managers should know. A bounded list: the first few
/// by name, and how many there are in all.
public struct UnreachablePeople: Sendable, Equatable {
    /// One such person, and why the bot cannot reach them.
    public struct Person: Sendable, Equatable {
        public var handle: String
        public var name: String
        public var imID: String
        public var reason: Reason
        /// When the reason began (the invitation, the departure); `nil` when it has no time.
        public var since: Date?

        public init(handle: String, name: String, imID: String, reason: Reason, since: Date?) {
            self.handle = handle
            self.name = name
            self.imID = imID
            self.reason = reason
            self.since = since
        }
    }

    /// Why someone is unreachable.
    public enum Reason: String, Sendable, Equatable, Codable {
        /// The bot has not invited them yet: it does so the first time a question needs them.
        case notInvited = "not_invited"
        /// Invited, not joined yet.
        case invited
        /// The IM server refused the invitation (no such user, say).
        case inviteFailed = "invite_failed"
        /// They left the bot's room.
        case left
        /// They declined the bot's invitation.
        case refused
        /// They were removed from the bot's room, or the bot was.
        case removed
    }

    /// The first people, by name.
    public var people: [Person]
    /// How many there are in all.
    public var total: Int

    public init(people: [Person], total: Int) {
        self.people = people
        self.total = total
    }

    /// The most any list shows.
    public static let limit = 50
}

/// Finds the specialists the IM cannot reach (see `UnreachablePeople`).
public protocol ReachStore: Sendable {
    /// Everyone unreachable, at most `limit` of them; admins only.
    func unreachable(by caller: Caller, limit: Int) async throws -> UnreachablePeople
    /// The unreachable among the people who report to the caller, directly or further down; managers only.
    func unreachable(reportingTo caller: Caller, limit: Int) async throws -> UnreachablePeople
}
