import Crypto
import Foundation

/// The receiving side of a Megolm room session, from an m.room_key or a forwarded / exported key.
public struct MegolmInboundSession: Codable, Sendable {
    /// The ratchet at the first index this session can decrypt; never advanced in place.
    private var initialRatchet: MegolmRatchet
    private var signingKey: Data

    /// From the `session_key` of an m.room_key event (version 2); the signature is verified.
    public init(sessionKey: String) throws {
        let key = try MegolmSessionKey(base64: sessionKey, version: 0x02)
        initialRatchet = key.ratchet
        signingKey = Data(key.signingKey)
    }

    /// From an m.forwarded_room_key or a key export (version 1, no signature).
    public init(exportedKey: String) throws {
        let key = try MegolmSessionKey(base64: exportedKey, version: 0x01)
        initialRatchet = key.ratchet
        signingKey = Data(key.signingKey)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        initialRatchet = try container.decode(MegolmRatchet.self, forKey: .initialRatchet)
        signingKey = try container.decodeBytes(.signingKey, count: 32)
    }

    /// The Ed25519 public key of the sender's session, base64 unpadded.
    public var sessionID: String { Base64Unpadded.encode(signingKey) }

    public var firstKnownIndex: UInt32 { initialRatchet.counter }

    /// Verifies the signature and the MAC and decrypts, leaving the stored ratchet at its first known index.
    public func decrypt(_ ciphertext: String) throws -> (plaintext: String, messageIndex: UInt32) {
        guard let bytes = Base64Unpadded.decode(ciphertext) else { throw OlmError.badBase64 }
        let message = try MegolmMessage(decoding: Array(bytes))
        guard let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: signingKey),
            publicKey.isValidSignature(message.signature, for: message.signed)
        else { throw OlmError.badSignature }
        let ratchet = try ratchet(at: message.messageIndex)
        let plaintext = try AESSHA256Cipher.megolm.decrypt(
            message.ciphertext, authenticated: message.authenticated, mac: message.mac, messageKey: Array(ratchet.data))
        guard let text = String(validating: plaintext, as: UTF8.self) else { throw OlmError.badPlaintext }
        return (text, message.messageIndex)
    }

    /// The key at `index` in the version 1 export format, for forwarding.
    public func export(at index: UInt32) throws -> String {
        let ratchet = try ratchet(at: index)
        return Base64Unpadded.encode([0x01] + MegolmSessionKey.bigEndian(index) + Array(ratchet.data) + Array(signingKey))
    }

    private func ratchet(at index: UInt32) throws(OlmError) -> MegolmRatchet {
        // As libolm: indices are modulo 2³², and one more than 2³¹ ahead of the first known index counts as before it.
        guard index &- initialRatchet.counter < 1 << 31 else { throw .unknownMessageIndex }
        var ratchet = initialRatchet
        ratchet.advance(to: index)
        return ratchet
    }
}

/// A parsed session key (version 2: signed) or export (version 1).
struct MegolmSessionKey {
    var ratchet: MegolmRatchet
    var signingKey: [UInt8]

    init(base64 text: String, version: UInt8) throws(OlmError) {
        guard let data = Base64Unpadded.decode(text) else { throw .badBase64 }
        let bytes = Array(data)
        let unsignedLength = 1 + 4 + MegolmRatchet.length + 32
        let expectedLength = version == 0x02 ? unsignedLength + 64 : unsignedLength
        guard bytes.count == expectedLength, bytes[0] == version else { throw .badSessionKey }
        let counter = bytes[1..<5].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        signingKey = Array(bytes[(5 + MegolmRatchet.length)..<unsignedLength])
        if version == 0x02 {
            guard let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: signingKey),
                publicKey.isValidSignature(bytes[unsignedLength...], for: bytes[..<unsignedLength])
            else { throw .badSignature }
        }
        ratchet = MegolmRatchet(data: Array(bytes[5..<(5 + MegolmRatchet.length)]), counter: counter)
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }
}
