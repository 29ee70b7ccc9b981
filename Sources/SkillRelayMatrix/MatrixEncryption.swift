import Foundation
import Logging
import SkillRelayDomain
import SkillRelayOlm

/// The bot's end-to-end encryption, as the client-server spec's module describes it: one device with Curve25519 and
/// Ed25519 identity keys and one-time keys (uploaded, and topped up as people use them), Olm sessions with people's
/// devices for room keys, Megolm sessions for room messages (received ones to read with; one outbound per room, shared
/// with every device of every member and rotated on a member's departure, after a number of messages or a time).
///
/// Everything it keeps goes to the database sealed with the pickle key (`MatrixKeySeal`), written before it is used:
/// an outbound session's next index before the message it encrypts, an Olm session before the message it sent, so a
/// `kill -9` never reuses a key. One actor holds it all, so that two messages to a room never race to share a session.
public actor MatrixEncryption {
    static let olm = "m.olm.v1.curve25519-aes-sha2"
    public static let megolm = "m.megolm.v1.aes-sha2"

    let client: MatrixClient
    let store: any IMKeyStore
    let seal: MatrixKeySeal
    let clock: any WallClock
    let logger: Logger
    /// How long a message that cannot be read waits for its key before the sender is told.
    public nonisolated let keyWait: TimeInterval

    /// The bot's device; set by `start`.
    var device: DeviceAccount?
    /// The bot cannot encrypt at all (its access token has no device): it writes in clear, and says it cannot read.
    public private(set) var isUnavailable = false
    /// Olm sessions by the other device's Curve25519 key, most recently used first.
    var olmSessions: [String: [StoredOlmSession]] = [:]
    /// Megolm sessions to read with, by room and session id.
    var inboundSessions: [String: StoredInboundSession] = [:]
    /// The session the bot writes to each room with.
    var outboundSessions: [String: StoredOutboundSession] = [:]
    /// People's devices as last asked for; users whose devices changed since are left out, and asked for again.
    var devices: [String: [StoredDevice]] = [:]
    /// Each room's encryption (`nil`: known not to be encrypted).
    var roomEncryption: [String: RoomEncryption?] = [:]
    /// Who is in each room or invited to it, as last asked for.
    var members: [String: [String]] = [:]
    /// Messages waiting for their room key, by event id.
    var pending: [String: PendingEvent] = [:]
    var pendingLoaded = false
    /// Waiting messages whose sender could not be told: when to try again.
    var noticeRetry: [String: Date] = [:]
    /// When a new Olm session was last made to a device whose messages could not be read (spec: at most once an hour).
    var lastUnwedged: [String: Date] = [:]
    /// Rooms whose outbound session is being worked on (one message at a time per room).
    var busyRooms: [String: [CheckedContinuation<Void, Never>]] = [:]

    public init(
        client: MatrixClient, store: any IMKeyStore, seal: MatrixKeySeal, logger: Logger, clock: any WallClock = SystemWallClock(),
        keyWait: TimeInterval = 20
    ) {
        self.client = client
        self.store = store
        self.seal = seal
        self.logger = logger
        self.clock = clock
        self.keyWait = keyWait
    }

    /// The bot's device id and keys, once started.
    public var identity: (deviceID: String, curve25519: String, ed25519: String)? {
        device.map { ($0.deviceID, $0.account.curve25519Key, $0.account.ed25519Key) }
    }

    // MARK: - Start

    /// Without a device there is no end-to-end encryption: from now on the bot writes in clear, even into encrypted
    /// rooms (clients show such messages, marked as not encrypted), and answers an encrypted message with
    /// `noDeviceNotice`.
    public func becomeUnavailable() {
        isUnavailable = true
    }

    /// Opens every device account stored, without the network: a wrong pickle key is found at start, not later.
    public func checkStoredKeys() async throws {
        let namespace = Place.account(userID: "", deviceID: "").namespace
        for (key, sealed) in try await store.sealedValues(namespace: namespace) {
            _ = try seal.open(DeviceAccount.self, from: sealed, at: "\(namespace)/\(key)")
        }
    }

    /// Opens the bot's device (made the first time: keys made, sealed and stored, then uploaded), and tops up its
    /// one-time keys. Throws `MatrixKeySeal.CannotOpen` when the stored keys do not open with this pickle key.
    public func start(userID: String, deviceID: String) async throws {
        let place = Place.account(userID: userID, deviceID: deviceID)
        var current: DeviceAccount
        if let sealed = try await store.sealedValue(namespace: place.namespace, key: place.key) {
            current = try seal.open(DeviceAccount.self, from: sealed, at: place.description)
        } else {
            current = DeviceAccount(userID: userID, deviceID: deviceID, account: OlmAccount(), uploaded: false)
            try await save([place: current])
            logger.notice(
                "made the bot's end-to-end encryption device keys", metadata: ["skillrelay.device": "\(deviceID)", "skillrelay.im_id": "\(userID)"])
        }
        device = current
        if !current.uploaded {
            _ = try await client.uploadKeys(.object(["device_keys": deviceKeys(current)]))
            current.uploaded = true
            device = current
            try await save([place: current])
        }
        let counts = try await client.uploadKeys(.object([:]))
        try await topUpOneTimeKeys(published: counts["signed_curve25519"] ?? 0)
        try await loadPendingSessions()
    }

    /// The device's signed keys, as `/keys/upload` takes them.
    func deviceKeys(_ device: DeviceAccount) -> JSONValue {
        let id = device.deviceID
        var keys: [String: JSONValue] = [
            "user_id": .string(device.userID), "device_id": .string(id),
            "algorithms": .array([.string(Self.olm), .string(Self.megolm)]),
            "keys": .object(["curve25519:\(id)": .string(device.account.curve25519Key), "ed25519:\(id)": .string(device.account.ed25519Key)]),
        ]
        keys["signatures"] = signatures(of: keys, by: device)
        return .object(keys)
    }

    func signatures(of object: [String: JSONValue], by device: DeviceAccount) -> JSONValue {
        let signature = device.account.sign(SignedJSON.signingInput(object))
        return .object([device.userID: .object(["ed25519:\(device.deviceID)": .string(signature)])])
    }

    /// Keeps half of what the account can hold on the server: made and sealed first, then uploaded, then marked
    /// published, so a crash between any two steps loses no private key.
    public func topUpOneTimeKeys(published: Int) async throws {
        guard var current = device else { return }
        let target = OlmAccount.maxOneTimeKeys / 2
        guard published < target else { return }
        current.account.generateOneTimeKeys(count: target - published)
        let place = Place.account(userID: current.userID, deviceID: current.deviceID)
        try await save([place: current])
        var keys: [String: JSONValue] = [:]
        for (id, key) in current.account.unpublishedOneTimeKeys {
            var signed: [String: JSONValue] = ["key": .string(key)]
            signed["signatures"] = signatures(of: signed, by: current)
            keys["signed_curve25519:\(id)"] = .object(signed)
        }
        _ = try await client.uploadKeys(.object(["one_time_keys": .object(keys)]))
        current.account.markKeysAsPublished()
        device = current
        try await save([place: current])
        logger.debug("uploaded one-time keys", metadata: ["skillrelay.count": "\(keys.count)"])
    }

    // MARK: - Storage

    /// Where a value lives in the key store.
    enum Place: Hashable, CustomStringConvertible {
        case account(userID: String, deviceID: String)
        case olm(curve25519: String, sessionID: String)
        case inbound(room: String, sessionID: String)
        case outbound(room: String)
        case devices(userID: String)
        case room(String)
        case pending(eventID: String)
        case messageIndex(sessionID: String, index: UInt32)

        var namespace: String {
            switch self {
            case .account: "matrix.account"
            case .olm(let curve25519, _): "matrix.olm.\(curve25519)"
            case .inbound(let room, _): "matrix.megolm.in.\(room)"
            case .outbound: "matrix.megolm.out"
            case .devices: "matrix.devices"
            case .room: "matrix.rooms"
            case .pending: "matrix.pending"
            case .messageIndex(let sessionID, _): "matrix.megolm.index.\(sessionID)"
            }
        }

        var key: String {
            switch self {
            case .account(let userID, let deviceID): "\(userID)|\(deviceID)"
            case .olm(_, let sessionID): sessionID
            case .inbound(_, let sessionID): sessionID
            case .outbound(let room): room
            case .devices(let userID): userID
            case .room(let room): room
            case .pending(let eventID): eventID
            case .messageIndex(_, let index): String(index)
            }
        }

        var description: String { "\(namespace)/\(key)" }
    }

    /// Seals and writes values in one transaction (a `nil` deletes).
    func save(_ values: [Place: (any Encodable & Sendable)?]) async throws {
        var changes: [IMKeyChange] = []
        for (place, value) in values {
            changes.append(IMKeyChange(namespace: place.namespace, key: place.key, value: try value.map { try seal.seal($0, at: place.description) }))
        }
        try await store.setSealedValues(changes)
    }

    func load<Value: Decodable>(_ type: Value.Type, at place: Place) async throws -> Value? {
        guard let sealed = try await store.sealedValue(namespace: place.namespace, key: place.key) else { return nil }
        return try seal.open(type, from: sealed, at: place.description)
    }

    func loadAll<Value: Decodable>(_ type: Value.Type, namespace: String, place: (String) -> Place) async throws -> [String: Value] {
        var result: [String: Value] = [:]
        for (key, sealed) in try await store.sealedValues(namespace: namespace) {
            result[key] = try seal.open(type, from: sealed, at: place(key).description)
        }
        return result
    }

    /// One room at a time: the next caller for a room waits until the one before is done with it.
    func lock(_ room: String) async {
        if busyRooms[room] == nil {
            busyRooms[room] = []
            return
        }
        await withCheckedContinuation { continuation in busyRooms[room, default: []].append(continuation) }
    }

    func unlock(_ room: String) {
        guard var waiting = busyRooms[room], !waiting.isEmpty else {
            busyRooms[room] = nil
            return
        }
        let next = waiting.removeFirst()
        busyRooms[room] = waiting
        next.resume()
    }
}

// MARK: - What is stored

/// The bot's device: its account (identity and one-time keys) and whether its device keys were uploaded.
struct DeviceAccount: Codable, Sendable {
    var userID: String
    var deviceID: String
    var account: OlmAccount
    var uploaded: Bool
}

struct StoredOlmSession: Codable, Sendable {
    var session: OlmSession
    var lastUsed: Date
}

/// A Megolm session to read a room's messages with, and who sent it: only that user's messages decrypt with it.
struct StoredInboundSession: Codable, Sendable {
    var session: MegolmInboundSession
    var room: String
    var sender: String
    var senderKey: String
}

/// The bot's session for a room, whom it was shared with (`user|device|curve25519`), and who was in the room.
struct StoredOutboundSession: Codable, Sendable {
    var session: MegolmOutboundSession
    var createdAt: Date
    var messages: Int
    var sharedWith: Set<String>
    var members: Set<String>
}

/// One of a person's devices, with the keys it signed; an Ed25519 key, once seen, is kept (a change is refused).
struct StoredDevice: Codable, Sendable, Equatable {
    var userID: String
    var deviceID: String
    var curve25519: String
    var ed25519: String

    var shareID: String { "\(userID)|\(deviceID)|\(curve25519)" }
}

/// A room's `m.room.encryption`: when its sessions are rotated.
struct RoomEncryption: Codable, Sendable, Equatable {
    var rotationMilliseconds: Int64 = 604_800_000
    var rotationMessages: Int64 = 100

    init(content: JSONValue?) {
        if let value = content?["rotation_period_ms"]?.integerValue, value > 0 { rotationMilliseconds = value }
        if let value = content?["rotation_period_msgs"]?.integerValue, value > 0 { rotationMessages = value }
    }
}

/// A message that could not be read yet: kept until its key arrives, or the sender is told.
struct PendingEvent: Codable, Sendable {
    var room: String
    var eventID: String
    var sender: String
    var originServerTS: Int64?
    var content: JSONValue
    var receivedAt: Date
    var sessionID: String?
    var requestID: String
}
