/// The protobuf-like encoding of Olm and Megolm messages (libolm's message.cpp).
enum OlmWire {
    static let version: UInt8 = 3

    /// A field's value: a varint (wire type 0) or length-delimited bytes (wire type 2).
    enum Field {
        case varint(UInt64)
        case bytes([UInt8])
    }

    static func appendVarint(_ value: UInt64, to output: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            output.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        output.append(UInt8(rest))
    }

    static func appendBytes(tag: UInt8, _ bytes: [UInt8], to output: inout [UInt8]) {
        output.append(tag)
        appendVarint(UInt64(bytes.count), to: &output)
        output += bytes
    }

    static func appendVarint(tag: UInt8, _ value: UInt64, to output: inout [UInt8]) {
        output.append(tag)
        appendVarint(value, to: &output)
    }

    private static func readVarint(_ bytes: ArraySlice<UInt8>, at position: inout Int) throws(OlmError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < bytes.endIndex, shift < 64 else { throw .badMessageFormat }
            let byte = bytes[position]
            position += 1
            let bits = UInt64(byte & 0x7F)
            guard shift < 63 || bits <= 1 else { throw .badMessageFormat }
            value |= bits << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }

    /// The fields of `bytes` by tag byte; the last occurrence of a tag wins, as in libolm. Unknown tags are skipped.
    static func fields(_ bytes: ArraySlice<UInt8>) throws(OlmError) -> [UInt64: Field] {
        var fields: [UInt64: Field] = [:]
        var position = bytes.startIndex
        while position < bytes.endIndex {
            let tag = try readVarint(bytes, at: &position)
            switch tag & 0x07 {
            case 0:
                fields[tag] = .varint(try readVarint(bytes, at: &position))
            case 2:
                let length = try readVarint(bytes, at: &position)
                guard length <= UInt64(bytes.endIndex - position) else { throw .badMessageFormat }
                let end = position + Int(length)
                fields[tag] = .bytes(Array(bytes[position..<end]))
                position = end
            default:
                throw .badMessageFormat
            }
        }
        return fields
    }
}

extension [UInt64: OlmWire.Field] {
    func bytes(_ tag: UInt8, count: Int? = nil) throws(OlmError) -> [UInt8] {
        guard case .bytes(let value) = self[UInt64(tag)], count == nil || value.count == count else { throw .badMessageFormat }
        return value
    }

    func uint32(_ tag: UInt8) throws(OlmError) -> UInt32 {
        guard case .varint(let value) = self[UInt64(tag)], let small = UInt32(exactly: value) else { throw .badMessageFormat }
        return small
    }
}

/// An Olm ratchet message: 0x03 ‖ 0x0A ratchet key ‖ 0x10 chain index ‖ 0x22 ciphertext ‖ 8-byte MAC.
struct OlmRatchetMessage {
    var ratchetKey: [UInt8]
    var chainIndex: UInt32
    var ciphertext: [UInt8]
    /// The encoded bytes up to the MAC.
    var authenticated: [UInt8]
    var mac: [UInt8]

    static func encode(ratchetKey: [UInt8], chainIndex: UInt32, ciphertext: [UInt8]) -> [UInt8] {
        var output = [OlmWire.version]
        OlmWire.appendBytes(tag: 0x0A, ratchetKey, to: &output)
        OlmWire.appendVarint(tag: 0x10, UInt64(chainIndex), to: &output)
        OlmWire.appendBytes(tag: 0x22, ciphertext, to: &output)
        return output
    }

    init(decoding bytes: [UInt8]) throws(OlmError) {
        guard let first = bytes.first else { throw .badMessageFormat }
        guard first == OlmWire.version else { throw .badMessageVersion }
        guard bytes.count >= 1 + AESSHA256Cipher.macLength else { throw .badMessageFormat }
        let macStart = bytes.count - AESSHA256Cipher.macLength
        let fields = try OlmWire.fields(bytes[1..<macStart])
        ratchetKey = try fields.bytes(0x0A, count: 32)
        chainIndex = try fields.uint32(0x10)
        ciphertext = try fields.bytes(0x22)
        authenticated = Array(bytes[..<macStart])
        mac = Array(bytes[macStart...])
    }
}

/// An Olm pre-key message: 0x03 ‖ 0x0A one-time key ‖ 0x12 base key ‖ 0x1A identity key ‖ 0x22 ratchet message.
struct OlmPreKeyMessage {
    var oneTimeKey: [UInt8]
    var baseKey: [UInt8]
    var identityKey: [UInt8]
    var message: [UInt8]

    static func encode(oneTimeKey: [UInt8], baseKey: [UInt8], identityKey: [UInt8], message: [UInt8]) -> [UInt8] {
        var output = [OlmWire.version]
        OlmWire.appendBytes(tag: 0x0A, oneTimeKey, to: &output)
        OlmWire.appendBytes(tag: 0x12, baseKey, to: &output)
        OlmWire.appendBytes(tag: 0x1A, identityKey, to: &output)
        OlmWire.appendBytes(tag: 0x22, message, to: &output)
        return output
    }

    init(decoding bytes: [UInt8]) throws(OlmError) {
        guard let first = bytes.first else { throw .badMessageFormat }
        guard first == OlmWire.version else { throw .badMessageVersion }
        let fields = try OlmWire.fields(bytes[1...])
        oneTimeKey = try fields.bytes(0x0A, count: 32)
        baseKey = try fields.bytes(0x12, count: 32)
        identityKey = try fields.bytes(0x1A, count: 32)
        message = try fields.bytes(0x22)
    }

    init(base64 body: String) throws(OlmError) {
        guard let bytes = Base64Unpadded.decode(body) else { throw .badBase64 }
        try self.init(decoding: Array(bytes))
    }
}

/// A Megolm message: 0x03 ‖ 0x08 index ‖ 0x12 ciphertext ‖ 8-byte MAC ‖ 64-byte Ed25519 signature.
struct MegolmMessage {
    static let signatureLength = 64

    var messageIndex: UInt32
    var ciphertext: [UInt8]
    /// The encoded bytes up to the MAC.
    var authenticated: [UInt8]
    var mac: [UInt8]
    /// The encoded bytes up to the signature.
    var signed: [UInt8]
    var signature: [UInt8]

    static func encode(messageIndex: UInt32, ciphertext: [UInt8]) -> [UInt8] {
        var output = [OlmWire.version]
        OlmWire.appendVarint(tag: 0x08, UInt64(messageIndex), to: &output)
        OlmWire.appendBytes(tag: 0x12, ciphertext, to: &output)
        return output
    }

    init(decoding bytes: [UInt8]) throws(OlmError) {
        guard let first = bytes.first else { throw .badMessageFormat }
        guard first == OlmWire.version else { throw .badMessageVersion }
        guard bytes.count >= 1 + AESSHA256Cipher.macLength + Self.signatureLength else { throw .badMessageFormat }
        let signatureStart = bytes.count - Self.signatureLength
        let macStart = signatureStart - AESSHA256Cipher.macLength
        let fields = try OlmWire.fields(bytes[1..<macStart])
        messageIndex = try fields.uint32(0x08)
        ciphertext = try fields.bytes(0x12)
        authenticated = Array(bytes[..<macStart])
        mac = Array(bytes[macStart..<signatureStart])
        signed = Array(bytes[..<signatureStart])
        signature = Array(bytes[signatureStart...])
    }
}
