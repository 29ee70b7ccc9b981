import Foundation
import Testing

@testable import SkillRelayDomain

@Suite struct WorkingHoursTests {
    let berlin = TimeZone(identifier: "Europe/Berlin")!
    let utc = TimeZone(identifier: "UTC")!

    /// An instant given in UTC, `2026-03-27T07:30`.
    func utcTime(_ text: String) throws -> Date {
        try #require(ISO8601DateFormatter().date(from: text + ":00Z"))
    }

    @Test func parsesAndFormatsBackOneCanonicalSpelling() throws {
        let hours = try WorkingHours(parsing: "  mon-thu 08:00-16:00,Fri   08:00-12:00 ")
        #expect(
            hours.segments == [
                .init(start: .monday, end: .thursday, opens: 480, closes: 960), .init(start: .friday, end: .friday, opens: 480, closes: 720),
            ])
        #expect(hours.description == "Mon-Thu 08:00-16:00, Fri 08:00-12:00")
        #expect(try WorkingHours(parsing: hours.description) == hours)
        #expect(try WorkingHours(parsing: "Sat-Sun 00:00-24:00").description == "Sat-Sun 00:00-24:00")
    }

    @Test func readsTheWallClockOfTheTimeZoneAcrossTheChangeToSummerTime() throws {
        let hours = try WorkingHours(parsing: "Mon-Fri 09:00-17:30")
        // 07:30 UTC is 08:30 in Berlin on Friday (winter time), 09:30 on Monday after the clocks went forward.
        #expect(!hours.contains(try utcTime("2026-03-27T07:30"), in: berlin))
        #expect(hours.contains(try utcTime("2026-03-30T07:30"), in: berlin))
        // Read in UTC instead: 07:30 is before nine, 09:30 after.
        #expect(!hours.contains(try utcTime("2026-03-30T07:30"), in: utc))
        #expect(hours.contains(try utcTime("2026-03-27T09:30"), in: utc))
        // The end is exclusive: 17:30 local is out, 17:29 in (15:29 UTC in summer time).
        #expect(hours.contains(try utcTime("2026-03-30T15:29"), in: berlin))
        #expect(!hours.contains(try utcTime("2026-03-30T15:30"), in: berlin))
    }

    @Test func aDayEndsAtMidnightOnItsOwnWeekday() throws {
        let lateFriday = try WorkingHours(parsing: "Fri 18:00-24:00")
        // Friday 23:59 Berlin (22:59 UTC in winter) is in; the minute after is Saturday, out.
        #expect(lateFriday.contains(try utcTime("2026-03-27T22:59"), in: berlin))
        #expect(!lateFriday.contains(try utcTime("2026-03-27T23:00"), in: berlin))
        // Midnight starts the next day's segment.
        let earlySaturday = try WorkingHours(parsing: "Sat 00:00-02:00")
        #expect(earlySaturday.contains(try utcTime("2026-03-27T23:00"), in: berlin))
    }

    @Test func aRangeOfDaysMayWrapPastSunday() throws {
        let hours = try WorkingHours(parsing: "Fri-Mon 10:00-12:00")
        #expect(hours.contains(try utcTime("2026-03-29T10:30"), in: utc))  // Sunday
        #expect(hours.contains(try utcTime("2026-03-30T10:30"), in: utc))  // Monday
        #expect(!hours.contains(try utcTime("2026-03-31T10:30"), in: utc))  // Tuesday
    }

    @Test(arguments: [
        "", "Mon-Fri", "Mon-Fri 9-17", "Mon-Fri 09:00", "Mon-Fri 17:00-09:00", "Mon-Fri 09:00-09:00", "Fri 22:00-02:00",
        "Mon-Fri 09:00-24:30", "Mon-Fri 25:00-26:00", "Mon-Fri 09:60-10:00", "Mon-Fri 9:00-17:00", "Monday 09:00-17:00", "Mon-Fri 09:00-17:00,",
        "Mon-Fri 09:00-17:00, ", "Mon-Tue-Wed 09:00-17:00", "Mon-Fri +9:00-17:00", "Mon-Fri 09:00-17:00 extra",
    ])
    func refusesWhatIsNotWorkingHours(_ text: String) throws {
        let error = try #require(throws: DirectoryError.self) { try WorkingHours(parsing: text) }
        guard case .invalidField(let field, _) = error else {
            Issue.record("not an invalid field: \(error)")
            return
        }
        #expect(field == "working_hours")
    }
}
