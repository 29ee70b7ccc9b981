/// Why an Olm or Megolm operation was refused. Every parser and decryptor reports failures through these cases.
public enum OlmError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Text that should be base64 is not.
    case badBase64
    /// A public key is not 32 bytes of base64.
    case badKey
    /// An Olm message type other than 0 (pre-key) or 1 (normal).
    case badMessageType
    /// A message whose version byte is not 3.
    case badMessageVersion
    /// A message that is truncated, oversized or misses a required field.
    case badMessageFormat
    /// The message's MAC does not match: tampered, or not for this session.
    case badMAC
    /// An Ed25519 signature does not verify.
    case badSignature
    /// A Megolm session key or export that cannot be parsed.
    case badSessionKey
    /// The decrypted bytes are not UTF-8.
    case badPlaintext
    /// A Megolm message older than the session's first known index.
    case unknownMessageIndex
    /// A pre-key message for a one-time key this account does not hold (never ours, or already used).
    case unknownOneTimeKey
    /// An Olm message whose key was already used or dropped: a replay, or too old.
    case unknownMessageKey
    /// An Olm message too far ahead of its chain (libolm's limit: 2000 messages).
    case chainGapTooLarge
    /// A pre-key message from another identity key than the one given.
    case identityKeyMismatch

    public var description: String {
        switch self {
        case .badBase64: "invalid base64"
        case .badKey: "invalid public key"
        case .badMessageType: "unknown Olm message type"
        case .badMessageVersion: "unsupported message version"
        case .badMessageFormat: "malformed message"
        case .badMAC: "message authentication failed"
        case .badSignature: "invalid signature"
        case .badSessionKey: "invalid Megolm session key"
        case .badPlaintext: "decrypted message is not UTF-8"
        case .unknownMessageIndex: "message index is before the session's first known index"
        case .unknownOneTimeKey: "unknown or already used one-time key"
        case .unknownMessageKey: "message key already used or dropped"
        case .chainGapTooLarge: "message is too far ahead of its chain"
        case .identityKeyMismatch: "pre-key message is from another identity key"
        }
    }
}
