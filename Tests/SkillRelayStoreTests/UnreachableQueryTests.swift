import Foundation
import SkillRelayDomain
import SkillRelayTestSupport
import Testing

@testable import SkillRelayStore

/// Who the IM cannot reach: tagged people with an IM id and no joined room with the bot, bounded, for admins and,
/// among their own people, managers.
@Suite struct UnreachableQueryTests {
    let clock = TestClock()

    /// The sample company's active people with an IM id and a skill, by handle.
    static func taggedWithIMIDs(_ database: TestDatabase) async throws -> Set<String> {
        Set(
            try await database.texts(
                """
                SELECT handle FROM employee WHERE isActive AND imId IS NOT NULL AND imId <> ''
                AND EXISTS (SELECT 1 FROM skill WHERE employeeId = employee.id)
                """))
    }

    @Test(arguments: StoreBackend.available) func theUnreachableAreTaggedPeopleWithAnIMIdAndNoJoinedRoomCappedWithATotal(
        backend: StoreBackend
    ) async throws {
        try await withSample(backend, clock: clock) { (database, store) async throws in
            let tagged = try await Self.taggedWithIMIDs(database)
            #expect(tagged.count > 60)
            let admin = Caller(identity: .employee("lakshmi.gupta"), isAdmin: true)
            // Nobody has a room yet: everyone tagged is listed, the first 50 by name
            let everyone = try await store.unreachable(by: admin, limit: 50)
            #expect(everyone.total == tagged.count && everyone.people.count == 50)
            #expect(everyone.people.map(\.name) == everyone.people.map(\.name).sorted())
            #expect(everyone.people.allSatisfy { $0.reason == .notInvited && $0.since == nil })
            // The rooms' side needs the IM state's store, SQLite's until PostgreSQL has one.
            guard case .sqlite(let sqlite) = database else { return }
            let state = SQLiteIMState(database: sqlite, clock: clock)
            // One joined, one invited, one who left, one whose invitation failed
            let (joined, invited, left, failed) = (
                "@nikos.nikolaidis:localhost", "@ayse.demir:localhost", "@lena.weber:localhost", "@t.zhang:localhost"
            )
            try await state.setConversation("!j:x", with: joined)
            try await state.setInvitation("!i:x", to: invited, at: clock.now())
            try await state.setConversation("!l:x", with: left)
            _ = try await state.forgetConversation("!l:x", of: left, departure: .refused, at: clock.now())
            try await state.setInvitation(nil, to: failed, at: clock.now())
            let after = try await store.unreachable(by: admin, limit: 500)
            #expect(after.total == tagged.count - 1 && after.people.count == after.total)
            let reasons = Dictionary(uniqueKeysWithValues: after.people.map { ($0.imID, $0.reason) })
            #expect(reasons[joined] == nil)
            #expect(reasons[invited] == .invited && reasons[left] == .refused && reasons[failed] == .inviteFailed)
            // Invited again after leaving: pending, however it ended before
            try await state.setInvitation("!l2:x", to: left, at: clock.now())
            #expect(try await store.unreachable(by: admin, limit: 500).people.first { $0.imID == left }?.reason == .invited)
        }
    }

    @Test(arguments: StoreBackend.available) func aManagerSeesOnlyTheUnreachableBelowThemAndOthersNothing(backend: StoreBackend) async throws {
        try await withSample(backend, clock: clock) { (database, store) async throws in
            let manager = Caller(identity: .employee("jocelyn.delacruz"), isManager: true)
            // Everyone tagged and on the IM below the manager, found by walking the org chart (not by the org paths the
            // store reads).
            let team = Set(
                try await database.texts(
                    """
                    WITH RECURSIVE below(id) AS (
                        SELECT id FROM employee WHERE managerId = (SELECT id FROM employee WHERE handle = 'jocelyn.delacruz')
                        UNION SELECT employee.id FROM employee JOIN below ON employee.managerId = below.id
                    )
                    SELECT handle FROM employee WHERE id IN (SELECT id FROM below) AND isActive AND imId IS NOT NULL
                        AND EXISTS (SELECT 1 FROM skill WHERE skill.employeeId = employee.id)
                    """))
            let listed = try await store.unreachable(reportingTo: manager, limit: 500)
            #expect(!team.isEmpty && Set(listed.people.map(\.handle)) == team && listed.total == team.count)
            await #expect(throws: DirectoryError.self) {
                _ = try await store.unreachable(reportingTo: Caller(identity: .employee("laura.sullivan")), limit: 50)
            }
            await #expect(throws: DirectoryError.self) {
                _ = try await store.unreachable(by: manager, limit: 50)
            }
        }
    }
}
