import Foundation

/// Unpadded standard base64, as Matrix uses; decoding also accepts padded input.
public enum Base64Unpadded {
    /// The unpadded base64 text of `bytes`.
    public static func encode<Bytes: DataProtocol>(_ bytes: Bytes) -> String {
        var text = Data(bytes).base64EncodedString()
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }

    /// The bytes of unpadded (or padded) base64 text, or nil if it is not base64.
    public static func decode(_ text: String) -> Data? {
        var padded = text
        if padded.hasSuffix("=") {
            guard padded.utf8.count % 4 == 0 else { return nil }
        } else {
            switch padded.utf8.count % 4 {
            case 0: break
            case 2: padded += "=="
            case 3: padded += "="
            default: return nil
            }
        }
        return Data(base64Encoded: padded)
    }

    /// The decoded bytes of `text`, which must be exactly `count` bytes long.
    static func decodeKey(_ text: String, count: Int = 32) throws(OlmError) -> [UInt8] {
        guard let data = decode(text), data.count == count else { throw .badKey }
        return Array(data)
    }
}
