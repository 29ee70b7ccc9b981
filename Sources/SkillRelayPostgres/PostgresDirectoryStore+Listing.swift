import Foundation
import PostgresNIO
import SkillRelayDomain

// MARK: - Listing employees, a page at a time

/// Lists are in (name case-insensitively, handle) order, each page resuming after the last (name, handle) shown, as
/// SQLite's store lists them. SQLite's NOCASE folds A to Z only: `nocase(name) COLLATE "C"` (migration "pg v2 directory
/// search") folds the same letters and compares bytewise, and the indexes of that migration keep each page a range.
/// PostgreSQL's planner chooses between a filter's set and the name index itself, which SQLite's store decides by
/// counting.
extension PostgresDirectoryStore {
    public func employees(_ filter: EmployeeFilter, by caller: Caller, page: PageRequest) async throws -> ListPage<EmployeeSummary> {
        try DirectoryPolicy.authorize(caller, to: .listEmployees)
        return try await database.reading { db in
            // The people the caller may see: an admin everyone, a manager those below them.
            var root: Int64?
            if !caller.isAdmin {
                guard let handle = caller.handle else { throw DirectoryError.forbidden("Bots may only read topics.") }
                root = try await Self.employeeRow(db, handle: handle).id
            }
            if let managerHandle = filter.managerHandle {
                let manager = try await Self.employeeRow(db, handle: managerHandle)
                if !caller.isAdmin {
                    try DirectoryPolicy.authorize(caller, to: .readEmployee(try await Self.relation(db, of: manager, to: caller)))
                }
                root = manager.id
            }
            var topicID: Int64?
            if let topic = filter.topic { topicID = try await Self.topicRow(db, slugOrAlias: topic).id }
            var sql = DynamicSQL()
            var conditions = ""
            if let topicID {
                let topic = sql.bind(topicID)
                sql.append(
                    "WITH RECURSIVE topics(id) AS (SELECT \(topic)::bigint UNION SELECT topic.id FROM topic JOIN topics ON topic.parentId = topics.id) "
                )
                conditions +=
                    " AND EXISTS (SELECT 1 FROM skill WHERE skill.employeeId = employee.id AND skill.topicId IN (SELECT id FROM topics) AND skill.level >= \(sql.bind(filter.minimumLevel)))"
            }
            if let text = filter.query?.trimmingWhitespace(), !text.isEmpty {
                // `q`: a case-insensitive prefix of the name or of the handle.
                let name = Self.nocase("employee.name")
                conditions += """
                     AND (\(name) >= \(Self.nocase(sql.bind(text))) AND \(name) < \(Self.nocase(sql.bind(text + "\u{10FFFF}")))
                        OR employee.handle COLLATE "C" >= \(sql.bind(text.lowercased())) AND employee.handle COLLATE "C" < \(sql.bind(text.lowercased() + "\u{10FFFF}")))
                    """
            }
            if let root {
                let path = try await db.value("SELECT orgPath FROM employee WHERE id = \(root)", String.self) ?? ""
                let (lower, upper) = Self.subtreeRange(path)
                conditions += " AND employee.orgPath COLLATE \"C\" > \(sql.bind(lower)) AND employee.orgPath COLLATE \"C\" < \(sql.bind(upper))"
            }
            conditions += Self.after(page.after.map { (name: $0.keys[0], handle: $0.keys[1]) }, &sql)
            let active = sql.bind(filter.isActive)
            let limit = sql.bind(page.limit + 1)
            sql.append(
                """
                SELECT \(Self.summaryColumns), NULL::bigint
                FROM employee LEFT JOIN employee AS manager ON manager.id = employee.managerId
                WHERE employee.isActive = \(active)\(conditions)
                ORDER BY \(Self.nocase("employee.name")), employee.handle COLLATE "C"
                LIMIT \(limit)
                """)
            let rows = try await db.rows(sql.query, Self.summary)
            return ListPage(rows: rows, limit: page.limit, list: .employees) { [$0.employee.name, $0.employee.handle] }
        }
    }

    public func reports(of handle: String, isActive: Bool, by caller: Caller, page: PageRequest) async throws -> ListPage<EmployeeSummary> {
        if case .bot = caller.identity { try DirectoryPolicy.authorize(caller, to: .readEmployee(.unrelated)) }
        // Without a transaction: the manager's id never changes, and whether the caller may read them is decided at a
        // moment either way; the page is then one statement.
        return try await database.readingWithoutSnapshot { db in
            let manager = try await Self.employeeRow(db, handle: handle)
            try DirectoryPolicy.authorize(caller, to: .readEmployee(try await Self.relation(db, of: manager, to: caller)))
            var sql = DynamicSQL()
            let managerID = sql.bind(manager.id)
            let active = sql.bind(isActive)
            let after = Self.after(page.after.map { (name: $0.keys[0], handle: $0.keys[1]) }, &sql)
            let limit = sql.bind(page.limit + 1)
            // Each with the number of active people below them as the org-path triggers keep it, so the CEO's page reads
            // eight rows, not the company.
            sql.append(
                """
                SELECT \(Self.summaryColumns), employee.peopleBelow
                FROM employee LEFT JOIN employee AS manager ON manager.id = employee.managerId
                WHERE employee.managerId = \(managerID) AND employee.isActive = \(active)\(after)
                ORDER BY \(Self.nocase("employee.name")), employee.handle COLLATE "C"
                LIMIT \(limit)
                """)
            let rows = try await db.rows(sql.query, Self.summary)
            return ListPage(rows: rows, limit: page.limit, list: .reports) { [$0.employee.name, $0.employee.handle] }
        }
    }

    /// SQLite's `COLLATE NOCASE` of an expression: A to Z folded, then compared bytewise.
    static func nocase(_ expression: String) -> String {
        "(nocase(\(expression)) COLLATE \"C\")"
    }

    /// The columns every employee list reads, from `employee` and its `manager`, in `summary`'s order (then `below`).
    static let summaryColumns = """
        employee.handle, employee.name, employee.email, employee.imId, employee.isAdmin, employee.isActive,
        employee.timeZone, employee.workingHours, manager.handle,
        (SELECT count(*) FROM employee AS report WHERE report.managerId = employee.id)
        """

    static func summary(_ row: PostgresRow) throws -> EmployeeSummary {
        let (handle, name, email, imID, isAdmin, isActive, timeZone, workingHours, managerHandle, directReports, below) = try row.decode(
            (String, String, String, String?, Bool, Bool, String?, String?, String?, Int, Int?).self)
        return EmployeeSummary(
            employee: Employee(
                handle: handle, name: name, email: email, imID: imID, managerHandle: managerHandle, isAdmin: isAdmin, isActive: isActive,
                timeZone: timeZone, workingHours: WorkingHours(stored: workingHours)),
            directReportCount: directReports, belowCount: below)
    }

    /// The (name, handle) position to resume after.
    static func after(_ position: (name: String, handle: String)?, _ sql: inout DynamicSQL) -> String {
        guard let (name, handle) = position else { return "" }
        let boundName = sql.bind(name)
        let boundHandle = sql.bind(handle)
        return " AND (\(nocase("employee.name")), employee.handle COLLATE \"C\") > (\(nocase(boundName)), \(boundHandle) COLLATE \"C\")"
    }
}
