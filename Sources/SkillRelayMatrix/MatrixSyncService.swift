import Foundation
import Logging
import ServiceLifecycle
import SkillRelayDomain
import SkillRelayOlm

/// The inbound side: a `/sync` long-poll loop. Its `since` token is kept in the database, events are handled once
/// (by event id), the bot's own messages are ignored, invitations are accepted, and every message a person sends is
/// handed to `IMConversation`, whose replies go back to the same room. Presence events go to `presence`, the stream
/// the presence source reads first. Membership changes go to `rooms`: who joined their room with the bot, and who
/// left it, declined it or was removed from it, whose room is then forgotten (and left by the bot).
///
/// Only the instance that leads (`Leadership`) runs the loop: several running it would act on every message once each.
/// Another that takes over carries on from the stored `since` token.
public struct MatrixSyncService: Service {
    let client: MatrixClient
    let state: any IMStateStore & IMKeyStore
    let rooms: MatrixRooms
    let conversation: IMConversation
    let logger: Logger
    let presence: MatrixPresenceStream?
    let clock: any WallClock
    let pollMilliseconds: Int
    /// The bot's end-to-end encryption; `nil` where it has none (a token without a device), and then an encrypted
    /// message gets a plain answer saying so.
    let encryption: MatrixEncryption?
    let writer: MatrixRoomWriter
    /// Which instance runs the loop.
    let leadership: any Leadership
    /// Replies to handled messages that have not gone yet, kept in the database.
    let owedReplies: MatrixOwedReplies

    /// `seal` seals the replies kept until they go (the same pickle key as the bot's encryption keys).
    public init(
        client: MatrixClient, state: any IMStateStore & IMKeyStore, seal: MatrixKeySeal, rooms: MatrixRooms, conversation: IMConversation,
        logger: Logger, presence: MatrixPresenceStream? = nil, clock: any WallClock = SystemWallClock(), pollMilliseconds: Int = 30_000,
        encryption: MatrixEncryption? = nil, leadership: any Leadership = SoleInstance()
    ) {
        self.owedReplies = MatrixOwedReplies(store: state, seal: seal)
        self.leadership = leadership
        self.encryption = encryption
        self.writer = MatrixRoomWriter(client: client, encryption: encryption)
        self.client = client
        self.state = state
        self.rooms = rooms
        self.conversation = conversation
        self.logger = logger
        self.presence = presence
        self.clock = clock
        self.pollMilliseconds = pollMilliseconds
    }

    /// How `Leadership` names the loop, in the log too ("another instance leads the Matrix sync; standing by").
    public static let leadershipName = "the Matrix sync"

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await leadership.whileLeading(Self.leadershipName) {
                    logger.notice("leading the Matrix sync")
                    await loop()
                }
            }
        } catch is CancellationError {
            // Shut down while standing by.
        }
    }

    private func loop() async {
        var bot: String?
        var filter: String?
        var snapshotTaken = presence == nil
        var backoff: Duration = .seconds(1)
        while !Task.isCancelled {
            do {
                if bot == nil {
                    let me = try await client.identity()
                    if let encryption {
                        if let device = me.deviceID {
                            try await encryption.start(userID: me.userID, deviceID: device)
                        } else {
                            logger.error("\(NoDevice())")
                            await encryption.becomeUnavailable()
                        }
                    }
                    bot = me.userID
                    await exemptFromRateLimits(me.userID)
                }
                if filter == nil { filter = try await client.createFilter(for: bot!, filter: SyncFilter()) }
                if !snapshotTaken {
                    // Once per start, and never in the way of the sync itself: without it, presence falls back to
                    // requests for whoever the stream has not mentioned.
                    snapshotTaken = true
                    do {
                        try await takePresenceSnapshot()
                    } catch {
                        logger.warning(
                            "matrix presence snapshot failed; presence comes from the sync stream and requests",
                            metadata: ["skillrelay.error": "\(error)"])
                    }
                }
                let since = try await state.inboundCursor()
                let response = try await client.sync(since: since, filter: filter, timeoutMilliseconds: since == nil ? 0 : await pollTimeout())
                // The first sync ever only marks where SkillRelay starts: history from before is not acted on.
                try await handle(response, bot: bot!, actOnMessages: since != nil)
                try await state.setInboundCursor(response.next_batch)
                backoff = .seconds(1)
            } catch let limited as MatrixClient.RateLimited {
                // Not a failure: wait as long as the homeserver asked, and keep the backoff as it was.
                if Task.isCancelled { return }
                logger.notice("matrix sync rate limited; waiting as asked", metadata: ["skillrelay.retry_in": "\(limited.retryAfter)s"])
                try? await Task.sleep(for: .milliseconds(Int64((limited.retryAfter * 1000).rounded(.up))))
            } catch {
                if Task.isCancelled { return }
                logger.warning("matrix sync failed; retrying", metadata: ["skillrelay.error": "\(error)", "skillrelay.retry_in": "\(backoff)"])
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(30))
            }
        }
    }

    /// The bot's access token belongs to no device, so it cannot take part in end-to-end encryption.
    struct NoDevice: Error, CustomStringConvertible {
        var description: String {
            "the bot's access token has no device, so it cannot read or write encrypted rooms: make the token by logging in (POST /login), "
                + "which gives it a device"
        }
    }

    /// How long the next sync may wait: the usual poll, or less when a message that cannot be read is due to be given
    /// up on (its sender is told promptly, not at the next poll).
    func pollTimeout() async -> Int {
        guard let deadline = await encryption?.nextDeadline() else { return pollMilliseconds }
        let untilDue = Int((deadline.timeIntervalSince(clock.now()) * 1000).rounded(.up))
        return max(0, min(pollMilliseconds, untilDue))
    }

    /// Lifts the homeserver's rate limits for the bot where it may (Synapse's admin API, for a bot that is a server
    /// admin), and otherwise says once, plainly, what a homeserver admin should do: with the shipped limits a plain
    /// account sends a burst of 10 messages and then one every 5 seconds, so a busy company's questions queue up.
    func exemptFromRateLimits(_ bot: String) async {
        do {
            try await client.exemptFromRateLimits(bot)
            logger.notice("exempted the bot from the homeserver's rate limits", metadata: ["skillrelay.im_id": "\(bot)"])
        } catch {
            logger.warning(
                """
                the bot could not exempt itself from the homeserver's rate limits (it is not a server admin), so its messages \
                are sent as fast as the limits allow. A homeserver admin can lift them: POST \
                /_synapse/admin/v1/users/\(MatrixClient.escape(bot))/override_ratelimit with the body \
                {"messages_per_second": 0, "burst_count": 0} and an admin's access token
                """, metadata: ["skillrelay.im_id": "\(bot)", "skillrelay.error": "\(error)"])
        }
    }

    /// Everyone's current presence at start, in one request: the stream resumes from the stored cursor and reports only
    /// changes, so without this someone who has stayed online since before a restart would be asked for by request on
    /// every wave. An initial sync that leaves out every room answers with the presence of everyone who shares a room
    /// with the bot and is not offline.
    func takePresenceSnapshot() async throws {
        let response = try await client.sync(since: nil, filter: SyncFilter.presenceOnly, timeoutMilliseconds: 0)
        let events = response.presence?.events ?? []
        presence?.record(events, at: clock.now())
        logger.info("matrix presence snapshot taken", metadata: ["skillrelay.people": "\(events.count)"])
        for event in events {
            logger.debug(
                "matrix presence snapshot",
                metadata: ["skillrelay.im_id": "\(event.sender)", "skillrelay.presence": "\(event.content.presence)"])
        }
    }

    /// Handles one sync batch: presence first, so that a question in the same batch sees it; then room keys, so that
    /// a message in the same batch can be read.
    func handle(_ response: SyncResponse, bot: String, actOnMessages: Bool) async throws {
        // Replies that failed to go before (in this process or another) go first, in their order: this batch's come after.
        try await sendOwedReplies()
        var readyAfterWaiting: [(room: String, event: RoomEvent)] = []
        if let encryption {
            readyAfterWaiting = await encryption.receive(toDevice: response.to_device?.events ?? [])
            await encryption.devicesChanged(of: (response.device_lists?.changed ?? []) + (response.device_lists?.left ?? []))
            if let count = response.device_one_time_keys_count?["signed_curve25519"] {
                do {
                    try await encryption.topUpOneTimeKeys(published: count)
                } catch {
                    logger.warning("could not upload one-time keys", metadata: ["skillrelay.error": "\(error)"])
                }
            }
        }
        let presenceEvents = response.presence?.events ?? []
        presence?.record(presenceEvents, at: clock.now())
        await recordActivity(in: response, bot: bot)
        for event in presenceEvents {
            logger.debug(
                "matrix presence from the sync stream",
                metadata: ["skillrelay.im_id": "\(event.sender)", "skillrelay.presence": "\(event.content.presence)"])
        }
        for (room, invited) in response.rooms?.invite ?? [:] {
            let inviter = invited.invite_state?.events?.first { $0.type == "m.room.member" && $0.state_key == bot }?.sender
            do {
                try await client.join(room)
                if let inviter, let abandoned = try await rooms.invited(to: room, by: inviter) {
                    // The room the bot made for them, which they never joined: they chose their own.
                    await leave(abandoned, because: "they opened another room with the bot")
                }
            } catch {
                logger.warning(
                    "could not join a room the bot was invited to", metadata: ["skillrelay.room": "\(room)", "skillrelay.error": "\(error)"])
            }
        }
        // Everyone whose membership changed, looked up in one read rather than one each (a first sync carries every
        // room's members).
        var members: Set<String> = []
        for joined in (response.rooms?.join ?? [:]).values {
            let events: [RoomEvent] = (joined.state?.events ?? []) + (joined.timeline?.events ?? [])
            for event in events where event.type == "m.room.member" {
                if let member = event.state_key, member != bot { members.insert(member) }
            }
        }
        if !members.isEmpty { _ = try await rooms.contacts(of: Array(members)) }
        // State first (it precedes the timeline), then every room's timeline in the order the homeserver received it:
        // a join before the message after it, and two people's answers ranked as they arrived.
        for (room, joined) in response.rooms?.join ?? [:] {
            for event in joined.state?.events ?? [] {
                if event.type == "m.room.member" { try await handleMembership(event, in: room, bot: bot) }
                if event.type == "m.room.encryption" { try await encryption?.roomIsEncrypted(room, content: event.rawContent) }
            }
        }
        // The bot's own messages, echoed back with the transaction ids they were sent with: their references are kept
        // before anyone's reply to them is read, as the outbox keeps them only once its sends return.
        let echoes = Self.echoes(in: response, bot: bot)
        try await state.recordEchoes(echoes)
        if !echoes.isEmpty { logger.debug("matrix echoes of the bot's messages", metadata: ["skillrelay.transactions": "\(echoes.keys.sorted())"]) }
        // Messages that waited for their key came before this batch's.
        for (room, event) in readyAfterWaiting where actOnMessages {
            try await act(on: event, in: room)
        }
        for (room, event) in Self.timelineInArrivalOrder(response, bot: bot) {
            if event.type == "m.room.member" {
                try await handleMembership(event, in: room, bot: bot)
                continue
            }
            if event.type == "m.room.encryption" {
                try await encryption?.roomIsEncrypted(room, content: event.rawContent)
                continue
            }
            // Recorded as handled once what it asks is done (`act`), not before: a batch read again after a failure or a
            // restart in between handles it then, where it would otherwise be lost.
            guard actOnMessages else {
                _ = try await state.markHandled(event: event.event_id)
                continue
            }
            guard try await !state.isHandled(event: event.event_id) else { continue }
            // A room made to introduce two people is theirs: nothing said there is for the bot (nor, encrypted, even
            // readable by it, which it must not complain of).
            guard try await !rooms.isIntroduction(room) else {
                _ = try await state.markHandled(event: event.event_id)
                continue
            }
            guard event.type == "m.room.encrypted" else {
                try await act(on: event, in: room)
                continue
            }
            guard let encryption, await !encryption.isUnavailable else {
                try await sayUnreadable(MatrixEncryption.noDeviceNotice, in: room, eventID: event.event_id)
                _ = try await state.markHandled(event: event.event_id)
                continue
            }
            switch try await encryption.decrypt(event, in: room) {
            case .read(let message):
                try await act(on: message, in: room)
            case .waiting:
                // The encryption holds it until its key comes (or tells its sender it never did).
                _ = try await state.markHandled(event: event.event_id)
            case .refused(let reason):
                _ = try await state.markHandled(event: event.event_id)
                logger.warning("refused an encrypted message", metadata: ["skillrelay.room": "\(room)", "skillrelay.reason": "\(reason)"])
            }
        }
        // Messages whose key never came: their senders are told, plainly, rather than left in silence.
        for overdue in try await encryption?.overdue() ?? [] {
            let metadata: Logger.Metadata = ["skillrelay.room": "\(overdue.room)", "skillrelay.im_id": "\(overdue.sender)"]
            do {
                try await sayUnreadable(MatrixEncryption.unreadableNotice, in: overdue.room, eventID: overdue.eventID)
                try await encryption?.gaveUp(on: overdue.eventID)
                logger.notice("an encrypted message could not be read (its key never came); told its sender", metadata: metadata)
            } catch {
                // Kept waiting, and tried again shortly (the transaction id keeps a retry from posting twice).
                await encryption?.noticeFailed(for: overdue.eventID)
                logger.warning(
                    "could not tell a sender their message could not be read; trying again",
                    metadata: metadata.merging(["skillrelay.error": "\(error)"]) { current, _ in current })
            }
        }
        // Rooms the bot is no longer in: if one was someone's room, it is forgotten. (Those it left itself were.)
        for room in (response.rooms?.leave ?? [:]).keys {
            if let person = try await rooms.departed(room, userID: nil, removed: true) {
                logger.info("the bot was removed from a person's room", metadata: ["skillrelay.im_id": "\(person)", "skillrelay.room": "\(room)"])
            }
        }
    }

    /// Records who the bot saw in its rooms, and when: everyone who sent an event (a message, a join) or a read receipt.
    /// Where the homeserver does not report presence, this is how SkillRelay knows who is at their desk. Failing to
    /// record it only loses a hint, so it never stops the sync.
    func recordActivity(in response: SyncResponse, bot: String) async {
        let seen = Self.activity(in: response, bot: bot, now: clock.now())
        guard !seen.isEmpty else { return }
        do {
            try await state.recordActivity(seen)
        } catch {
            logger.warning("could not record who was active in the IM", metadata: ["skillrelay.error": "\(error)"])
        }
    }

    /// The latest time each person (not the bot) was seen in a sync batch's rooms; never later than `now`, so a
    /// homeserver's clock ahead of ours cannot make someone look active for longer.
    static func activity(in response: SyncResponse, bot: String, now: Date) -> [String: Date] {
        var seen: [String: Date] = [:]
        func saw(_ user: String, _ milliseconds: Int64?) {
            guard user != bot else { return }
            let time = milliseconds.map { min(now, Date(timeIntervalSince1970: Double($0) / 1000)) } ?? now
            if let known = seen[user], known >= time { return }
            seen[user] = time
        }
        for joined in (response.rooms?.join ?? [:]).values {
            for event in joined.timeline?.events ?? [] { saw(event.sender, event.origin_server_ts) }
            for event in joined.ephemeral?.events ?? [] {
                for reader in event.readers { saw(reader.userID, reader.ts) }
            }
        }
        return seen
    }

    /// A person's message (read, or decrypted): handed to the conversation, whose replies go back to the same room. The
    /// event is recorded as handled once the conversation has handled it, together with the replies it is owed, before
    /// they go: a failure or a restart before that handles it again (an `ask` asks once, by the message's id). A reply
    /// that fails to go after it stays owed, across a restart too, and goes with the next batch (`sendOwedReplies`).
    func act(on event: RoomEvent, in room: String) async throws {
        guard event.type == "m.room.message", let content = event.content, content.msgtype == "m.text" || content.msgtype == "m.notice",
            let body = content.body,
            // A room made to introduce two people is theirs: the bot only keeps it alive until one of them joins.
            try await !rooms.isIntroduction(room)
        else {
            _ = try await state.markHandled(event: event.event_id)
            return
        }
        let isPrivate = try await rooms.wrote(in: room, by: event.sender)
        let message = IncomingMessage(
            imID: event.sender, text: Self.stripReplyFallback(body), inReplyTo: content.relatesTo?.inReplyTo?.event_id,
            thread: content.relatesTo?.threadRoot, isPrivate: isPrivate, id: event.event_id)
        let replies = await conversation.handle(message)
        // Transaction ids derived from the event, so a retried reply is not posted twice.
        let handledAt = clock.now()
        let owed = replies.enumerated().map { index, reply in
            MatrixOwedReplies.Reply(
                room: room, text: reply, transactionID: "reply-\(event.event_id)-\(index)", handledAt: handledAt, order: index)
        }
        // Handled before (another instance's sync, just before it lost the lead): its replies were kept then.
        guard try await state.markHandled(event: event.event_id, changing: try owedReplies.keeping(owed)) else { return }
        // Ids only, and each reply's first words (never a sign-in link): enough to follow a message through the log.
        logger.debug(
            "matrix message handled",
            metadata: [
                "skillrelay.room": "\(room)", "skillrelay.event": "\(event.event_id)", "skillrelay.im_id": "\(event.sender)",
                "skillrelay.in_reply_to": "\(message.inReplyTo ?? "-")", "skillrelay.replies": "\(replies.map(Self.gist))",
            ])
        try await sendOwedReplies()
    }

    /// Sends the replies owed, oldest first, however long the homeserver's rate limits ask. One the homeserver refuses
    /// for good (a 4xx other than a rate limit: the bot left the room, say), or that failed
    /// `MatrixOwedReplies.maximumFailures` times, is given up on with a warning; any other failure stops here and is
    /// thrown, for the sync to try again after its backoff.
    func sendOwedReplies() async throws {
        let (replies, unreadable) = try await owedReplies.owed()
        for key in unreadable {
            try await owedReplies.forget(key)
            logger.error(
                "a reply kept to be sent does not open with this pickle key; it cannot be sent",
                metadata: ["skillrelay.transaction": "\(key)"])
        }
        for reply in replies {
            let metadata: Logger.Metadata = ["skillrelay.room": "\(reply.room)", "skillrelay.transaction": "\(reply.transactionID)"]
            do {
                _ = try await writer.send(
                    TextMessage(reply.text), to: reply.room, transactionID: reply.transactionID, maxWait: Self.replyRateLimitWait)
                try await owedReplies.forget(reply.transactionID)
                if reply.failures > 0 { logger.info("a reply that had failed to go was sent", metadata: metadata) }
            } catch let failure as MatrixClient.Failure where failure.isRefusal {
                try await owedReplies.forget(reply.transactionID)
                logger.warning(
                    "the homeserver refused a reply; not sending it again",
                    metadata: metadata.merging(["skillrelay.error": "\(failure)"]) { current, _ in current })
            } catch let limited as MatrixClient.RateLimited {
                throw limited
            } catch {
                guard try await owedReplies.failed(reply) else { throw error }
                logger.error(
                    "gave up on a reply after \(MatrixOwedReplies.maximumFailures) failed tries",
                    metadata: metadata.merging(["skillrelay.error": "\(error)"]) { current, _ in current })
            }
        }
    }

    /// Tells the sender of a message the bot could not read that it could not (`notice`), and what to do; once per event.
    func sayUnreadable(_ notice: String, in room: String, eventID: String) async throws {
        _ = try await writer.send(TextMessage(notice), to: room, transactionID: "unreadable-\(eventID)", maxWait: Self.replyRateLimitWait)
    }

    /// A member's join, leave, refusal, kick or ban in a room; only their own room with the bot matters. Acting on a
    /// membership twice (a sync batch replayed after a crash) changes nothing.
    func handleMembership(_ event: RoomEvent, in room: String, bot: String) async throws {
        guard let member = event.state_key, member != bot, let membership = event.content?.membership else { return }
        // Whoever came or went, the room's next message is shared with (or hidden from) their devices.
        await encryption?.membershipChanged(in: room)
        switch membership {
        case "join":
            if try await rooms.isIntroduction(room) {
                // One of the two introduced is in: the room lives on without the bot.
                try await rooms.introductionJoined(room)
                await leave(room, because: "one of the two people it introduced joined")
                return
            }
            try await rooms.joined(room, userID: member)
        case "leave", "ban":
            // Their own leave is leaving or declining the invitation; someone else's is a kick.
            let removed = membership == "ban" || event.sender != member
            guard let person = try await rooms.departed(room, userID: member, removed: removed) else { return }
            logger.info(
                "a person's room with the bot is gone; they are invited to a new one when next needed, at most once a day",
                metadata: ["skillrelay.im_id": "\(person)", "skillrelay.room": "\(room)", "skillrelay.membership": "\(membership)"])
            await leave(room, because: "its person is gone")
        default:
            return
        }
    }

    /// The bot leaves a room nobody needs any more; failing to is only untidy.
    func leave(_ room: String, because reason: String) async {
        do {
            try await client.leaveAndForget(room)
        } catch {
            logger.warning(
                "could not leave a room", metadata: ["skillrelay.room": "\(room)", "skillrelay.reason": "\(reason)", "skillrelay.error": "\(error)"])
        }
    }

    /// People's messages and memberships in a sync batch's timelines, across all rooms, in the order the homeserver
    /// received them: a batch lists rooms in no particular order, and two specialists' answers to one question must be
    /// ranked as they arrived. Within a room the timeline's own order stands; across rooms, the receive time decides.
    static func timelineInArrivalOrder(_ response: SyncResponse, bot: String) -> [(room: String, event: RoomEvent)] {
        var messages: [(room: String, event: RoomEvent, position: Int)] = []
        for (room, joined) in response.rooms?.join ?? [:] {
            for event in joined.timeline?.events ?? []
            where event.type == "m.room.member" || event.type == "m.room.encryption"
                || ((event.type == "m.room.message" || event.type == "m.room.encrypted") && event.sender != bot)
            {
                messages.append((room, event, messages.count))
            }
        }
        messages.sort { ($0.event.origin_server_ts ?? 0, $0.position) < ($1.event.origin_server_ts ?? 0, $1.position) }
        return messages.map { ($0.room, $0.event) }
    }

    /// The event id of each of the bot's own messages in a batch's timelines, by the transaction id it was sent with.
    static func echoes(in response: SyncResponse, bot: String) -> [String: String] {
        var echoes: [String: String] = [:]
        for joined in (response.rooms?.join ?? [:]).values {
            for event in joined.timeline?.events ?? [] where event.sender == bot {
                if let transaction = event.transactionID { echoes[transaction] = event.event_id }
            }
        }
        return echoes
    }

    /// How long a reply in the conversation may wait for the homeserver's rate limits (in all).
    static let replyRateLimitWait: TimeInterval = 600

    /// How the log names one of the bot's replies: `help`, or its first three words.
    static func gist(_ reply: String) -> String {
        reply == IMConversation.help ? "help" : reply.split(whereSeparator: \.isWhitespace).prefix(3).joined(separator: " ")
    }

    /// Drops the quoted lines (`> …`) some clients put before a reply's own text.
    static func stripReplyFallback(_ body: String) -> String {
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.first?.hasPrefix("> ") == true else { return body }
        let rest = lines.drop { $0.hasPrefix(">") }.drop { $0.trimmingCharacters(in: .whitespaces).isEmpty }
        return rest.joined(separator: "\n")
    }
}

extension MatrixSyncService: CustomStringConvertible {
    /// How logs name the service: short, and without the client's credentials.
    public var description: String { "MatrixSyncService(\(client))" }
}
