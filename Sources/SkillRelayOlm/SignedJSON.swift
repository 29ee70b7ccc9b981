import Crypto
import Foundation

/// Matrix's signed JSON: what a signature covers, and checking one.
public enum SignedJSON {
    /// The bytes a Matrix signature covers: the canonical JSON of `object` without `signatures` and `unsigned`.
    public static func signingInput(_ object: [String: JSONValue]) -> String {
        var stripped = object
        stripped["signatures"] = nil
        stripped["unsigned"] = nil
        return JSONValue.object(stripped).canonical
    }

    /// Verifies an Ed25519 signature (base64 unpadded) by `publicKey` (base64 unpadded) over `message`'s UTF-8.
    public static func verify(signature: String, publicKey: String, message: String) -> Bool {
        guard let signatureBytes = Base64Unpadded.decode(signature), signatureBytes.count == 64,
            let keyBytes = Base64Unpadded.decode(publicKey),
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: keyBytes)
        else { return false }
        return key.isValidSignature(signatureBytes, for: Data(message.utf8))
    }
}
