import Foundation
import GRDB
import Testing

@testable import SkillRelayStore

/// `Date.storedValue` must write exactly what GRDB's own `databaseValue` writes: dates are compared as text in SQL, so
/// one character apart would order rows wrongly.
@Suite struct StoredDateTests {
    @Test func theStoredTextIsGRDBsForEveryKindOfDate() {
        var random = SystemRandomNumberGenerator()
        var dates: [Date] = [
            Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: -0.0005), Date(timeIntervalSince1970: -1),
            Date(timeIntervalSince1970: 0.9999), Date(timeIntervalSince1970: 1_780_000_000.9995), Date(timeIntervalSince1970: 951_782_400),
            Date(timeIntervalSince1970: 4_107_542_400), Date(timeIntervalSince1970: -8_275_190_614.1445), .distantPast, .distantFuture,
            // 1601-01-01, the first day written by arithmetic, and the millisecond before it (GRDB's).
            Date(timeIntervalSince1970: -11_644_473_600), Date(timeIntervalSince1970: -11_644_473_600.001),
            // The last millisecond of 9999 and the first of 10000.
            Date(timeIntervalSince1970: 253_402_300_799.999), Date(timeIntervalSince1970: 253_402_300_800),
        ]
        // Any instant of any day, sub-millisecond parts included, from 1601 to 9999; and many around now.
        dates += (0..<100_000).map { _ in Date(timeIntervalSince1970: Double.random(in: -11_644_473_600..<253_402_300_800, using: &random)) }
        dates += (0..<100_000).map { _ in Date(timeIntervalSince1970: Double.random(in: 1.7e9..<1.9e9, using: &random)) }
        for date in dates {
            #expect(date.storedValue == date.databaseValue, "\(date.timeIntervalSince1970)")
        }
    }
}
