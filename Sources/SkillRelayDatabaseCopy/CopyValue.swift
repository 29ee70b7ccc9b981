import Foundation
import GRDB
import SkillRelayStore

/// What a column holds, in the terms both databases share. SQLite's declared types and PostgreSQL's column types both
/// map onto these; a value is converted from the source's kind to the target's.
enum ColumnKind: String, Sendable {
    case integer, real, text, blob, boolean, timestamp
}

/// One value on its way from one database to the other.
///
/// Times are whole microseconds since 1970 (UTC), never a `Date`: SQLite keeps GRDB's text `yyyy-MM-dd HH:mm:ss.SSS`,
/// PostgreSQL keeps microseconds, and a floating-point `Date` between them could turn `.123` into `.122` on the way back.
enum CopyValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
    case boolean(Bool)
    case timestamp(microseconds: Int64)

    /// Why a value cannot be stored in a column of another kind.
    struct Mismatch: Error {
        var value: CopyValue
        var kind: ColumnKind
    }

    /// The value as a column of `kind` holds it.
    func converted(to kind: ColumnKind) throws(Mismatch) -> CopyValue {
        switch (self, kind) {
        case (.null, _), (.integer, .integer), (.real, .real), (.text, .text), (.blob, .blob), (.boolean, .boolean), (.timestamp, .timestamp):
            return self
        case (.boolean(let flag), .integer):
            return .integer(flag ? 1 : 0)
        case (.integer(let number), .boolean) where number == 0 || number == 1:
            return .boolean(number == 1)
        case (.integer(let number), .real):
            return .real(Double(number))
        case (.real(let number), .integer) where number.rounded() == number && abs(number) < 9e15:
            return .integer(Int64(number))
        // SQLite's TEXT affinity stores numbers written into a text column as their text; do the same.
        case (.integer(let number), .text):
            return .text(String(number))
        case (.real(let number), .text):
            return .text(String(number))
        case (.text(let text), .timestamp):
            guard let microseconds = CopyTime.microseconds(fromSQLite: text) else { throw Mismatch(value: self, kind: kind) }
            return .timestamp(microseconds: microseconds)
        case (.timestamp(let microseconds), .text):
            return .text(CopyTime.sqliteText(microseconds))
        default:
            throw Mismatch(value: self, kind: kind)
        }
    }
}

extension CopyValue: CustomStringConvertible {
    var description: String {
        switch self {
        case .null: "NULL"
        case .integer(let number): "\(number)"
        case .real(let number): "\(number)"
        case .text(let text): "'" + (text.count > 60 ? String(text.prefix(60)) + "…" : text) + "'"
        case .blob(let bytes): "a blob of \(bytes.count) bytes"
        case .boolean(let flag): "\(flag)"
        case .timestamp(let microseconds): CopyTime.postgresText(microseconds)
        }
    }
}

/// Exact conversions between microseconds since 1970 and the two databases' texts for a time (proleptic Gregorian, UTC).
enum CopyTime {
    /// GRDB's storage format, `yyyy-MM-dd HH:mm:ss.SSS` (milliseconds: anything finer is dropped, as GRDB drops it).
    static func sqliteText(_ microseconds: Int64) -> String {
        CivilTime.sqliteText(milliseconds: CivilTime.floorDivision(microseconds, 1000).0)
    }

    /// A PostgreSQL timestamptz literal with every microsecond, in UTC.
    static func postgresText(_ microseconds: Int64) -> String {
        let (days, microsecondOfDay) = CivilTime.floorDivision(microseconds, 86_400_000_000)
        let (year, month, day) = CivilTime.civil(fromDays: days)
        let seconds = microsecondOfDay / 1_000_000
        return String(
            format: "%04lld-%02lld-%02lld %02lld:%02lld:%02lld.%06lld+00", year, month, day, seconds / 3600, seconds / 60 % 60, seconds % 60,
            microsecondOfDay % 1_000_000)
    }

    /// Reads the times GRDB writes: `yyyy-MM-dd`, then optionally ` HH:mm`, `:ss` and `.S…` (or a `T` for the space), in
    /// UTC, exactly; anything else GRDB itself reads as a date (a time zone suffix…), to the nearest microsecond.
    static func microseconds(fromSQLite text: String) -> Int64? {
        if let exact = exactMicroseconds(text) { return exact }
        guard let date = Date.fromDatabaseValue(text.databaseValue) else { return nil }
        return Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }

    private static func exactMicroseconds(_ text: String) -> Int64? {
        let characters = Array(text.utf8)
        var index = 0
        func number(_ digits: Int) -> Int64? {
            guard index + digits <= characters.count else { return nil }
            var value: Int64 = 0
            for character in characters[index..<index + digits] {
                guard (48...57).contains(character) else { return nil }
                value = value * 10 + Int64(character - 48)
            }
            index += digits
            return value
        }
        func expect(_ separator: UInt8...) -> Bool {
            guard index < characters.count, separator.contains(characters[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect(45), let month = number(2), expect(45), let day = number(2), (1...12).contains(month),
            (1...31).contains(day)
        else { return nil }
        var micro: Int64 = 0
        if index < characters.count {
            guard expect(32, 84), let hour = number(2), expect(58), let minute = number(2), hour < 24, minute < 60 else { return nil }
            var second: Int64 = 0
            if index < characters.count {
                guard expect(58), let value = number(2), value < 60 else { return nil }
                second = value
            }
            var fraction: Int64 = 0
            if index < characters.count {
                guard expect(46) else { return nil }
                var digits = 0
                while index < characters.count, (48...57).contains(characters[index]) {
                    if digits < 6 { fraction = fraction * 10 + Int64(characters[index] - 48) }
                    digits += 1
                    index += 1
                }
                guard digits > 0 else { return nil }
                if digits < 6 { for _ in digits..<6 { fraction *= 10 } }
            }
            guard index == characters.count else { return nil }
            micro = ((hour * 60 + minute) * 60 + second) * 1_000_000 + fraction
        }
        return CivilTime.days(fromCivil: year, month, day) * 86_400_000_000 + micro
    }
}
