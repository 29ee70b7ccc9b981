import Crypto
import Foundation

/// A device's Olm identity: Curve25519 and Ed25519 identity keys and its one-time keys.
public struct OlmAccount: Codable, Sendable {
    /// As libolm: generating beyond this many one-time keys drops the oldest.
    public static let maxOneTimeKeys = 100

    private struct OneTimeKey: Codable, Sendable {
        var id: UInt32
        var privateKey: Data
        var publicKey: Data
        var published: Bool
    }

    private var curve25519PrivateKey: Data
    private var ed25519PrivateKey: Data
    /// Newest first, as libolm keeps them.
    private var oneTimeKeys: [OneTimeKey] = []
    private var lastOneTimeKeyID: UInt32 = 0

    /// Fresh random Curve25519 and Ed25519 identity keys.
    public init() {
        curve25519PrivateKey = Curve25519.KeyAgreement.PrivateKey().rawRepresentation
        ed25519PrivateKey = Curve25519.Signing.PrivateKey().rawRepresentation
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        curve25519PrivateKey = try container.decodeBytes(.curve25519PrivateKey, count: 32)
        ed25519PrivateKey = try container.decodeBytes(.ed25519PrivateKey, count: 32)
        oneTimeKeys = try container.decode([OneTimeKey].self, forKey: .oneTimeKeys)
        lastOneTimeKeyID = try container.decode(UInt32.self, forKey: .lastOneTimeKeyID)
    }

    /// Fixed keys, for tests: 32-byte private keys (the Ed25519 one a seed); one-time keys get ids 1, 2, … in order.
    init(curve25519Private: [UInt8], ed25519Private: [UInt8], oneTimePrivate: [[UInt8]] = []) throws {
        curve25519PrivateKey = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: curve25519Private).rawRepresentation
        ed25519PrivateKey = try Curve25519.Signing.PrivateKey(rawRepresentation: ed25519Private).rawRepresentation
        for privateKey in oneTimePrivate {
            addOneTimeKey(try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: privateKey))
        }
    }

    /// The public identity key for Olm, base64 unpadded.
    public var curve25519Key: String {
        Base64Unpadded.encode(Self.curve25519Public(curve25519PrivateKey))
    }

    /// The public signing key, base64 unpadded.
    public var ed25519Key: String {
        // The stored seed was valid when stored.
        Base64Unpadded.encode(try! Curve25519.Signing.PrivateKey(rawRepresentation: ed25519PrivateKey).publicKey.rawRepresentation)
    }

    /// Ed25519 signature (base64 unpadded) of the UTF-8 bytes of `message`.
    public func sign(_ message: String) -> String {
        let key = try! Curve25519.Signing.PrivateKey(rawRepresentation: ed25519PrivateKey)
        return Base64Unpadded.encode(try! key.signature(for: Data(message.utf8)))
    }

    /// Key id → public Curve25519 key (base64 unpadded) of the one-time keys not yet published.
    /// Key ids are libolm's: base64 unpadded of a 32-bit big-endian counter ("AAAAAQ").
    public var unpublishedOneTimeKeys: [String: String] {
        var keys: [String: String] = [:]
        for key in oneTimeKeys where !key.published {
            keys[Self.keyID(key.id)] = Base64Unpadded.encode(key.publicKey)
        }
        return keys
    }

    /// Private one-time keys held, published or not.
    public var oneTimeKeyCount: Int { oneTimeKeys.count }

    public mutating func generateOneTimeKeys(count: Int) {
        for _ in 0..<max(count, 0) { addOneTimeKey(Curve25519.KeyAgreement.PrivateKey()) }
    }

    public mutating func markKeysAsPublished() {
        for position in oneTimeKeys.indices { oneTimeKeys[position].published = true }
    }

    /// An Olm session to another device, from its identity key and a one-time key it published (claimed via /keys/claim).
    public func createOutboundSession(theirIdentityKey: String, theirOneTimeKey: String) throws -> OlmSession {
        let identityKey = try Base64Unpadded.decodeKey(theirIdentityKey)
        let oneTimeKey = try Base64Unpadded.decodeKey(theirOneTimeKey)
        let baseKey = Curve25519.KeyAgreement.PrivateKey()
        let secret =
            try OlmCrypto.sharedSecret(curve25519PrivateKey, oneTimeKey) + OlmCrypto.sharedSecret(baseKey.rawRepresentation, identityKey)
            + OlmCrypto.sharedSecret(baseKey.rawRepresentation, oneTimeKey)
        let ratchet = OlmRatchet(aliceSharedSecret: secret, ratchetKey: Curve25519.KeyAgreement.PrivateKey())
        return OlmSession(
            aliceIdentityKey: Self.curve25519Public(curve25519PrivateKey), aliceBaseKey: Array(baseKey.publicKey.rawRepresentation),
            bobOneTimeKey: oneTimeKey, ratchet: ratchet, receivedMessage: false)
    }

    /// The session a pre-key message (type 0) starts: removes the one-time key it used from the account, and decrypts the message.
    /// Throws, with the account unchanged, if the one-time key is not ours or already used, or the MAC fails.
    public mutating func createInboundSession(theirIdentityKey: String, preKeyMessage body: String) throws -> (
        session: OlmSession, plaintext: String
    ) {
        let message = try OlmPreKeyMessage(base64: body)
        guard Base64Unpadded.decode(theirIdentityKey) == Data(message.identityKey) else { throw OlmError.identityKeyMismatch }
        let inner = try OlmRatchetMessage(decoding: message.message)
        guard let position = oneTimeKeys.firstIndex(where: { $0.publicKey == Data(message.oneTimeKey) }) else {
            throw OlmError.unknownOneTimeKey
        }
        let oneTimeKey = oneTimeKeys[position].privateKey
        let secret =
            try OlmCrypto.sharedSecret(oneTimeKey, message.identityKey) + OlmCrypto.sharedSecret(curve25519PrivateKey, message.baseKey)
            + OlmCrypto.sharedSecret(oneTimeKey, message.baseKey)
        var session = OlmSession(
            aliceIdentityKey: message.identityKey, aliceBaseKey: message.baseKey, bobOneTimeKey: message.oneTimeKey,
            ratchet: OlmRatchet(bobSharedSecret: secret, theirRatchetKey: inner.ratchetKey), receivedMessage: false)
        let plaintext = try session.decrypt(OlmMessage(type: 0, body: body))
        oneTimeKeys.remove(at: position)
        return (session, plaintext)
    }

    private mutating func addOneTimeKey(_ key: Curve25519.KeyAgreement.PrivateKey) {
        lastOneTimeKeyID &+= 1
        let oneTimeKey = OneTimeKey(
            id: lastOneTimeKeyID, privateKey: key.rawRepresentation, publicKey: key.publicKey.rawRepresentation, published: false)
        oneTimeKeys.insert(oneTimeKey, at: 0)
        if oneTimeKeys.count > Self.maxOneTimeKeys { oneTimeKeys.removeLast() }
    }

    private static func keyID(_ id: UInt32) -> String {
        Base64Unpadded.encode([UInt8(id >> 24), UInt8((id >> 16) & 0xFF), UInt8((id >> 8) & 0xFF), UInt8(id & 0xFF)])
    }

    private static func curve25519Public(_ privateKey: Data) -> [UInt8] {
        // The stored private key was valid when stored.
        Array(try! Curve25519.KeyAgreement.PrivateKey(rawRepresentation: privateKey).publicKey.rawRepresentation)
    }
}
