import Foundation
import GRDB

extension Date {
    /// What GRDB stores a date as (`databaseValue`: "yyyy-MM-dd HH:mm:ss.SSS" in UTC, to the nearest millisecond the way
    /// Foundation's formatter rounds: half a millisecond added, then cut off), made by arithmetic. GRDB makes that text
    /// with a `DateFormatter` at every bind, which on Linux goes through ICU: 3 % of a simulation's time. The same text
    /// for every date from 1601 to 9999 (checked against GRDB's own in `StoredDateTests`); other dates, where ICU's
    /// calendar is Julian or the year has more digits, are GRDB's.
    var storedValue: DatabaseValue {
        let milliseconds = (timeIntervalSince1970 * 1000 + 0.5).rounded(.down)
        // 1601-01-01 and 10000-01-01, in milliseconds since 1970.
        guard milliseconds >= -11_644_473_600_000, milliseconds < 253_402_300_800_000 else { return databaseValue }
        return CivilTime.sqliteText(milliseconds: Int64(milliseconds)).databaseValue
    }
}

/// Times as whole units since 1970 in UTC on the proleptic Gregorian calendar, by arithmetic (Howard Hinnant's
/// `days_from_civil` and `civil_from_days`): the stores' text for a bound date, and `db copy`'s exact conversions.
public enum CivilTime {
    /// GRDB's storage text, `yyyy-MM-dd HH:mm:ss.SSS`, for a time in milliseconds since 1970.
    public static func sqliteText(milliseconds: Int64) -> String {
        let (days, inDay) = floorDivision(milliseconds, 86_400_000)
        let (year, month, day) = civil(fromDays: days)
        let (hour, minute, second, millisecond) = (inDay / 3_600_000, inDay / 60_000 % 60, inDay / 1000 % 60, inDay % 1000)
        guard (0...9999).contains(year) else {
            return String(format: "%04lld-%02lld-%02lld %02lld:%02lld:%02lld.%03lld", year, month, day, hour, minute, second, millisecond)
        }
        return String(unsafeUninitializedCapacity: 23) { buffer in
            var offset = 0
            func put(_ value: Int64, digits: Int, then separator: Unicode.Scalar?) {
                var value = value
                for index in stride(from: offset + digits - 1, through: offset, by: -1) {
                    buffer[index] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
                offset += digits
                if let separator {
                    buffer[offset] = UInt8(ascii: separator)
                    offset += 1
                }
            }
            put(year, digits: 4, then: "-")
            put(month, digits: 2, then: "-")
            put(day, digits: 2, then: " ")
            put(hour, digits: 2, then: ":")
            put(minute, digits: 2, then: ":")
            put(second, digits: 2, then: ".")
            put(millisecond, digits: 3, then: nil)
            return offset
        }
    }

    /// The quotient rounded down, and the remainder that goes with it (never negative for a positive divisor).
    public static func floorDivision(_ value: Int64, _ divisor: Int64) -> (Int64, Int64) {
        let quotient = value / divisor
        let remainder = value % divisor
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }

    /// Days since 1970-01-01 of a date.
    public static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The date (year, month, day) of a day since 1970-01-01.
    public static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPrime = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthPrime + 2) / 5 + 1
        let month = monthPrime < 10 ? monthPrime + 3 : monthPrime - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
