import Foundation
import GRDB
import SkillRelayDomain
import SkillRelayTestSupport
import Testing

@testable import SkillRelayStore

/// Time zones, working hours and IM activity in the store: imported, read back, and carried by candidates. The test
/// clock stands at Friday 2027-01-15 08:00 UTC: 09:00 in Berlin, 03:00 in New York.
@Suite struct WorkingHoursStoreTests {
    static func company() throws -> ImportBatch {
        try batch([
            .employees: """
            handle,name,email,im_id,manager,timezone,working_hours
            boss,Boss,boss@example.org,@boss:x,,,
            berlin,Berlin,berlin@example.org,@berlin:x,boss,Europe/Berlin,"Mon-Thu 09:00-17:00, Fri 09:00-13:00"
            newyork,New York,ny@example.org,@newyork:x,boss,America/New_York,Mon-Fri 09:00-17:00
            anytime,Anytime,any@example.org,@anytime:x,boss,Asia/Tokyo,

            """,
            .topics: "slug,name\ninfra,Infrastructure\n",
            .skills: "handle,topic,level\nberlin,infra,5\nnewyork,infra,5\nanytime,infra,4\n",
        ])
    }

    func makeStore() async throws -> (SQLiteQuestionStore, SQLiteDirectoryStore, SQLiteIMState, TestClock) {
        let clock = TestClock()
        let database = try AppDatabase.inMemory()
        let directory = SQLiteDirectoryStore(database: database, clock: clock)
        _ = try await directory.importDirectory(try Self.company(), by: .cliOperator)
        return (SQLiteQuestionStore(database: database, clock: clock), directory, SQLiteIMState(database: database, clock: clock), clock)
    }

    @Test(arguments: StoreBackend.available) func importedTimeZonesAndWorkingHoursAreReadBack(backend: StoreBackend) async throws {
        try await withEmpty(backend) { (_, directory) async throws in
            _ = try await directory.importDirectory(try Self.company(), by: .cliOperator)
            let berlin = try await directory.employee("berlin", by: .cliOperator).employee
            #expect(berlin.timeZone == "Europe/Berlin")
            #expect(berlin.workingHours?.description == "Mon-Thu 09:00-17:00, Fri 09:00-13:00")
            let anytime = try await directory.employee("anytime", by: .cliOperator).employee
            #expect(anytime.timeZone == "Asia/Tokyo" && anytime.workingHours == nil)
            // A re-import without the columns clears them, as it does every other optional column.
            _ = try await directory.importDirectory(
                try batch([.employees: "handle,name,email,im_id,manager\nberlin,Berlin,berlin@example.org,@berlin:x,boss\n"]), by: .cliOperator)
            let cleared = try await directory.employee("berlin", by: .cliOperator).employee
            #expect(cleared.timeZone == nil && cleared.workingHours == nil)
        }
    }

    @Test func candidatesCarryTheirHoursAndActivityAndNobodyOutsideTheirHoursIsOne() async throws {
        let (store, _, state, clock) = try await makeStore()
        let seen = clock.now().addingTimeInterval(-300)
        try await state.recordActivity(["@berlin:x": seen, "@stranger:x": seen])
        let found = try await store.candidates(CandidateQuery(topic: "infra"), now: clock.now())
        #expect(found.map(\.handle) == ["berlin", "anytime"])
        let berlin = try #require(found.first)
        #expect(berlin.timeZone == TimeZone(identifier: "Europe/Berlin"))
        #expect(berlin.workingHours?.description == "Mon-Thu 09:00-17:00, Fri 09:00-13:00")
        #expect(berlin.lastActiveAt == seen)
        #expect(found[1].lastActiveAt == nil && found[1].workingHours == nil)
        // Six hours later it is 09:00 in New York, and 15:00 in Berlin, past Friday's 13:00.
        let later = clock.now().addingTimeInterval(6 * 3600)
        #expect(try await store.candidates(CandidateQuery(topic: "infra"), now: later).map(\.handle) == ["newyork", "anytime"])
    }

    @Test func activityMovesOnlyForwardAndAtMostOnceAMinute() async throws {
        let (store, _, state, clock) = try await makeStore()
        func lastActive() async throws -> Date? {
            try await store.candidates(CandidateQuery(topic: "infra"), now: clock.now()).first { $0.handle == "berlin" }?.lastActiveAt
        }
        let first = clock.now().addingTimeInterval(-600)
        try await state.recordActivity(["@berlin:x": first])
        try await state.recordActivity(["@berlin:x": first.addingTimeInterval(-60)])
        #expect(try await lastActive() == first)
        try await state.recordActivity(["@berlin:x": first.addingTimeInterval(30)])
        #expect(try await lastActive() == first)
        try await state.recordActivity(["@berlin:x": first.addingTimeInterval(90)])
        #expect(try await lastActive() == first.addingTimeInterval(90))
    }
}
