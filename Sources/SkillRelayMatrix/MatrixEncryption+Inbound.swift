import Foundation
import SkillRelayOlm

/// Reading: room keys from people's devices (Olm to-device messages), and room messages with them (Megolm).
extension MatrixEncryption {
    /// What became of an encrypted room message.
    public enum Decryption: Sendable {
        /// Read: the event as it was before encryption (its type and content), with the original's id and sender.
        case read(RoomEvent)
        /// Its key has not arrived: it waits (stored), the sender's devices were asked for the key, and the sender is
        /// told if it does not come within `keyWait`.
        case waiting
        /// Refused: a replay, a message for another room, or one whose sender is not who shared the key.
        case refused(String)
    }

    // MARK: - To-device

    /// Handles to-device messages from a sync: room keys (stored, sealed, before the sync's position moves on), a
    /// forwarded key the bot asked for, and key requests. Returns the messages that were waiting for these keys,
    /// now read, oldest first.
    public func receive(toDevice events: [SyncResponse.ToDeviceEvent]) async -> [(room: String, event: RoomEvent)] {
        guard device != nil else { return [] }
        var arrived: Set<String> = []
        for event in events where event.type == "m.room.encrypted" {
            do {
                if let sessionID = try await receiveOlm(event) { arrived.insert(sessionID) }
            } catch {
                logger.warning(
                    "could not read an encrypted to-device message",
                    metadata: ["skillrelay.im_id": "\(event.sender)", "skillrelay.error": "\(error)"])
            }
        }
        return await readWaiting(sessions: arrived)
    }

    /// One Olm message to the bot's device; returns the Megolm session id whose key it carried, if any.
    func receiveOlm(_ event: SyncResponse.ToDeviceEvent) async throws -> String? {
        guard let me = device, event.content["algorithm"]?.stringValue == Self.olm,
            let senderKey = event.content["sender_key"]?.stringValue,
            let mine = event.content["ciphertext"]?[me.account.curve25519Key],
            let type = mine["type"]?.integerValue, let body = mine["body"]?.stringValue
        else { return nil }
        var changes: [Place: (any Encodable & Sendable)?] = [:]
        let plaintext = try await decryptOlm(OlmMessage(type: Int(type), body: body), from: senderKey, sender: event.sender, changes: &changes)
        guard let data = plaintext.data(using: .utf8), let payload = try? JSONDecoder().decode(JSONValue.self, from: data) else {
            try await save(changes)
            return nil
        }
        // Spec: the payload must name the bot as its recipient, and its sender as the to-device message's sender.
        guard payload["recipient"]?.stringValue == me.userID, payload["recipient_keys"]?["ed25519"]?.stringValue == me.account.ed25519Key,
            payload["sender"]?.stringValue == event.sender
        else {
            try await save(changes)
            throw OlmPayloadRefused(reason: "the payload names another recipient or sender")
        }
        if let known = try await knownDevice(of: event.sender, curve25519: senderKey),
            let claimed = payload["keys"]?["ed25519"]?.stringValue, claimed != known.ed25519
        {
            try await save(changes)
            throw OlmPayloadRefused(reason: "the sender's Ed25519 key is not the one its device signed")
        }
        var arrived: String?
        switch payload["type"]?.stringValue {
        case "m.room_key":
            arrived = try await storeRoomKey(payload["content"], forwarded: false, sender: event.sender, senderKey: senderKey, changes: &changes)
        case "m.forwarded_room_key":
            arrived = try await storeRoomKey(payload["content"], forwarded: true, sender: event.sender, senderKey: senderKey, changes: &changes)
        default:
            // m.dummy (a new session's first message) and anything else: nothing to keep but the session.
            break
        }
        try await save(changes)
        return arrived
    }

    struct OlmPayloadRefused: Error, CustomStringConvertible {
        var reason: String
        var description: String { "refused an Olm message: \(reason)" }
    }

    /// Decrypts with the session a message belongs to, or starts the session a pre-key message opens (using up one
    /// of the bot's one-time keys). A normal message no session reads means the sender's session is lost: the spec's
    /// remedy is a new session from the bot, with an `m.dummy` in it, at most once an hour per device.
    func decryptOlm(_ message: OlmMessage, from senderKey: String, sender: String, changes: inout [Place: (any Encodable & Sendable)?]) async throws
        -> String
    {
        var sessions = try await olmSessionList(for: senderKey)
        let now = clock.now()
        for index in sessions.indices
        where message.type == 1 || sessions[index].session.matches(preKeyMessage: message.body, theirIdentityKey: senderKey) {
            var candidate = sessions[index]
            guard let plaintext = try? candidate.session.decrypt(message) else { continue }
            candidate.lastUsed = now
            sessions[index] = candidate
            olmSessions[senderKey] = sessions.sorted { $0.lastUsed > $1.lastUsed }
            changes[.olm(curve25519: senderKey, sessionID: candidate.session.sessionID)] = candidate
            return plaintext
        }
        guard message.type == 0, var me = device else {
            await unwedge(sender: sender, senderKey: senderKey)
            throw OlmError.badMessageFormat
        }
        let session: OlmSession
        let plaintext: String
        do {
            (session, plaintext) = try me.account.createInboundSession(theirIdentityKey: senderKey, preKeyMessage: message.body)
        } catch {
            // A one-time key already used (a duplicate claim, or a session the bot lost): the sender needs a new one.
            await unwedge(sender: sender, senderKey: senderKey)
            throw error
        }
        device = me
        let stored = StoredOlmSession(session: session, lastUsed: now)
        olmSessions[senderKey] = [stored] + sessions
        changes[.olm(curve25519: senderKey, sessionID: session.sessionID)] = stored
        changes[.account(userID: me.userID, deviceID: me.deviceID)] = me
        return plaintext
    }

    func olmSessionList(for curve25519: String) async throws -> [StoredOlmSession] {
        if let sessions = olmSessions[curve25519] { return sessions }
        let loaded = try await loadAll(StoredOlmSession.self, namespace: Place.olm(curve25519: curve25519, sessionID: "").namespace) {
            .olm(curve25519: curve25519, sessionID: $0)
        }
        let sessions = loaded.values.sorted { $0.lastUsed > $1.lastUsed }
        olmSessions[curve25519] = sessions
        return sessions
    }

    /// A new Olm session to a device whose messages the bot cannot read, announced with an `m.dummy`, so its next
    /// messages (room keys) reach the bot again.
    func unwedge(sender: String, senderKey: String) async {
        let now = clock.now()
        if let last = lastUnwedged[senderKey], now.timeIntervalSince(last) < 3600 { return }
        lastUnwedged[senderKey] = now
        do {
            guard let target = try await knownDevice(of: sender, curve25519: senderKey) else { return }
            try await sendEncrypted(type: "m.dummy", content: .object([:]), to: [target], forceNewSession: true)
            logger.info("started a new Olm session with a device whose message could not be read", metadata: ["skillrelay.im_id": "\(sender)"])
        } catch {
            logger.warning("could not start a new Olm session", metadata: ["skillrelay.im_id": "\(sender)", "skillrelay.error": "\(error)"])
        }
    }

    /// Keeps a Megolm session from an `m.room_key` (or a forwarded one the bot asked for), unless one at an earlier
    /// index is already kept. Returns its session id.
    func storeRoomKey(
        _ content: JSONValue?, forwarded: Bool, sender: String, senderKey: String, changes: inout [Place: (any Encodable & Sendable)?]
    ) async throws -> String? {
        guard let content, content["algorithm"]?.stringValue == Self.megolm, let room = content["room_id"]?.stringValue,
            let sessionID = content["session_id"]?.stringValue, let key = content["session_key"]?.stringValue
        else { return nil }
        let session: MegolmInboundSession
        var originalSenderKey = senderKey
        if forwarded {
            // Only a key the bot asked for, from the devices it asked (the message's sender's own).
            guard try await loadPendingSessions().contains(where: { $0.sessionID == sessionID && $0.sender == sender && $0.room == room }),
                let original = content["sender_key"]?.stringValue
            else { return nil }
            session = try MegolmInboundSession(exportedKey: key)
            originalSenderKey = original
        } else {
            session = try MegolmInboundSession(sessionKey: key)
        }
        guard session.sessionID == sessionID else { throw OlmPayloadRefused(reason: "a room key whose session id is not its key's") }
        let place = Place.inbound(room: room, sessionID: sessionID)
        if let existing = try await inboundSession(room: room, sessionID: sessionID), existing.session.firstKnownIndex <= session.firstKnownIndex {
            return sessionID
        }
        let stored = StoredInboundSession(session: session, room: room, sender: sender, senderKey: originalSenderKey)
        inboundSessions[place.description] = stored
        changes[place] = stored
        logger.debug("received a room key", metadata: ["skillrelay.room": "\(room)", "skillrelay.im_id": "\(sender)"])
        return sessionID
    }

    func inboundSession(room: String, sessionID: String) async throws -> StoredInboundSession? {
        let place = Place.inbound(room: room, sessionID: sessionID)
        if let session = inboundSessions[place.description] { return session }
        let loaded = try await load(StoredInboundSession.self, at: place)
        inboundSessions[place.description] = loaded
        return loaded
    }

    // MARK: - Room messages

    /// Reads an `m.room.encrypted` room event. A message whose key is missing waits for it (see `Decryption`).
    public func decrypt(_ event: RoomEvent, in room: String) async throws -> Decryption {
        guard let content = event.rawContent, content["algorithm"]?.stringValue == Self.megolm,
            let sessionID = content["session_id"]?.stringValue, let ciphertext = content["ciphertext"]?.stringValue
        else { return .refused("not a Megolm message") }
        guard let stored = try await inboundSession(room: room, sessionID: sessionID) else {
            try await wait(for: event, in: room, sessionID: sessionID)
            return .waiting
        }
        guard stored.sender == event.sender else { return .refused("its key was shared by \(stored.sender), not by its sender") }
        let plaintext: String
        let index: UInt32
        do {
            (plaintext, index) = try stored.session.decrypt(ciphertext)
        } catch OlmError.unknownMessageIndex {
            // A key from later in the session: an earlier one may still come.
            try await wait(for: event, in: room, sessionID: sessionID)
            return .waiting
        }
        // The same index under another event id is a replay (spec): only one of them is read.
        let indexPlace = Place.messageIndex(sessionID: sessionID, index: index)
        if let seen = try await load(String.self, at: indexPlace) {
            guard seen == event.event_id else { return .refused("a replay of message \(index) of its session") }
        } else {
            try await save([indexPlace: event.event_id])
        }
        guard let data = plaintext.data(using: .utf8), let payload = try? JSONDecoder().decode(JSONValue.self, from: data),
            payload["room_id"]?.stringValue == room, let type = payload["type"]?.stringValue
        else { return .refused("its payload is for another room, or not an event") }
        return .read(
            RoomEvent(
                type: type, event_id: event.event_id, sender: event.sender, origin_server_ts: event.origin_server_ts, rawContent: payload["content"]))
    }

    /// Keeps a message until its key arrives, and asks the sender's devices for the key (`m.room_key_request`).
    func wait(for event: RoomEvent, in room: String, sessionID: String) async throws {
        _ = try await loadPendingSessions()
        guard pending[event.event_id] == nil, let content = event.rawContent else { return }
        let waiting = PendingEvent(
            room: room, eventID: event.event_id, sender: event.sender, originServerTS: event.origin_server_ts, content: content,
            receivedAt: clock.now(), sessionID: sessionID, requestID: "skillrelay-\(UUID().uuidString)")
        pending[event.event_id] = waiting
        try await save([.pending(eventID: event.event_id): waiting])
        logger.info(
            "an encrypted message's key has not arrived; asked the sender's devices for it",
            metadata: ["skillrelay.room": "\(room)", "skillrelay.im_id": "\(event.sender)"])
        await requestKey(for: waiting, content: content)
    }

    func requestKey(for waiting: PendingEvent, content: JSONValue) async {
        guard let me = device, let sessionID = waiting.sessionID else { return }
        var body: [String: JSONValue] = [
            "algorithm": .string(Self.megolm), "room_id": .string(waiting.room), "session_id": .string(sessionID),
        ]
        if let senderKey = content["sender_key"] { body["sender_key"] = senderKey }
        let request: JSONValue = .object([
            "action": .string("request"), "body": .object(body), "request_id": .string(waiting.requestID),
            "requesting_device_id": .string(me.deviceID),
        ])
        do {
            let targets = try await deviceList(of: [waiting.sender])
            guard !targets.isEmpty else { return }
            try await client.sendToDevice(
                type: "m.room_key_request", messages: [waiting.sender: Dictionary(uniqueKeysWithValues: targets.map { ($0.deviceID, request) })],
                transactionID: waiting.requestID)
        } catch {
            logger.warning("could not ask for a room key", metadata: ["skillrelay.im_id": "\(waiting.sender)", "skillrelay.error": "\(error)"])
        }
    }

    @discardableResult
    func loadPendingSessions() async throws -> [PendingEvent] {
        if !pendingLoaded {
            let loaded = try await loadAll(PendingEvent.self, namespace: Place.pending(eventID: "").namespace) { .pending(eventID: $0) }
            pending.merge(loaded) { current, _ in current }
            pendingLoaded = true
        }
        return Array(pending.values)
    }

    /// Waiting messages whose keys have arrived, read (or refused), oldest first; each is taken off the waiting list.
    func readWaiting(sessions: Set<String>) async -> [(room: String, event: RoomEvent)] {
        guard !sessions.isEmpty else { return [] }
        let ready = pending.values.filter { $0.sessionID.map(sessions.contains) ?? false }.sorted { $0.receivedAt < $1.receivedAt }
        var read: [(room: String, event: RoomEvent)] = []
        for waiting in ready {
            let event = RoomEvent(
                type: "m.room.encrypted", event_id: waiting.eventID, sender: waiting.sender, origin_server_ts: waiting.originServerTS,
                rawContent: waiting.content)
            pending[waiting.eventID] = nil
            do {
                switch try await decrypt(event, in: waiting.room) {
                case .read(let message):
                    read.append((waiting.room, message))
                    try await save([.pending(eventID: waiting.eventID): nil])
                case .waiting:
                    // Still not readable (a key from later in its session): it keeps waiting.
                    pending[waiting.eventID] = waiting
                case .refused(let reason):
                    try await save([.pending(eventID: waiting.eventID): nil])
                    logger.warning(
                        "refused an encrypted message", metadata: ["skillrelay.room": "\(waiting.room)", "skillrelay.reason": "\(reason)"])
                }
            } catch {
                pending[waiting.eventID] = waiting
                logger.warning("could not read a waiting message", metadata: ["skillrelay.error": "\(error)"])
            }
        }
        return read
    }

    /// Messages whose key did not come within `keyWait`, for the sender to be told. They stay on the waiting list
    /// until `gaveUp(on:)` says the sender was told, so a notice that could not be sent is not lost.
    public func overdue() async throws -> [(room: String, sender: String, eventID: String)] {
        _ = try await loadPendingSessions()
        let now = clock.now()
        return pending.values.filter { dueDate($0) <= now }.sorted { $0.receivedAt < $1.receivedAt }.map { ($0.room, $0.sender, $0.eventID) }
    }

    /// The sender of a waiting message was told it could not be read: it waits no more.
    public func gaveUp(on eventID: String) async throws {
        pending[eventID] = nil
        noticeRetry[eventID] = nil
        try await save([.pending(eventID: eventID): nil])
    }

    /// Telling the sender failed: tried again after `noticeRetryDelay`, not at once on every sync.
    public func noticeFailed(for eventID: String) {
        noticeRetry[eventID] = clock.now().addingTimeInterval(Self.noticeRetryDelay)
    }

    static let noticeRetryDelay: TimeInterval = 30

    /// When a waiting message is due to be given up on (or its failed notice tried again).
    func dueDate(_ waiting: PendingEvent) -> Date {
        max(waiting.receivedAt.addingTimeInterval(keyWait), noticeRetry[waiting.eventID] ?? .distantPast)
    }

    /// When the next waiting message is due to be given up on, if any.
    public func nextDeadline() -> Date? {
        pending.values.map(dueDate).min()
    }

    /// What the bot says to an encrypted message when it has no device to decrypt with.
    public static let noDeviceNotice = """
        I cannot read encrypted messages yet: my account has no device for end-to-end encryption. \
        Please write to me in a room without encryption, and ask your SkillRelay admin to give me an access token made by logging in.
        """

    /// What the bot says when it could not read a message.
    public static let unreadableNotice = """
        I could not read your last message: it is end-to-end encrypted, and your app has not shared its key with me. \
        Please send it again. If this keeps happening, check that your app does not block unverified devices, \
        or start a new direct chat with me.
        """
}
