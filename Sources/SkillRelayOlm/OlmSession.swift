import Crypto
import Foundation

/// An Olm session with one other device: the double ratchet plus what pre-key messages need.
public struct OlmSession: Codable, Sendable {
    private var aliceIdentityKey: Data
    private var aliceBaseKey: Data
    private var bobOneTimeKey: Data
    private var ratchet: OlmRatchet
    /// Until a message from the other side arrives, ours are pre-key messages (libolm's `received_message`).
    private var receivedMessage: Bool

    init(aliceIdentityKey: [UInt8], aliceBaseKey: [UInt8], bobOneTimeKey: [UInt8], ratchet: OlmRatchet, receivedMessage: Bool) {
        self.aliceIdentityKey = Data(aliceIdentityKey)
        self.aliceBaseKey = Data(aliceBaseKey)
        self.bobOneTimeKey = Data(bobOneTimeKey)
        self.ratchet = ratchet
        self.receivedMessage = receivedMessage
    }

    /// As libolm: base64 unpadded SHA-256 of Alice's identity key ‖ Alice's base key ‖ Bob's one-time key.
    public var sessionID: String {
        Base64Unpadded.encode(OlmCrypto.sha256(Array(aliceIdentityKey + aliceBaseKey + bobOneTimeKey)))
    }

    /// Whether a pre-key message belongs to this session (same one-time key, base key and identity key).
    public func matches(preKeyMessage body: String, theirIdentityKey: String) -> Bool {
        guard let message = try? OlmPreKeyMessage(base64: body),
            let identityKey = Base64Unpadded.decode(theirIdentityKey),
            Data(message.identityKey) == identityKey
        else { return false }
        return Data(message.oneTimeKey) == bobOneTimeKey && Data(message.baseKey) == aliceBaseKey
            && Data(message.identityKey) == aliceIdentityKey
    }

    /// Encrypts; type 0 (pre-key) until the session has received a message from the other side, as libolm.
    public mutating func encrypt(_ plaintext: String) throws -> OlmMessage {
        try encrypt(plaintext, newRatchetKey: Curve25519.KeyAgreement.PrivateKey())
    }

    /// Encrypts with a fixed private key for a new sender chain, for tests that compare bytes with libolm.
    mutating func encrypt(_ plaintext: String, newRatchetPrivateKey: [UInt8]) throws -> OlmMessage {
        let key = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: newRatchetPrivateKey)
        return try encrypt(plaintext, newRatchetKey: key)
    }

    private mutating func encrypt(
        _ plaintext: String, newRatchetKey: @autoclosure () -> Curve25519.KeyAgreement.PrivateKey
    ) throws -> OlmMessage {
        let inner = try ratchet.encrypt(Array(plaintext.utf8), newRatchetKey: newRatchetKey())
        if receivedMessage {
            return OlmMessage(type: 1, body: Base64Unpadded.encode(inner))
        }
        let outer = OlmPreKeyMessage.encode(
            oneTimeKey: Array(bobOneTimeKey), baseKey: Array(aliceBaseKey), identityKey: Array(aliceIdentityKey), message: inner)
        return OlmMessage(type: 0, body: Base64Unpadded.encode(outer))
    }

    /// Decrypts; on any throw the session is unchanged. Out-of-order messages use skipped message keys (libolm's limits).
    public mutating func decrypt(_ message: OlmMessage) throws -> String {
        guard let bytes = Base64Unpadded.decode(message.body) else { throw OlmError.badBase64 }
        let inner: [UInt8]
        switch message.type {
        case 0: inner = try OlmPreKeyMessage(decoding: Array(bytes)).message
        case 1: inner = Array(bytes)
        default: throw OlmError.badMessageType
        }
        var ratchet = self.ratchet
        let plaintext = try ratchet.decrypt(inner)
        guard let text = String(validating: plaintext, as: UTF8.self) else { throw OlmError.badPlaintext }
        self.ratchet = ratchet
        receivedMessage = true
        return text
    }
}
