import Foundation
import Logging
import SkillRelayDomain
import SkillRelayOlm

/// The bot's direct room with each person: Synapse shows a user's presence only to users who share a joined room with
/// them, and questions go out in that room. A room is made (inviting the person) when SkillRelay first needs them, and
/// again after they left, refused or were removed, but at most once per `reinviteInterval`, so a refusal is respected.
/// The sync loop reports who joined and who left; while someone is not in their room, no question is meant for them.
public actor MatrixRooms {
    let client: MatrixClient
    let state: any IMStateStore
    let clock: any WallClock
    /// The least time between two invitations of one person.
    public nonisolated let reinviteInterval: TimeInterval
    /// Where the bot's rooms are end-to-end encrypted (`nil`: the rooms it opens are not).
    let encryption: MatrixEncryption?
    /// Where invitations are told: each one made (info), refused (notice) or failed (warning, with when it is tried again).
    let logger: Logger

    /// What the store holds of each person looked up so far: it saves a database read for every message and every
    /// presence lookup, which under load is a wait behind every other request's. Every change to a person's room goes
    /// through this actor, which writes the store first and then this, so it never goes stale.
    private var known: [String: IMContact] = [:]
    /// Invitations under way: the actor lets other callers in while one waits, and two callers for the same person must
    /// share one invitation, not make two rooms.
    private var inviting: [String: Task<IMContact, any Error>] = [:]
    /// Background invitations (`inviteInBackground`) waiting for an inviter, in the order asked, and the same as a set.
    private var queued: [String] = []
    private var queuedSet: Set<String> = []
    /// Background inviters running now, and who waits for them all to finish (`invitationsSettled`).
    private var inviters = 0
    private var settledWaiters: [CheckedContinuation<Void, Never>] = []
    /// When an invitation last failed without the homeserver refusing it (a timeout, a server error), by person.
    private var failedInvitations: [String: Date] = [:]
    /// The most background invitations under way at once. Making a room is among the heaviest things a homeserver does
    /// (Synapse writes about ten events for each), and a first question's whole presence pool of people not yet in a
    /// room with the bot, invited at once, held up everything else the bot asked of a busy Synapse for minutes: its
    /// messages and its sync too.
    public nonisolated let invitationConcurrency: Int
    /// How long an invitation that failed without a refusal (a timeout, a server error) waits before it is tried again:
    /// tried on every wave instead, the same room creations piled up on a homeserver that was slow already.
    public nonisolated let invitationRetryInterval: TimeInterval

    /// Someone SkillRelay cannot reach: no room with the bot, and invited too recently to be invited again.
    public struct Unreachable: Error, CustomStringConvertible {
        public var userID: String
        public var invitedAt: Date?
        public var description: String {
            "\(userID) has no room with the bot (they left, refused or were removed, or the homeserver refused the invitation)"
                + (invitedAt.map { "; last invited \($0), not invited again within a day" } ?? "")
        }
    }

    public init(
        client: MatrixClient, state: any IMStateStore, clock: any WallClock = SystemWallClock(), reinviteInterval: TimeInterval = 86_400,
        encryption: MatrixEncryption? = nil, invitationConcurrency: Int = 2, invitationRetryInterval: TimeInterval = 600,
        logger: Logger = Logger(label: "skillrelay", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.logger = logger
        self.client = client
        self.state = state
        self.clock = clock
        self.reinviteInterval = reinviteInterval
        self.encryption = encryption
        self.invitationConcurrency = max(1, invitationConcurrency)
        self.invitationRetryInterval = invitationRetryInterval
    }

    /// The introduction rooms (see `IMStateStore.introductionRooms`), read from the store once.
    private var introductions: Set<String>?

    // MARK: - Introduction rooms

    /// Whether the bot made this room to introduce two people, and neither joined yet.
    public func isIntroduction(_ room: String) async throws -> Bool {
        try await introductionRooms().contains(room)
    }

    /// Remembers a room made to introduce two people, so that the bot stays silent in it.
    public func introductionMade(_ room: String) async throws {
        var rooms = try await introductionRooms()
        try await state.setIntroductionRoom(room, open: true)
        rooms.insert(room)
        introductions = rooms
    }

    /// One of the two joined: the room lives on without the bot, which forgets it.
    public func introductionJoined(_ room: String) async throws {
        var rooms = try await introductionRooms()
        try await state.setIntroductionRoom(room, open: false)
        rooms.remove(room)
        introductions = rooms
    }

    private func introductionRooms() async throws -> Set<String> {
        if let introductions { return introductions }
        let loaded = try await state.introductionRooms()
        introductions = loaded
        return loaded
    }

    // MARK: - Reading

    /// What is known of each person's room, from memory or else in one read of the store.
    public func contacts(of userIDs: [String]) async throws -> [String: IMContact] {
        var result: [String: IMContact] = [:]
        var missing: [String] = []
        for userID in userIDs {
            if let contact = known[userID] { result[userID] = contact } else { missing.append(userID) }
        }
        guard !missing.isEmpty else { return result }
        let loaded = try await state.contacts(missing)
        for userID in missing {
            // A change made while the store was read is newer than what was read.
            if known[userID] == nil { known[userID] = loaded[userID] ?? .stranger }
            result[userID] = known[userID]
        }
        return result
    }

    /// One person's room as far as it is known.
    public func contact(of userID: String) async throws -> IMContact {
        try await contacts(of: [userID])[userID] ?? .stranger
    }

    /// Whether a person without a room may be invited now: never invited, or last invited long enough ago.
    public nonisolated func mayInvite(_ contact: IMContact, now: Date) -> Bool {
        contact.conversation == nil && contact.invitedAt.map { now.timeIntervalSince($0) >= reinviteInterval } ?? true
    }

    // MARK: - Sending

    /// The room to write to a person in: theirs (joined, or waiting for them to join: they read it when they do), or a
    /// new one inviting them if they have none and may be invited. Throws `Unreachable` otherwise.
    public func room(for userID: String) async throws -> String {
        let contact = try await inviteIfAllowed(userID)
        guard let room = contact.conversation else { throw Unreachable(userID: userID, invitedAt: contact.invitedAt) }
        return room
    }

    /// Invites a person to a new room if they have none and may be invited now; returns what is known of them after.
    /// Concurrent callers for one person share one invitation.
    @discardableResult
    public func inviteIfAllowed(_ userID: String) async throws -> IMContact {
        if let invitation = inviting[userID] { return try await invitation.value }
        let current = try await contact(of: userID)
        // Checked again after the wait: another caller may have started (or finished) an invitation meanwhile.
        if let invitation = inviting[userID] { return try await invitation.value }
        let latest = known[userID] ?? current
        let now = clock.now()
        guard mayInvite(latest, now: now), failedInvitations[userID].map({ now.timeIntervalSince($0) >= invitationRetryInterval }) ?? true
        else { return latest }
        let invitation = Task { [client, state, clock, encryption] in
            let now = clock.now()
            do {
                let encrypted = if let encryption { await !encryption.isUnavailable } else { false }
                let room = try await client.createDirectRoom(inviting: userID, encrypted: encrypted)
                if encrypted { try await encryption?.roomIsEncrypted(room, content: .object(["algorithm": .string(MatrixEncryption.megolm)])) }
                try await state.setInvitation(room, to: userID, at: now)
                return IMContact(conversation: room, joined: false, invitedAt: now)
            } catch let failure as MatrixClient.Failure where failure.isRefusal {
                // Refused for good (an unknown user, say): asking again on every wave would only make rooms nobody
                // joins, so it waits as long as after an invitation sent.
                try await state.setInvitation(nil, to: userID, at: now)
                return IMContact(conversation: nil, joined: false, invitedAt: now)
            }
        }
        inviting[userID] = invitation
        defer { inviting[userID] = nil }
        let contact: IMContact
        do {
            contact = try await invitation.value
        } catch {
            failedInvitations[userID] = clock.now()
            logger.warning(
                "could not invite someone to a room with the bot; trying again later",
                metadata: [
                    "skillrelay.im_id": "\(userID)", "skillrelay.error": "\(error)",
                    "skillrelay.retry_after_seconds": "\(Int(invitationRetryInterval))",
                ])
            throw error
        }
        failedInvitations[userID] = nil
        known[userID] = contact
        if let room = contact.conversation {
            logger.info("invited someone to a room with the bot", metadata: ["skillrelay.im_id": "\(userID)", "skillrelay.room": "\(room)"])
        } else {
            logger.notice(
                "the homeserver refused to invite someone; not asked again for a day", metadata: ["skillrelay.im_id": "\(userID)"])
        }
        return contact
    }

    /// Invites these people where they have no room and may be invited, in the background and `invitationConcurrency`
    /// at a time, without waiting: a presence lookup for a wave finds them unreachable either way (a room made now is
    /// not joined yet), and must not wait for room creations, nor pile them on the homeserver all at once.
    public func inviteInBackground(_ userIDs: [String]) {
        for userID in userIDs where inviting[userID] == nil && queuedSet.insert(userID).inserted { queued.append(userID) }
        while inviters < invitationConcurrency, inviters < queued.count {
            inviters += 1
            Task { await self.inviteQueued() }
        }
    }

    private func inviteQueued() async {
        while !queued.isEmpty {
            let userID = queued.removeFirst()
            queuedSet.remove(userID)
            // A failure is remembered by `inviteIfAllowed` (and a refusal stored): nothing more to do with it here.
            _ = try? await inviteIfAllowed(userID)
        }
        inviters -= 1
        if inviters == 0 {
            for waiter in settledWaiters { waiter.resume() }
            settledWaiters = []
        }
    }

    /// Returns once no background invitation is waiting or under way: for tests, which look at what was invited.
    public func invitationsSettled() async {
        guard inviters > 0 else { return }
        await withCheckedContinuation { settledWaiters.append($0) }
    }

    // MARK: - What the sync loop saw

    /// A person invited the bot to a room (the bot joined it): their room from now on, unless they are already in
    /// another. A room the bot made for them that they never joined is left behind; returns it, for the bot to leave.
    public func invited(to room: String, by userID: String) async throws -> String? {
        let contact = try await contact(of: userID)
        guard !contact.isReachable, contact.conversation != room else { return nil }
        try await state.setConversation(room, with: userID)
        known[userID] = IMContact(conversation: room, joined: true, invitedAt: contact.invitedAt)
        return contact.conversation
    }

    /// A person wrote in a room: if they have no room, it becomes theirs; if it is theirs, they are in it. Returns
    /// whether it is their room (a private conversation with the bot).
    public func wrote(in room: String, by userID: String) async throws -> Bool {
        let contact = try await contact(of: userID)
        if contact.conversation == nil {
            try await state.setConversation(room, with: userID)
            known[userID] = IMContact(conversation: room, joined: true, invitedAt: contact.invitedAt)
            return true
        }
        guard contact.conversation == room else { return false }
        if !contact.joined { try await joined(room, userID: userID) }
        return true
    }

    /// A person's membership in a room became `join`: if it is their room, they are in it now.
    public func joined(_ room: String, userID: String) async throws {
        let contact = try await contact(of: userID)
        guard contact.conversation == room, !contact.joined else { return }
        try await state.setJoined(room, by: userID)
        known[userID]?.joined = true
    }

    /// A person left a room, declined the invitation to it or was removed from it (`removed`), or, with `userID` nil,
    /// the bot itself is no longer in it. If it was someone's room, it is forgotten, so the next time SkillRelay needs
    /// them it invites them to a new one; returns whose it was.
    @discardableResult
    public func departed(_ room: String, userID: String?, removed: Bool) async throws -> String? {
        var departure = IMDeparture.removed
        if let userID {
            let contact = try await contact(of: userID)
            guard contact.conversation == room else { return nil }
            departure = removed ? .removed : contact.joined ? .left : .refused
        }
        guard let owner = try await state.forgetConversation(room, of: userID, departure: departure, at: clock.now()) else { return nil }
        if let contact = known[owner] {
            known[owner] = IMContact(conversation: nil, joined: false, invitedAt: contact.invitedAt)
        } else {
            known[owner] = nil
        }
        return owner
    }

    // MARK: - Checking

    /// The homeserver refused a person's presence although, as far as SkillRelay knows, they are in their room: a room
    /// stored before membership was followed, or a departure missed. Asks the room, and forgets it if they are no
    /// longer in it (or the bot is not).
    public func recheck(_ userID: String) async throws {
        let contact = try await contact(of: userID)
        guard let room = contact.conversation, contact.joined else { return }
        let membership: String?
        do {
            membership = try await client.membership(of: userID, in: room)
        } catch let failure as MatrixClient.Failure where failure.status == 403 || failure.status == 404 {
            membership = nil
        }
        // Joined after all (presence hidden for some other reason), or invited and not joined yet: kept as it is.
        guard membership != "join", membership != "invite" else { return }
        try await departed(room, userID: userID, removed: membership == "ban")
    }
}
