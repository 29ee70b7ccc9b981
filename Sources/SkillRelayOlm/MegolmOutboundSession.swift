import Crypto
import Foundation

/// The sending side of a Megolm room session: the ratchet and the Ed25519 key that signs every message.
public struct MegolmOutboundSession: Codable, Sendable {
    private var ratchet: MegolmRatchet
    private var signingKey: Data

    /// A fresh session at index 0 with random ratchet parts and signing key.
    public init() {
        ratchet = MegolmRatchet(data: OlmCrypto.randomBytes(MegolmRatchet.length), counter: 0)
        signingKey = Curve25519.Signing.PrivateKey().rawRepresentation
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        ratchet = try container.decode(MegolmRatchet.self, forKey: .ratchet)
        signingKey = try container.decodeBytes(.signingKey, count: 32)
    }

    /// Fixed ratchet and signing key, for tests.
    init(ratchetData: [UInt8], counter: UInt32, signingSeed: [UInt8]) throws {
        guard ratchetData.count == MegolmRatchet.length else { throw OlmError.badSessionKey }
        ratchet = MegolmRatchet(data: ratchetData, counter: counter)
        signingKey = try Curve25519.Signing.PrivateKey(rawRepresentation: signingSeed).rawRepresentation
    }

    private var privateKey: Curve25519.Signing.PrivateKey {
        // The stored seed was valid when stored.
        try! Curve25519.Signing.PrivateKey(rawRepresentation: signingKey)
    }

    /// The Ed25519 public key, base64 unpadded.
    public var sessionID: String { Base64Unpadded.encode(privateKey.publicKey.rawRepresentation) }

    /// The index the next message will have.
    public var messageIndex: UInt32 { ratchet.counter }

    /// The `session_key` of an m.room_key event at the current index (version 2, signed), base64 unpadded.
    public var sessionKey: String {
        var bytes: [UInt8] = [0x02]
        bytes += MegolmSessionKey.bigEndian(ratchet.counter)
        bytes += ratchet.data
        bytes += privateKey.publicKey.rawRepresentation
        bytes += try! privateKey.signature(for: bytes)
        return Base64Unpadded.encode(bytes)
    }

    /// Encrypts into a base64 unpadded Megolm message and advances the index.
    public mutating func encrypt(_ plaintext: String) throws -> String {
        let messageKey = Array(ratchet.data)
        let ciphertext = AESSHA256Cipher.megolm.encrypt(Array(plaintext.utf8), messageKey: messageKey)
        var message = MegolmMessage.encode(messageIndex: ratchet.counter, ciphertext: ciphertext)
        message += AESSHA256Cipher.megolm.mac(message, messageKey: messageKey)
        message += try privateKey.signature(for: message)
        ratchet.advance()
        return Base64Unpadded.encode(message)
    }
}
