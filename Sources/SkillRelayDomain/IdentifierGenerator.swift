/// Public ids: a prefix and 128 random bits, so they cannot be guessed or enumerated.
public enum IdentifierGenerator {
    /// A fresh id such as `q_3f9a…`.
    public static func make(prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        return prefix + "_" + hex(high) + hex(low)
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
