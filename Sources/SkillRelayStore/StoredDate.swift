import Foundation
import GRDB

extension Date {
    /// What GRDB stores a date as (`databaseValue`: "yyyy-MM-dd HH:mm:ss.SSS" in UTC, to the nearest millisecond the way
    /// Foundation's formatter rounds: half a millisecond added, then cut off), made by arithmetic. GRDB makes that text with a `DateFormatter` at every bind, which on Linux goes through ICU:
    /// 3 % of a simulation's time. The same text for every date from 1601 to 9999 (checked against GRDB's own in
    /// `StoredDateTests`); other dates, where ICU's calendar is Julian or the year has more digits, are GRDB's.
    var storedValue: DatabaseValue {
        let milliseconds = (timeIntervalSince1970 * 1000 + 0.5).rounded(.down)
        // 1601-01-01 and 10000-01-01, in milliseconds since 1970.
        guard milliseconds >= -11_644_473_600_000, milliseconds < 253_402_300_800_000 else { return databaseValue }
        let total = Int64(milliseconds)
        let days = total >= 0 ? total / 86_400_000 : (total - 86_399_999) / 86_400_000
        let inDay = Int(total - days * 86_400_000)
        // Days since 1970 to a proleptic Gregorian date (Howard Hinnant's `civil_from_days`).
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * monthFromMarch + 2) / 5 + 1)
        let month = Int(monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9)
        let year = Int(yearOfEra + era * 400 + (month <= 2 ? 1 : 0))
        let text = String(unsafeUninitializedCapacity: 23) { buffer in
            func put(_ value: Int, digits: Int, at offset: Int) {
                var value = value
                for index in stride(from: offset + digits - 1, through: offset, by: -1) {
                    buffer[index] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
            }
            put(year, digits: 4, at: 0)
            buffer[4] = UInt8(ascii: "-")
            put(month, digits: 2, at: 5)
            buffer[7] = UInt8(ascii: "-")
            put(day, digits: 2, at: 8)
            buffer[10] = UInt8(ascii: " ")
            put(inDay / 3_600_000, digits: 2, at: 11)
            buffer[13] = UInt8(ascii: ":")
            put(inDay / 60_000 % 60, digits: 2, at: 14)
            buffer[16] = UInt8(ascii: ":")
            put(inDay / 1000 % 60, digits: 2, at: 17)
            buffer[19] = UInt8(ascii: ".")
            put(inDay % 1000, digits: 3, at: 20)
            return 23
        }
        return text.databaseValue
    }
}
