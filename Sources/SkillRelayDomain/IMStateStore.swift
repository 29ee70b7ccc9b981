import Foundation

/// What an IM adapter keeps between restarts: one conversation per person, where its inbound stream stopped, the
/// events it already handled, and which message carried which delivery.
public protocol IMStateStore: Sendable {
    /// The direct conversation (room) with a person, if there is one.
    func conversation(with imID: String) async throws -> String?
    /// Remembers the direct conversation with a person who is in it (they opened it, or wrote in it).
    func setConversation(_ conversation: String, with imID: String) async throws
    /// What is known of the direct conversation with each of these people; everyone asked for is in the answer.
    func contacts(_ imIDs: [String]) async throws -> [String: IMContact]
    /// Records that the bot invited a person at `time`: to `conversation`, theirs from now on and pending until they
    /// join; or, with `nil`, an invitation the IM server refused (an unknown user), which counts as made all the same.
    func setInvitation(_ conversation: String?, to imID: String, at time: Date) async throws
    /// Records that a person joined their conversation; nothing when it is no longer theirs.
    func setJoined(_ conversation: String, by imID: String) async throws
    /// Forgets a conversation its person left, refused or was removed from at `time`, if it is still theirs (anyone's
    /// with `nil`); returns whose it was, or `nil` when it was nobody's.
    func forgetConversation(_ conversation: String, of imID: String?, departure: IMDeparture, at time: Date) async throws -> String?
    /// Where the inbound stream stopped (a Matrix `since` token).
    func inboundCursor() async throws -> String?
    /// Moves the inbound cursor on.
    func setInboundCursor(_ cursor: String) async throws
    /// Records an inbound event as handled and, in the same transaction, makes `changes` to the adapter's sealed values
    /// (`IMKeyStore`), such as the replies it owes the event's sender; `false`, and nothing changed, if it was handled
    /// before.
    func markHandled(event id: String, changing changes: [IMKeyChange]) async throws -> Bool
    /// Whether an inbound event was recorded as handled.
    func isHandled(event id: String) async throws -> Bool
    /// The delivery an IM message carried.
    func delivery(forMessageReference reference: String) async throws -> String?
    /// Keeps the IM's references of the bot's own messages as its event stream echoes them back, by the outbox key each
    /// was sent with (`OutboxItem.key`) — what the outbox keeps once a send returns, kept here too because a quick
    /// reply can arrive first. Keys that are not the outbox's, or whose message has no reference to keep, are ignored.
    func recordEchoes(_ references: [String: String]) async throws
    /// The active employee with an IM id, as a caller; `nil` for anyone unknown or inactive.
    func caller(forIMID imID: String) async throws -> Caller?
    /// Records when the bot last saw people do something in the IM (by IM id); a time older than the one kept changes
    /// nothing, and people not in the directory are ignored.
    func recordActivity(_ seen: [String: Date]) async throws
    /// Rooms the bot made to introduce two people who agreed to reveal themselves, until one of them joined: the bot
    /// stays in such a room only to keep it alive for them (a room everyone left cannot be joined), and says nothing.
    func introductionRooms() async throws -> Set<String>
    /// Adds (`open`) or removes an introduction room.
    func setIntroductionRoom(_ room: String, open: Bool) async throws
}

extension IMStateStore {
    /// Records an inbound event as handled; `false` if it was handled before.
    public func markHandled(event id: String) async throws -> Bool { try await markHandled(event: id, changing: []) }
}

/// What the bot knows of its direct conversation with one person: whether there is one, whether they are in it, and
/// when it last invited them (it does so at most once a day, so a refusal is respected).
public struct IMContact: Sendable, Equatable {
    /// The conversation (a Matrix room), if there is one.
    public var conversation: String?
    /// Whether the person is in it: `false` while the bot's invitation to it is pending.
    public var joined: Bool
    /// When the bot last invited them, or tried to.
    public var invitedAt: Date?

    public init(conversation: String?, joined: Bool, invitedAt: Date?) {
        self.conversation = conversation
        self.joined = joined
        self.invitedAt = invitedAt
    }

    /// Someone the bot has no conversation with and never invited.
    public static let stranger = IMContact(conversation: nil, joined: false, invitedAt: nil)

    /// Whether questions can reach them: they are in their conversation.
    public var isReachable: Bool { conversation != nil && joined }
}

/// How a person's direct conversation with the bot ended.
public enum IMDeparture: String, Sendable, Equatable, Codable {
    /// They left it.
    case left
    /// They declined the bot's invitation to it.
    case refused
    /// Someone else removed them (a kick or a ban), or the bot was removed from it.
    case removed
}
