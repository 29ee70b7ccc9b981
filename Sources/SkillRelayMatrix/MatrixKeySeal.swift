import Crypto
import Foundation

/// Seals what the bot keeps of its end-to-end encryption (its device keys, Olm and Megolm sessions) before it reaches
/// the database: AES-256-GCM under a key derived from the operator's pickle key, with where the value is stored as
/// associated data, so that a value copied to another row does not open. Without the pickle key nothing opens.
public struct MatrixKeySeal: Sendable {
    // The derived key's bytes (SymmetricKey itself is not Sendable).
    private let keyBytes: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    public init(secret: String) {
        let derived = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Data(secret.utf8)), salt: Data("SkillRelay Matrix keys".utf8), info: Data("v1".utf8),
            outputByteCount: 32)
        keyBytes = derived.withUnsafeBytes { Array($0) }
    }

    /// The sealed value cannot be opened: a different pickle key, or a damaged or moved value.
    public struct CannotOpen: Error, CustomStringConvertible {
        public var place: String
        public var description: String {
            "the bot's stored encryption keys (\(place)) do not open with this pickle key: SKILLRELAY_MATRIX_PICKLE_KEY (or matrix.pickleKey) "
                + "must be the one they were sealed with"
        }
    }

    func seal<Value: Encodable>(_ value: Value, at place: String) throws -> Data {
        let sealed = try AES.GCM.seal(try JSONEncoder().encode(value), using: key, authenticating: Data(place.utf8))
        guard let combined = sealed.combined else { throw CannotOpen(place: place) }
        return combined
    }

    func open<Value: Decodable>(_ type: Value.Type, from data: Data, at place: String) throws -> Value {
        let plain: Data
        do {
            plain = try AES.GCM.open(try AES.GCM.SealedBox(combined: data), using: key, authenticating: Data(place.utf8))
        } catch {
            throw CannotOpen(place: place)
        }
        return try JSONDecoder().decode(type, from: plain)
    }
}

// The key must never reach a log.
extension MatrixKeySeal: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "MatrixKeySeal(…)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}
