import Foundation
import GRDB
import SkillRelayDomain

extension SQLiteDirectoryStore {
    public func employee(_ handle: String, by caller: Caller) async throws -> EmployeeProfile {
        // A bot may read no employee at all: refuse before looking anyone up, so a bot learns nothing of who exists.
        if case .bot = caller.identity { try DirectoryPolicy.authorize(caller, to: .readEmployee(.unrelated)) }
        return try await database.read { db in
            let target = try Self.employeeRecord(db, handle: handle)
            try DirectoryPolicy.authorize(caller, to: .readEmployee(try Self.relation(db, of: target, to: caller)))
            return try Self.profile(db, record: target)
        }
    }

    public func createEmployee(_ employee: Employee, by caller: Caller) async throws -> EmployeeProfile {
        try DirectoryPolicy.authorize(caller, to: .editEmployees)
        let employee = try employee.validated()
        return try await database.write { db in
            if try EmployeeRecord.filter(EmployeeRecord.Columns.handle == employee.handle).fetchCount(db) > 0 {
                throw DirectoryError.handleTaken(employee.handle)
            }
            try Self.checkIMIDFree(db, employee.imID, except: nil)
            let managerID = try employee.managerHandle.map { try Self.managerRecord(db, handle: $0).id! }
            let now = clock.now()
            var record = EmployeeRecord(
                handle: employee.handle, name: employee.name, email: employee.email, imId: employee.imID, managerId: managerID,
                isAdmin: employee.isAdmin, isActive: employee.isActive, timeZone: employee.timeZone,
                workingHours: employee.workingHours?.description, createdAt: now, updatedAt: now)
            try record.insert(db)
            try audit(db, by: caller, entity: "employee", key: employee.handle, action: "create", before: nil, after: Self.snapshot(employee))
            return try Self.profile(db, record: record)
        }
    }

    public func updateEmployee(_ handle: String, with patch: EmployeePatch, by caller: Caller) async throws -> EmployeeProfile {
        try DirectoryPolicy.authorize(caller, to: .editEmployees)
        return try await database.write { db in
            var record = try Self.employeeRecord(db, handle: handle)
            let before = try Self.employee(db, record: record)
            let updated = try before.applying(patch).validated()
            try Self.checkIMIDFree(db, updated.imID, except: record.id)
            if let newManager = patch.managerHandle {
                if let managerHandle = newManager {
                    let manager = try Self.managerRecord(db, handle: managerHandle)
                    if try Self.managerChain(db, startingAt: manager.id).contains(record.id!) { throw DirectoryError.managerCycle(handle) }
                    record.managerId = manager.id
                } else {
                    record.managerId = nil
                }
            }
            let losesAdmin = record.isAdmin && record.isActive && !(updated.isAdmin && updated.isActive)
            if losesAdmin {
                let otherAdmins = try EmployeeRecord.filter(
                    EmployeeRecord.Columns.isAdmin && EmployeeRecord.Columns.isActive && EmployeeRecord.Columns.id != record.id!
                ).fetchCount(db)
                if otherAdmins == 0 { throw DirectoryError.lastAdmin(handle) }
            }
            record.name = updated.name
            record.email = updated.email
            record.imId = updated.imID
            record.isAdmin = updated.isAdmin
            record.isActive = updated.isActive
            record.timeZone = updated.timeZone
            record.workingHours = updated.workingHours?.description
            record.updatedAt = clock.now()
            try record.update(db)
            let after = try Self.employee(db, record: record)
            try audit(db, by: caller, entity: "employee", key: handle, action: "update", before: Self.snapshot(before), after: Self.snapshot(after))
            return try Self.profile(db, record: record)
        }
    }

    // MARK: - Reading employees

    static func employee(_ db: Database, record: EmployeeRecord) throws -> Employee {
        let manager = try record.managerId.flatMap { try EmployeeRecord.fetchOne(db, key: $0) }
        return Employee(
            handle: record.handle, name: record.name, email: record.email, imID: record.imId, managerHandle: manager?.handle,
            isAdmin: record.isAdmin, isActive: record.isActive, timeZone: record.timeZone,
            workingHours: WorkingHours(stored: record.workingHours))
    }

    static func profile(_ db: Database, record: EmployeeRecord) throws -> EmployeeProfile {
        let skills = try Row.fetchAll(
            db,
            sql: """
                SELECT topic.slug, topic.name, skill.level, skill.source, tagger.handle AS taggedBy, skill.taggedAt
                FROM skill
                JOIN topic ON topic.id = skill.topicId
                LEFT JOIN employee AS tagger ON tagger.id = skill.taggedById
                WHERE skill.employeeId = ?
                ORDER BY skill.level DESC, topic.slug
                """, arguments: [record.id!]
        ).map(skill(from:))
        let reports = try EmployeeRecord.filter(EmployeeRecord.Columns.managerId == record.id!).fetchCount(db)
        return EmployeeProfile(employee: try employee(db, record: record), skills: skills, directReportCount: reports)
    }

    static func skill(from row: Row) -> Skill {
        Skill(
            topic: TopicReference(slug: row["slug"], name: row["name"]), level: row["level"],
            source: SkillSource(rawValue: row["source"]) ?? .manager, taggedBy: row["taggedBy"], taggedAt: row["taggedAt"])
    }

    /// The employee to become a manager, or `unknownManager`.
    static func managerRecord(_ db: Database, handle: String) throws -> EmployeeRecord {
        do {
            return try employeeRecord(db, handle: handle)
        } catch DirectoryError.employeeNotFound {
            throw DirectoryError.unknownManager(handle)
        }
    }

    static func checkIMIDFree(_ db: Database, _ imID: String?, except id: Int64?) throws {
        guard let imID else { return }
        let holder = try EmployeeRecord.filter(EmployeeRecord.Columns.imId == imID).fetchOne(db)
        if let holder, holder.id != id { throw DirectoryError.imIDTaken(imID) }
    }

    static func snapshot(_ employee: Employee) -> [String: String] {
        [
            "handle": employee.handle, "name": employee.name, "email": employee.email, "imId": employee.imID ?? "",
            "manager": employee.managerHandle ?? "", "admin": String(employee.isAdmin), "active": String(employee.isActive),
            "timezone": employee.timeZone ?? "", "workingHours": employee.workingHours?.description ?? "",
        ]
    }
}
