import Crypto
import Foundation
import _CryptoExtras

/// The primitives Olm and Megolm are built from, as libolm uses them.
enum OlmCrypto {
    static func hmac(key: some ContiguousBytes, _ data: some DataProtocol) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: data, using: SymmetricKey(data: key)))
    }

    static func hkdf(_ inputKeyMaterial: [UInt8], salt: [UInt8], info: String, count: Int) -> [UInt8] {
        let key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: inputKeyMaterial), salt: salt, info: Array(info.utf8), outputByteCount: count)
        return key.withUnsafeBytes { Array($0) }
    }

    static func sha256(_ data: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: data))
    }

    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// X25519 of our private key with their public key.
    static func sharedSecret(_ privateKey: some ContiguousBytes, _ publicKey: [UInt8]) throws(OlmError) -> [UInt8] {
        do {
            let ours = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: privateKey)
            let theirs = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: publicKey)
            return try ours.sharedSecretFromKeyAgreement(with: theirs).withUnsafeBytes { Array($0) }
        } catch {
            throw .badKey
        }
    }

    /// MAC comparison in time independent of where the bytes differ.
    static func constantTimeEqual(_ lhs: some Collection<UInt8>, _ rhs: some Collection<UInt8>) -> Bool {
        guard lhs.count == rhs.count else { return false }
        var difference: UInt8 = 0
        for (left, right) in zip(lhs, rhs) { difference |= left ^ right }
        return difference == 0
    }
}

/// libolm's `cipher_aes_sha_256`: keys from HKDF of the message key, AES-256-CBC with PKCS#7, an 8-byte truncated HMAC-SHA256.
struct AESSHA256Cipher {
    static let macLength = 8
    static let olm = AESSHA256Cipher(info: "OLM_KEYS")
    static let megolm = AESSHA256Cipher(info: "MEGOLM_KEYS")

    var info: String

    private struct Keys {
        var aes: SymmetricKey
        var mac: [UInt8]
        var iv: [UInt8]
    }

    private func keys(_ messageKey: [UInt8]) -> Keys {
        let derived = OlmCrypto.hkdf(messageKey, salt: [], info: info, count: 80)
        return Keys(aes: SymmetricKey(data: derived[0..<32]), mac: Array(derived[32..<64]), iv: Array(derived[64..<80]))
    }

    func encrypt(_ plaintext: [UInt8], messageKey: [UInt8]) -> [UInt8] {
        let keys = keys(messageKey)
        // Only fails for a wrong key or IV size, which the fixed split above rules out.
        let iv = try! AES._CBC.IV(ivBytes: keys.iv)
        return Array(try! AES._CBC.encrypt(plaintext, using: keys.aes, iv: iv))
    }

    /// The 8-byte MAC over `authenticated` (the encoded message up to the MAC).
    func mac(_ authenticated: some DataProtocol, messageKey: [UInt8]) -> [UInt8] {
        Array(OlmCrypto.hmac(key: keys(messageKey).mac, authenticated).prefix(Self.macLength))
    }

    /// Checks the MAC, then decrypts.
    func decrypt(_ ciphertext: [UInt8], authenticated: [UInt8], mac: [UInt8], messageKey: [UInt8]) throws(OlmError) -> [UInt8] {
        let keys = keys(messageKey)
        let expected = OlmCrypto.hmac(key: keys.mac, authenticated).prefix(Self.macLength)
        guard OlmCrypto.constantTimeEqual(expected, mac) else { throw .badMAC }
        do {
            let iv = try AES._CBC.IV(ivBytes: keys.iv)
            return Array(try AES._CBC.decrypt(ciphertext, using: keys.aes, iv: iv))
        } catch {
            throw .badMessageFormat
        }
    }
}

extension KeyedDecodingContainer {
    /// Bytes of a pickle that must have a fixed length, so that a corrupted pickle fails to decode instead of trapping later.
    func decodeBytes(_ key: Key, count: Int) throws -> Data {
        let data = try decode(Data.self, forKey: key)
        guard data.count == count else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "expected \(count) bytes, found \(data.count)")
        }
        return data
    }
}
