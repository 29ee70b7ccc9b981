import Foundation

/// The Megolm ratchet: four 32-byte parts R0…R3 and a counter, advanced exactly as libolm's megolm.c.
struct MegolmRatchet: Codable, Sendable {
    static let partLength = 32
    static let length = 4 * partLength

    /// R0 ‖ R1 ‖ R2 ‖ R3.
    private(set) var data: Data
    private(set) var counter: UInt32

    init(data: [UInt8], counter: UInt32) {
        precondition(data.count == Self.length)
        self.data = Data(data)
        self.counter = counter
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        data = try container.decodeBytes(.data, count: Self.length)
        counter = try container.decode(UInt32.self, forKey: .counter)
    }

    private func part(_ index: Int) -> Data {
        data.subdata(in: index * Self.partLength..<(index + 1) * Self.partLength)
    }

    /// R(to) = HMAC-SHA256(key: R(from), the one byte `to`).
    private mutating func rehash(from: Int, to: Int) {
        let hashed = OlmCrypto.hmac(key: part(from), [UInt8(to)])
        data.replaceSubrange(to * Self.partLength..<(to + 1) * Self.partLength, with: hashed)
    }

    /// One step: R(h)…R(3) rehashed from R(h), where h is the highest part whose byte of the counter changed.
    mutating func advance() {
        counter &+= 1
        var mask: UInt32 = 0x00FF_FFFF
        var h = 0
        while h < 4 {
            if counter & mask == 0 { break }
            h += 1
            mask >>= 8
        }
        for part in stride(from: 3, through: h, by: -1) { rehash(from: h, to: part) }
    }

    /// Jumps to `target` (wrapping around 2³² as libolm does), rehashing each part at most 256 times.
    mutating func advance(to target: UInt32) {
        for j in 0..<4 {
            let shift = UInt32((3 - j) * 8)
            let mask = UInt32.max << shift
            var steps = ((target >> shift) &- (counter >> shift)) & 0xFF
            if steps == 0 {
                // Only R0 can get here with counter above target: the target wrapped around, so R0 turns 256 times.
                guard target < counter else { continue }
                steps = 0x100
            }
            while steps > 1 {
                rehash(from: j, to: j)
                steps -= 1
            }
            for part in stride(from: 3, through: j, by: -1) { rehash(from: j, to: part) }
            counter = target & mask
        }
    }
}
