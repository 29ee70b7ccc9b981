import Foundation
import GRDB
import SkillRelayDomain

// MARK: - Listing employees, a page at a time

/// Lists are in (name case-insensitively, handle) order, each page resuming after the last (name, handle) shown, with
/// every query reading at most `limit + 1` employees from an index range, plus a bounded number of index lookups:
///
/// - Without a filter that picks out people, the page is a range of `employeeByActiveName`.
/// - A filter (`q`, the people below a manager, a topic) picks out a set. Each set is first counted, stopping at
///   `smallSet`: when one holds fewer, the page is read from that set and sorted (at most `smallSet` rows); when every
///   set is larger, the page walks `employeeByActiveName` in order and checks each filter per row, which finds a page
///   after about `(limit + 1) × employees / smallSet` rows at most for one filter. "Below a manager" is one range of
///   the org paths (v11), as a set and as a check per row. Two large filters whose intersection is small walk further.
extension SQLiteDirectoryStore {
    /// Below this many people a filter's set is read whole and sorted; above, the name index is walked.
    static let smallSet = 2000

    public func employees(_ filter: EmployeeFilter, by caller: Caller, page: PageRequest) async throws -> ListPage<EmployeeSummary> {
        try DirectoryPolicy.authorize(caller, to: .listEmployees)
        return try await database.read { db in
            // The people the caller may see: an admin everyone, a manager those below them.
            var root: Int64?
            if !caller.isAdmin {
                guard let handle = caller.handle else { throw DirectoryError.forbidden("Bots may only read topics.") }
                root = try Self.employeeRecord(db, handle: handle).id
            }
            if let managerHandle = filter.managerHandle {
                let manager = try Self.employeeRecord(db, handle: managerHandle)
                if !caller.isAdmin {
                    try DirectoryPolicy.authorize(caller, to: .readEmployee(try Self.relation(db, of: manager, to: caller)))
                }
                root = manager.id
            }
            var topicID: Int64?
            if let topic = filter.topic { topicID = try Self.topicRecord(db, slugOrAlias: topic).id }
            var query = EmployeeQuery(
                active: filter.isActive, prefix: filter.query.flatMap(EmployeeQuery.Prefix.init),
                topic: topicID.map { (id: $0, minimumLevel: filter.minimumLevel) },
                after: page.after.map { (name: $0.keys[0], handle: $0.keys[1]) }, limit: page.limit)
            var below: (lower: String, upper: String)?
            if let root {
                let path = try String.fetchOne(db, sql: "SELECT orgPath FROM employee WHERE id = ?", arguments: [root]) ?? ""
                below = Self.subtreeRange(path)
            }
            query.below = below
            let rows = try Row.fetchAll(db, try query.request(db))
            return ListPage(rows: rows.map(Self.summary), limit: page.limit, list: .employees) { [$0.employee.name, $0.employee.handle] }
        }
    }

    public func reports(of handle: String, isActive: Bool, by caller: Caller, page: PageRequest) async throws -> ListPage<EmployeeSummary> {
        if case .bot = caller.identity { try DirectoryPolicy.authorize(caller, to: .readEmployee(.unrelated)) }
        return try await database.read { db in
            let manager = try Self.employeeRecord(db, handle: handle)
            try DirectoryPolicy.authorize(caller, to: .readEmployee(try Self.relation(db, of: manager, to: caller)))
            let after = page.after.map { (name: $0.keys[0], handle: $0.keys[1]) }
            let rows = try Row.fetchAll(db, Self.reportsRequest(of: manager.id!, active: isActive, after: after, limit: page.limit))
            return ListPage(rows: rows.map(Self.summary), limit: page.limit, list: .reports) { [$0.employee.name, $0.employee.handle] }
        }
    }

    /// The columns every employee list reads, from `employee` and its `manager`.
    static var summaryColumns: SQL {
        """
        employee.handle, employee.name, employee.email, employee.imId, employee.isAdmin, employee.isActive,
        employee.timeZone, employee.workingHours, manager.handle AS managerHandle,
        (SELECT count(*) FROM employee AS report WHERE report.managerId = employee.id) AS directReports
        """
    }

    static func summary(_ row: Row) -> EmployeeSummary {
        EmployeeSummary(
            employee: Employee(
                handle: row["handle"], name: row["name"], email: row["email"], imID: row["imId"], managerHandle: row["managerHandle"],
                isAdmin: row["isAdmin"], isActive: row["isActive"], timeZone: row["timeZone"],
                workingHours: WorkingHours(stored: row["workingHours"])),
            directReportCount: row["directReports"], belowCount: row["below"])
    }

    /// The (name, handle) position to resume after, as a range of the name indexes.
    static func after(_ position: (name: String, handle: String)?) -> SQL {
        guard let (name, handle) = position else { return "" }
        // The plain `>=` gives the index range a start; the row value alone would not use the index (its collation).
        return "AND employee.name >= \(name) COLLATE NOCASE AND (employee.name COLLATE NOCASE, employee.handle) > (\(name), \(handle))"
    }

    /// Someone's direct reports after a position, by name: a range of `employeeByManagerName`, each with the number of
    /// active people below them as the org-path triggers keep it (v11), so the CEO's page reads eight rows, not the company.
    static func reportsRequest(of managerID: Int64, active: Bool, after position: (name: String, handle: String)?, limit: Int) -> SQLRequest<Row> {
        SQLRequest(
            literal: """
                SELECT \(summaryColumns), employee.peopleBelow AS below
                FROM employee INDEXED BY employeeByManagerName
                LEFT JOIN employee AS manager ON manager.id = employee.managerId
                WHERE employee.managerId = \(managerID) AND employee.isActive = \(active) \(after(position))
                ORDER BY employee.name COLLATE NOCASE, employee.handle
                LIMIT \(limit + 1)
                """)
    }
}

/// One page of `employees`, as SQL: which set drives it, and the filters as conditions on each row.
struct EmployeeQuery {
    /// `q`: a case-insensitive prefix of the name or of the handle, as two index ranges.
    struct Prefix {
        var text: String
        init?(_ query: String) {
            let text = query.trimmingWhitespace()
            guard !text.isEmpty else { return nil }
            self.text = text
        }
        /// Above every string that starts with the prefix.
        var end: String { text + "\u{10FFFF}" }
        var handle: String { text.lowercased() }
        var handleEnd: String { handle + "\u{10FFFF}" }
    }

    var active: Bool
    /// Only people below one employee: their range of org paths (v11): everyone below it, as one range of `employeeByOrgPath`.
    var below: (lower: String, upper: String)?
    var prefix: Prefix?
    /// Only people with this topic (or a subtopic) at this level or above.
    var topic: (id: Int64, minimumLevel: Int)?
    var after: (name: String, handle: String)?
    var limit: Int
    /// Below this size a filter's set drives the page (see `SQLiteDirectoryStore.smallSet`).
    var smallSet = SQLiteDirectoryStore.smallSet

    /// `topics`: the topic and its subtopics, for the topic filter.
    var topicsWith: SQL {
        guard let topic else { return "" }
        return "WITH RECURSIVE topics(id) AS (SELECT \(topic.id) UNION SELECT topic.id FROM topic JOIN topics ON topic.parentId = topics.id)"
    }

    /// Everyone below the root: one range of `employeeByOrgPath`.
    func belowSet(_ range: (lower: String, upper: String)) -> SQL {
        "SELECT id FROM employee INDEXED BY employeeByOrgPath WHERE orgPath > \(range.lower) AND orgPath < \(range.upper)"
    }

    func prefixSet(_ prefix: Prefix) -> SQL {
        """
        SELECT id FROM employee WHERE isActive = \(active) AND name >= \(prefix.text) COLLATE NOCASE AND name < \(prefix.end) COLLATE NOCASE
        UNION
        SELECT id FROM employee WHERE handle >= \(prefix.handle) AND handle < \(prefix.handleEnd)
        """
    }

    func topicSet(_ minimumLevel: Int) -> SQL {
        "\(topicsWith) SELECT DISTINCT employeeId AS id FROM skill WHERE topicId IN topics AND level >= \(minimumLevel)"
    }

    /// The filters as conditions on an `employee` row.
    var conditions: SQL {
        var parts: [SQL] = []
        if let prefix {
            parts.append(
                """
                (employee.name >= \(prefix.text) COLLATE NOCASE AND employee.name < \(prefix.end) COLLATE NOCASE
                    OR employee.handle >= \(prefix.handle) AND employee.handle < \(prefix.handleEnd))
                """)
        }
        if let below {
            // Below the root: the row's own org path in the root's range, no walk.
            parts.append("(employee.orgPath > \(below.lower) AND employee.orgPath < \(below.upper))")
        }
        if let topic {
            parts.append(
                """
                EXISTS (SELECT 1 FROM skill WHERE skill.employeeId = employee.id AND skill.topicId IN topics AND skill.level >= \(topic.minimumLevel))
                """)
        }
        return parts.map { "AND " + $0 }.joined(separator: " ")
    }

    /// The page, driven by the smallest filter set when one is small, else by the name index.
    func request(_ db: Database) throws -> SQLRequest<Row> {
        var sets: [SQL] = []
        if let below { sets.append(belowSet(below)) }
        if let prefix { sets.append(prefixSet(prefix)) }
        if let topic { sets.append(topicSet(topic.minimumLevel)) }
        var driver: (set: SQL, size: Int)?
        for set in sets {
            let size = try Int.fetchOne(db, SQLRequest<Int>(literal: "SELECT count(*) FROM (\(set) LIMIT \(smallSet))")) ?? 0
            if size < smallSet, size < driver?.size ?? .max { driver = (set, size) }
        }
        if let driver {
            // A small set: read it whole (fewer than `smallSet` rows by key) and sort it.
            return SQLRequest(
                literal: """
                    \(topicsWith)
                    SELECT \(SQLiteDirectoryStore.summaryColumns)
                    FROM (\(driver.set)) AS picked
                    CROSS JOIN employee ON employee.id = picked.id
                    LEFT JOIN employee AS manager ON manager.id = employee.managerId
                    WHERE employee.isActive = \(active) \(SQLiteDirectoryStore.after(after)) \(conditions)
                    ORDER BY employee.name COLLATE NOCASE, employee.handle
                    LIMIT \(limit + 1)
                    """)
        }
        return SQLRequest(
            literal: """
                \(topicsWith)
                SELECT \(SQLiteDirectoryStore.summaryColumns)
                FROM employee INDEXED BY employeeByActiveName
                LEFT JOIN employee AS manager ON manager.id = employee.managerId
                WHERE employee.isActive = \(active) \(SQLiteDirectoryStore.after(after)) \(conditions)
                ORDER BY employee.name COLLATE NOCASE, employee.handle
                LIMIT \(limit + 1)
                """)
    }
}
