import Foundation
import SkillRelayOlm

/// Writing: whether a room is encrypted, its members' devices, the bot's Megolm session for it (shared over Olm with
/// every device that does not have it yet, rotated when the spec says), and the encrypted event.
extension MatrixEncryption {
    // MARK: - Rooms

    /// Whether a room is encrypted: from what the sync saw, else from the store, else asked of the homeserver once.
    public func isEncrypted(_ room: String) async throws -> Bool {
        try await encryption(of: room) != nil
    }

    func encryption(of room: String) async throws -> RoomEncryption? {
        if let known = roomEncryption[room] { return known }
        if let stored = try await load(RoomEncryption.self, at: .room(room)) {
            roomEncryption[room] = stored
            return stored
        }
        guard let state = try await client.encryptionState(of: room), state["algorithm"]?.stringValue == Self.megolm else {
            roomEncryption[room] = .some(nil)
            return nil
        }
        return try await recordEncryption(of: room, content: state)
    }

    /// A room's `m.room.encryption` (from the sync, or the bot's own new room): encrypted from now on, for good.
    public func roomIsEncrypted(_ room: String, content: JSONValue?) async throws {
        try await recordEncryption(of: room, content: content)
    }

    @discardableResult
    func recordEncryption(of room: String, content: JSONValue?) async throws -> RoomEncryption {
        let settings = RoomEncryption(content: content)
        if roomEncryption[room] != .some(settings) {
            roomEncryption[room] = settings
            try await save([.room(room): settings])
        }
        return settings
    }

    /// Someone joined, left or was invited to a room: its members are asked for again before the next message.
    public func membershipChanged(in room: String) {
        members[room] = nil
    }

    /// People whose devices changed: asked for again before the next message to them.
    public func devicesChanged(of users: [String]) {
        for user in users { devices[user] = nil }
    }

    // MARK: - Encrypting

    /// The `m.room.encrypted` content for an event of `type` in an encrypted room: the room's session is shared with
    /// any member's device that lacks it first, and sealed at its next index before the content is returned.
    public func encrypt(type: String, content: JSONValue, in room: String) async throws -> JSONValue {
        await lock(room)
        defer { unlock(room) }
        guard let me = device else { throw NotReady() }
        let settings = try await encryption(of: room) ?? RoomEncryption(content: nil)
        let people = try await memberList(of: room)
        let targets = try await deviceList(of: people).filter { !($0.userID == me.userID && $0.deviceID == me.deviceID) }
        let now = clock.now()
        var outbound = try await outboundSession(for: room)
        if let current = outbound {
            let present = Set(targets.map(\.shareID))
            let someoneLeft = !current.members.isSubset(of: Set(people)) || !current.sharedWith.isSubset(of: present)
            let tooOld = now.timeIntervalSince(current.createdAt) * 1000 >= Double(settings.rotationMilliseconds)
            if someoneLeft || tooOld || Int64(current.messages) >= settings.rotationMessages {
                logger.debug(
                    "rotating a room's session",
                    metadata: ["skillrelay.room": "\(room)", "skillrelay.reason": "\(someoneLeft ? "departure" : "age")"])
                outbound = nil
            }
        }
        var session = outbound ?? StoredOutboundSession(session: MegolmOutboundSession(), createdAt: now, messages: 0, sharedWith: [], members: [])
        let missing = targets.filter { !session.sharedWith.contains($0.shareID) }
        if !missing.isEmpty {
            let roomKey: JSONValue = .object([
                "algorithm": .string(Self.megolm), "room_id": .string(room), "session_id": .string(session.session.sessionID),
                "session_key": .string(session.session.sessionKey),
            ])
            // Recorded as shared before the key leaves: a crash in between means a device that has it is sent it again
            // (harmless), never a session nobody can read.
            let before = session
            let reached = try await sendEncrypted(type: "m.room_key", content: roomKey, to: missing, forceNewSession: false) {
                var recorded = before
                recorded.sharedWith.formUnion($0.map(\.shareID))
                recorded.members = Set(people)
                self.outboundSessions[room] = recorded
                try await self.save([.outbound(room: room): recorded])
            }
            session.sharedWith.formUnion(reached.map(\.shareID))
        }
        session.members = Set(people)
        let payload: JSONValue = .object(["type": .string(type), "content": content, "room_id": .string(room)])
        let ciphertext = try session.session.encrypt(payload.canonical)
        session.messages += 1
        outboundSessions[room] = session
        try await save([.outbound(room: room): session])
        return .object([
            "algorithm": .string(Self.megolm), "sender_key": .string(me.account.curve25519Key), "ciphertext": .string(ciphertext),
            "session_id": .string(session.session.sessionID), "device_id": .string(me.deviceID),
        ])
    }

    /// The device has not been started (no `/whoami` yet, or its token has no device).
    public struct NotReady: Error, CustomStringConvertible {
        public var description: String { "the bot's end-to-end encryption device is not ready" }
    }

    func outboundSession(for room: String) async throws -> StoredOutboundSession? {
        if let session = outboundSessions[room] { return session }
        let loaded = try await load(StoredOutboundSession.self, at: .outbound(room: room))
        outboundSessions[room] = loaded
        return loaded
    }

    // MARK: - Olm to devices

    /// Sends one Olm-encrypted to-device message to each device, over its most recently used Olm session, or a new one
    /// made with a one-time key claimed for it (`forceNewSession`: always a new one). Sessions are sealed and stored,
    /// and `beforeSending` runs, before anything leaves. Returns the devices it was sent to; a device with no one-time
    /// key left is skipped (and tried again with the next message).
    @discardableResult
    func sendEncrypted(
        type: String, content: JSONValue, to targets: [StoredDevice], forceNewSession: Bool,
        beforeSending: (([StoredDevice]) async throws -> Void)? = nil
    ) async throws -> [StoredDevice] {
        guard let me = device else { throw NotReady() }
        var sessions: [String: StoredOlmSession] = [:]
        var needed: [StoredDevice] = []
        for target in targets {
            if !forceNewSession, let existing = try await olmSessionList(for: target.curve25519).first {
                sessions[target.shareID] = existing
            } else {
                needed.append(target)
            }
        }
        if !needed.isEmpty {
            for (target, session) in try await claimSessions(for: needed) { sessions[target.shareID] = session }
        }
        var messages: [String: [String: JSONValue]] = [:]
        var changes: [Place: (any Encodable & Sendable)?] = [:]
        var reached: [StoredDevice] = []
        let now = clock.now()
        for target in targets {
            guard var stored = sessions[target.shareID] else {
                logger.warning(
                    "a device has no one-time key left; it gets the room key with a later message",
                    metadata: ["skillrelay.im_id": "\(target.userID)", "skillrelay.device": "\(target.deviceID)"])
                continue
            }
            let payload: JSONValue = .object([
                "type": .string(type), "content": content, "sender": .string(me.userID), "sender_device": .string(me.deviceID),
                "keys": .object(["ed25519": .string(me.account.ed25519Key)]), "recipient": .string(target.userID),
                "recipient_keys": .object(["ed25519": .string(target.ed25519)]),
            ])
            let message = try stored.session.encrypt(payload.canonical)
            stored.lastUsed = now
            olmSessions[target.curve25519] =
                [stored] + (olmSessions[target.curve25519] ?? []).filter { $0.session.sessionID != stored.session.sessionID }
            changes[.olm(curve25519: target.curve25519, sessionID: stored.session.sessionID)] = stored
            messages[target.userID, default: [:]][target.deviceID] = .object([
                "algorithm": .string(Self.olm), "sender_key": .string(me.account.curve25519Key),
                "ciphertext": .object([target.curve25519: .object(["type": .integer(Int64(message.type)), "body": .string(message.body)])]),
            ])
            reached.append(target)
        }
        guard !reached.isEmpty else { return [] }
        try await save(changes)
        try await beforeSending?(reached)
        try await client.sendToDevice(type: "m.room.encrypted", messages: messages, transactionID: "skillrelay-\(UUID().uuidString)")
        return reached
    }

    /// New Olm sessions to devices, from one-time keys claimed for them (each key's signature checked against the
    /// device's Ed25519 key).
    func claimSessions(for targets: [StoredDevice]) async throws -> [(StoredDevice, StoredOlmSession)] {
        guard let me = device else { throw NotReady() }
        var wanted: [String: [String]] = [:]
        for target in targets { wanted[target.userID, default: []].append(target.deviceID) }
        let answer = try await client.claimKeys(wanted)
        var made: [(StoredDevice, StoredOlmSession)] = []
        for target in targets {
            guard case .object(let keys) = answer["one_time_keys"]?[target.userID]?[target.deviceID] ?? .null else { continue }
            for (id, value) in keys where id.hasPrefix("signed_curve25519:") {
                guard case .object(let signed) = value, let key = signed["key"]?.stringValue,
                    let signature = signed["signatures"]?[target.userID]?["ed25519:\(target.deviceID)"]?.stringValue,
                    SignedJSON.verify(signature: signature, publicKey: target.ed25519, message: SignedJSON.signingInput(signed))
                else {
                    logger.warning(
                        "a claimed one-time key's signature does not verify", metadata: ["skillrelay.im_id": "\(target.userID)"])
                    continue
                }
                let session = try me.account.createOutboundSession(theirIdentityKey: target.curve25519, theirOneTimeKey: key)
                made.append((target, StoredOlmSession(session: session, lastUsed: clock.now())))
                break
            }
        }
        return made
    }

    // MARK: - Members and devices

    func memberList(of room: String) async throws -> [String] {
        if let known = members[room] { return known }
        let list = try await client.members(of: room)
        members[room] = list
        return list
    }

    /// People's devices that signed their own keys, asked of the homeserver for anyone not known (or changed since).
    /// A device whose Ed25519 key differs from the one first seen for it is left out (spec: a device's keys never
    /// change).
    func deviceList(of users: [String]) async throws -> [StoredDevice] {
        let unknown = users.filter { devices[$0] == nil }
        if !unknown.isEmpty {
            let answer = try await client.queryKeys(of: unknown)
            var changes: [Place: (any Encodable & Sendable)?] = [:]
            for user in unknown {
                let previous = try await load([StoredDevice].self, at: .devices(userID: user)) ?? []
                var list: [StoredDevice] = []
                if case .object(let byDevice) = answer["device_keys"]?[user] ?? .null {
                    for (deviceID, keys) in byDevice {
                        guard let device = Self.verifiedDevice(keys, user: user, deviceID: deviceID) else { continue }
                        if let first = previous.first(where: { $0.deviceID == deviceID }), first.ed25519 != device.ed25519 {
                            logger.warning(
                                "a device's Ed25519 key changed; it is left out",
                                metadata: ["skillrelay.im_id": "\(user)", "skillrelay.device": "\(deviceID)"])
                            continue
                        }
                        list.append(device)
                    }
                }
                devices[user] = list
                if list != previous { changes[.devices(userID: user)] = list }
            }
            try await save(changes)
        }
        return users.flatMap { devices[$0] ?? [] }
    }

    /// A device from `/keys/query`, if it is what it says (its user and device id) and signed its keys itself.
    static func verifiedDevice(_ keys: JSONValue, user: String, deviceID: String) -> StoredDevice? {
        guard case .object(let object) = keys, object["user_id"]?.stringValue == user, object["device_id"]?.stringValue == deviceID,
            let curve = object["keys"]?["curve25519:\(deviceID)"]?.stringValue, let ed = object["keys"]?["ed25519:\(deviceID)"]?.stringValue,
            let signature = object["signatures"]?[user]?["ed25519:\(deviceID)"]?.stringValue,
            SignedJSON.verify(signature: signature, publicKey: ed, message: SignedJSON.signingInput(object))
        else { return nil }
        return StoredDevice(userID: user, deviceID: deviceID, curve25519: curve, ed25519: ed)
    }

    /// The device of `user` with this Curve25519 key, as last seen.
    func knownDevice(of user: String, curve25519: String) async throws -> StoredDevice? {
        if let found = devices[user]?.first(where: { $0.curve25519 == curve25519 }) { return found }
        devices[user] = nil
        return try await deviceList(of: [user]).first { $0.curve25519 == curve25519 }
    }
}
