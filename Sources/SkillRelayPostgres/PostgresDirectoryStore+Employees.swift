import Foundation
import PostgresNIO
import SkillRelayDomain

extension PostgresDirectoryStore {
    public func employee(_ handle: String, by caller: Caller) async throws -> EmployeeProfile {
        // A bot may read no employee at all: refuse before looking anyone up, so a bot learns nothing of who exists.
        if case .bot = caller.identity { try DirectoryPolicy.authorize(caller, to: .readEmployee(.unrelated)) }
        return try await database.reading { db in
            let target = try await Self.employeeRow(db, handle: handle)
            try DirectoryPolicy.authorize(caller, to: .readEmployee(try await Self.relation(db, of: target, to: caller)))
            return try await Self.profile(db, record: target)
        }
    }

    public func createEmployee(_ employee: Employee, by caller: Caller) async throws -> EmployeeProfile {
        try DirectoryPolicy.authorize(caller, to: .editEmployees)
        let employee = try employee.validated()
        return try await database.writing { db in
            if try await Self.employeeRowIfAny(db, handle: employee.handle) != nil { throw DirectoryError.handleTaken(employee.handle) }
            try await Self.checkIMIDFree(db, employee.imID, except: nil)
            var managerID: Int64?
            if let managerHandle = employee.managerHandle { managerID = try await Self.managerRow(db, handle: managerHandle).id }
            let now = clock.now()
            let id = try await db.value(
                """
                INSERT INTO employee (handle, name, email, imId, managerId, isAdmin, isActive, timeZone, workingHours, createdAt, updatedAt)
                VALUES (\(employee.handle), \(employee.name), \(employee.email), \(employee.imID), \(managerID), \(employee.isAdmin),
                    \(employee.isActive), \(employee.timeZone), \(employee.workingHours?.description), \(now), \(now))
                RETURNING id
                """, Int64.self)
            try await audit(db, by: caller, entity: "employee", key: employee.handle, action: "create", before: nil, after: Self.snapshot(employee))
            guard let id, let record = try await Self.employeeRow(db, id: id) else { throw DirectoryError.employeeNotFound(employee.handle) }
            return try await Self.profile(db, record: record)
        }
    }

    public func updateEmployee(_ handle: String, with patch: EmployeePatch, by caller: Caller) async throws -> EmployeeProfile {
        try DirectoryPolicy.authorize(caller, to: .editEmployees)
        return try await database.writing { db in
            var record = try await Self.employeeRow(db, handle: handle)
            let before = try await Self.employee(db, record: record)
            let updated = try before.applying(patch).validated()
            try await Self.checkIMIDFree(db, updated.imID, except: record.id)
            if let newManager = patch.managerHandle {
                if let managerHandle = newManager {
                    let manager = try await Self.managerRow(db, handle: managerHandle)
                    if try await Self.managerChain(db, startingAt: manager.id).contains(record.id) { throw DirectoryError.managerCycle(handle) }
                    record.managerId = manager.id
                } else {
                    record.managerId = nil
                }
            }
            let losesAdmin = record.isAdmin && record.isActive && !(updated.isAdmin && updated.isActive)
            if losesAdmin {
                let otherAdmins = try await db.value(
                    "SELECT count(*) FROM employee WHERE isAdmin AND isActive AND id <> \(record.id)", Int.self)
                if otherAdmins == 0 { throw DirectoryError.lastAdmin(handle) }
            }
            // Every column written, as GRDB's `update` does: the org-path triggers' WHEN clauses run them only on a real
            // change of manager or of activity.
            try await db.execute(
                """
                UPDATE employee SET managerId = \(record.managerId), name = \(updated.name), email = \(updated.email), imId = \(updated.imID),
                    isAdmin = \(updated.isAdmin), isActive = \(updated.isActive), timeZone = \(updated.timeZone),
                    workingHours = \(updated.workingHours?.description), updatedAt = \(clock.now())
                WHERE id = \(record.id)
                """)
            guard let changed = try await Self.employeeRow(db, id: record.id) else { throw DirectoryError.employeeNotFound(handle) }
            let after = try await Self.employee(db, record: changed)
            try await audit(
                db, by: caller, entity: "employee", key: handle, action: "update", before: Self.snapshot(before), after: Self.snapshot(after))
            return try await Self.profile(db, record: changed)
        }
    }

    // MARK: - Reading employees

    static func employee(_ db: PostgresStatements, record: EmployeeRow) async throws -> Employee {
        var managerHandle: String?
        if let managerID = record.managerId { managerHandle = try await db.value("SELECT handle FROM employee WHERE id = \(managerID)", String.self) }
        return Employee(
            handle: record.handle, name: record.name, email: record.email, imID: record.imId, managerHandle: managerHandle,
            isAdmin: record.isAdmin, isActive: record.isActive, timeZone: record.timeZone,
            workingHours: WorkingHours(stored: record.workingHours))
    }

    /// The columns `skill(from:)` reads, in its order, from `skill`, `topic` and `tagger`.
    static let skillColumns = "topic.slug, topic.name, skill.level, skill.source, tagger.handle, skill.taggedAt"

    static func profile(_ db: PostgresStatements, record: EmployeeRow) async throws -> EmployeeProfile {
        let skills = try await db.rows(
            """
            SELECT \(unescaped: skillColumns)
            FROM skill
            JOIN topic ON topic.id = skill.topicId
            LEFT JOIN employee AS tagger ON tagger.id = skill.taggedById
            WHERE skill.employeeId = \(record.id)
            ORDER BY skill.level DESC, topic.slug COLLATE "C"
            """
        ) { try skill(from: $0) }
        let reports = try await db.value("SELECT count(*) FROM employee WHERE managerId = \(record.id)", Int.self) ?? 0
        return EmployeeProfile(employee: try await employee(db, record: record), skills: skills, directReportCount: reports)
    }

    /// A skill from a row of `skillColumns`.
    static func skill(from row: PostgresRow) throws -> Skill {
        let (slug, name, level, source, taggedBy, taggedAt) = try row.decode((String, String, Int, String, String?, Date).self)
        return Skill(
            topic: TopicReference(slug: slug, name: name), level: level, source: SkillSource(rawValue: source) ?? .manager, taggedBy: taggedBy,
            taggedAt: taggedAt)
    }

    /// The employee to become a manager, or `unknownManager`.
    static func managerRow(_ db: PostgresStatements, handle: String) async throws -> EmployeeRow {
        guard let row = try await employeeRowIfAny(db, handle: handle) else { throw DirectoryError.unknownManager(handle) }
        return row
    }

    static func checkIMIDFree(_ db: PostgresStatements, _ imID: String?, except id: Int64?) async throws {
        guard let imID else { return }
        let holder = try await db.value("SELECT id FROM employee WHERE imId = \(imID)", Int64.self)
        if let holder, holder != id { throw DirectoryError.imIDTaken(imID) }
    }

    static func snapshot(_ employee: Employee) -> [String: String] {
        [
            "handle": employee.handle, "name": employee.name, "email": employee.email, "imId": employee.imID ?? "",
            "manager": employee.managerHandle ?? "", "admin": String(employee.isAdmin), "active": String(employee.isActive),
            "timezone": employee.timeZone ?? "", "workingHours": employee.workingHours?.description ?? "",
        ]
    }
}
