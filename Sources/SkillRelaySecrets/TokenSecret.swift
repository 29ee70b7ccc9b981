import Crypto
import Foundation

/// Makes token secrets and public ids, and hashes secrets for storage: one place for both stores, so that a secret
/// hashes alike on SQLite and PostgreSQL and `db copy` moves tokens, sign-in links and sessions as they are.
public enum TokenSecret {
    /// A fresh bearer secret: `sr_` and 256 random bits in base64url.
    public static func makeSecret() -> String {
        "sr_" + base64URL(randomBytes(count: 32))
    }

    /// A fresh public id for a token: `tok_` and 64 random bits in hex.
    public static func makePublicID() -> String {
        "tok_" + randomBytes(count: 8).map { String(format: "%02x", $0) }.joined()
    }

    /// The SHA-256 of a secret, which is all the database keeps.
    public static func hash(_ secret: String) -> Data {
        Data(SHA256.hash(data: Data(secret.utf8)))
    }

    private static func randomBytes(count: Int) -> [UInt8] {
        // SystemRandomNumberGenerator reads the kernel's CSPRNG (getrandom on Linux).
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    private static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
