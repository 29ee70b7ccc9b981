import Foundation
import GRDB
import SkillRelayDomain

extension SQLiteDirectoryStore: TeamStore {
    public func team(of caller: Caller) async throws -> [EmployeeProfile] {
        try DirectoryPolicy.authorize(caller, to: .readTeam)
        guard let handle = caller.handle else { return [] }
        return try await writer.read { db in
            let manager = try Self.employeeRecord(db, handle: handle)
            let members = try SQLRequest<EmployeeRecord>(
                literal: """
                    WITH RECURSIVE below(id) AS (
                        SELECT id FROM employee WHERE managerId = \(manager.id!)
                        UNION SELECT employee.id FROM employee JOIN below ON employee.managerId = below.id
                    )
                    SELECT employee.* FROM employee JOIN below ON below.id = employee.id
                    WHERE employee.isActive
                    ORDER BY employee.name, employee.handle
                    """
            ).fetchAll(db)
            return try members.map { try Self.profile(db, record: $0) }
        }
    }
}
