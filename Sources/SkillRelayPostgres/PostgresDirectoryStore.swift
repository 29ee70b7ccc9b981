import Foundation
import Logging
import PostgresNIO
import SkillRelayDomain

/// The skills directory kept in PostgreSQL: `SQLiteDirectoryStore`'s behaviour, statement for statement where the
/// dialects allow. Each public method is one transaction that checks `DirectoryPolicy` against the facts it reads;
/// changes hold the database's write lock, so a rule cannot be raced past by another instance either.
///
/// Text is compared and ordered `COLLATE "C"` (bytewise, as SQLite's BINARY), so that slugs, handles and names sort the
/// same on both stores whatever collation the database was created with.
public struct PostgresDirectoryStore: Sendable {
    let database: PostgresAppDatabase
    let clock: any WallClock
    /// Up to how many people below, a team search or topic filter reads the whole subtree rather than an index of the
    /// company (the full-text index, or the topic's tags) kept to those below.
    public var teamScanLimit = 2000

    public init(database: PostgresAppDatabase, clock: any WallClock = SystemWallClock()) {
        self.database = database
        self.clock = clock
    }

    public func checkHealth() async throws {
        _ = try await database.reading { db in try await db.value("SELECT 1", Int.self) }
    }

    // MARK: - Shared lookups

    /// What makes a manager, as SQL: someone active reports to the employee whose id `employeeID` names (a column such
    /// as `employee.id`, or a placeholder).
    static func hasActiveReports(_ employeeID: String) -> String {
        "EXISTS (SELECT 1 FROM employee AS report WHERE report.managerId = \(employeeID) AND report.isActive)"
    }

    /// An employee as a caller, with the roles the directory gives them now; `nil` for someone inactive.
    static func caller(_ db: PostgresStatements, employee: EmployeeRow) async throws -> Caller? {
        guard employee.isActive else { return nil }
        let isManager = try await db.value(PostgresQuery(unsafeSQL: "SELECT " + hasActiveReports("$1"), binds: binds(employee.id)), Bool.self)
        return Caller(identity: .employee(employee.handle), isAdmin: employee.isAdmin, isManager: isManager ?? false)
    }

    static func binds(_ value: Int64) -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(value)
        return binds
    }

    /// The employee with a handle, if there is one.
    static func employeeRowIfAny(_ db: PostgresStatements, handle: String) async throws -> EmployeeRow? {
        try await db.row("SELECT \(unescaped: EmployeeRow.columns) FROM employee WHERE handle = \(handle)", EmployeeRow.init)
    }

    /// The employee with a handle, or `employeeNotFound`.
    static func employeeRow(_ db: PostgresStatements, handle: String) async throws -> EmployeeRow {
        guard let row = try await employeeRowIfAny(db, handle: handle) else { throw DirectoryError.employeeNotFound(handle) }
        return row
    }

    /// The employee with an id.
    static func employeeRow(_ db: PostgresStatements, id: Int64) async throws -> EmployeeRow? {
        try await db.row("SELECT \(unescaped: EmployeeRow.columns) FROM employee WHERE id = \(id)", EmployeeRow.init)
    }

    /// The topic named by a slug or alias (case-insensitive), or `topicNotFound`.
    static func topicRow(_ db: PostgresStatements, slugOrAlias: String) async throws -> TopicRow {
        let key = slugOrAlias.lowercased()
        let row = try await db.row(
            """
            SELECT \(unescaped: TopicRow.columns) FROM topic WHERE slug = \(key)
            UNION ALL
            SELECT \(unescaped: TopicRow.qualifiedColumns) FROM topicAlias JOIN topic ON topic.id = topicAlias.topicId WHERE topicAlias.alias = \(key)
            LIMIT 1
            """, TopicRow.init)
        guard let row else { throw DirectoryError.topicNotFound(slugOrAlias) }
        return row
    }

    /// The topic with an id.
    static func topicRow(_ db: PostgresStatements, id: Int64) async throws -> TopicRow? {
        try await db.row("SELECT \(unescaped: TopicRow.columns) FROM topic WHERE id = \(id)", TopicRow.init)
    }

    /// Whether a name is in use as a topic's slug or alias.
    static func isTopicNameTaken(_ db: PostgresStatements, _ name: String) async throws -> Bool {
        try await db.value(
            "SELECT EXISTS (SELECT 1 FROM topic WHERE slug = \(name)) OR EXISTS (SELECT 1 FROM topicAlias WHERE alias = \(name))", Bool.self)
            ?? false
    }

    /// How `target` stands to the caller in the org chart.
    static func relation(_ db: PostgresStatements, of target: EmployeeRow, to caller: Caller) async throws -> DirectoryPolicy.Relation {
        guard let handle = caller.handle else { return .unrelated }
        if handle == target.handle { return .themselves }
        // UNION (not UNION ALL) stops at a repeated row, so even a corrupt chart with a cycle ends.
        let isBelow = try await db.value(
            """
            WITH RECURSIVE chain(id) AS (
                SELECT managerId FROM employee WHERE id = \(target.id)
                UNION
                SELECT employee.managerId FROM employee JOIN chain ON employee.id = chain.id
            )
            SELECT EXISTS (SELECT 1 FROM chain JOIN employee ON employee.id = chain.id WHERE employee.handle = \(handle))
            """, Bool.self)
        return isBelow == true ? .belowCaller : .unrelated
    }

    /// The ids of everyone above an employee, nearest first, starting with `managerID` itself.
    static func managerChain(_ db: PostgresStatements, startingAt managerID: Int64?) async throws -> [Int64] {
        try await chain(db, table: "employee", parent: "managerId", startingAt: managerID)
    }

    /// The ids of a topic and everything above it, nearest first.
    static func topicAncestry(_ db: PostgresStatements, startingAt topicID: Int64?) async throws -> [Int64] {
        try await chain(db, table: "topic", parent: "parentId", startingAt: topicID)
    }

    /// A row and its ancestors through a parent column, nearest first; stops at a repeated row (a corrupt cycle).
    /// `table` and `parent` are fixed names from this file, never input.
    private static func chain(_ db: PostgresStatements, table: String, parent: String, startingAt id: Int64?) async throws -> [Int64] {
        guard let id else { return [] }
        return try await db.values(
            """
            WITH RECURSIVE chain(id, depth) AS (
                SELECT \(id)::bigint, 0
                UNION
                SELECT \(unescaped: table).\(unescaped: parent), chain.depth + 1 FROM \(unescaped: table) JOIN chain ON \(unescaped: table).id = chain.id
                WHERE \(unescaped: table).\(unescaped: parent) IS NOT NULL AND chain.depth < 10000
            )
            SELECT id FROM chain ORDER BY depth
            """, Int64.self)
    }

    /// Records a change in the audit table.
    func audit(
        _ db: PostgresStatements, by caller: Caller, entity: String, key: String, action: String, before: [String: String]?,
        after: [String: String]?
    ) async throws {
        let before = try before.map(Self.json)
        let after = try after.map(Self.json)
        try await db.execute(
            """
            INSERT INTO auditEntry (at, actor, entity, entityKey, action, before, after)
            VALUES (\(clock.now()), \(caller.auditName), \(entity), \(key), \(action), \(before), \(after))
            """)
    }

    private static func json(_ snapshot: [String: String]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(snapshot), as: UTF8.self)
    }
}

extension PostgresDirectoryStore {
    /// Whether the directory has no employees and no topics yet: a first start.
    public func isEmpty() async throws -> Bool {
        try await database.reading { db in
            try await db.value("SELECT NOT EXISTS (SELECT 1 FROM employee) AND NOT EXISTS (SELECT 1 FROM topic)", Bool.self) ?? true
        }
    }
}

// MARK: - Rows

/// A row of `employee`, the columns the store reads.
struct EmployeeRow: Sendable {
    static let columns = "id, handle, name, email, imId, managerId, isAdmin, isActive, timeZone, workingHours"

    var id: Int64
    var handle: String
    var name: String
    var email: String
    var imId: String?
    var managerId: Int64?
    var isAdmin: Bool
    var isActive: Bool
    var timeZone: String?
    var workingHours: String?

    init(_ row: PostgresRow) throws {
        (id, handle, name, email, imId, managerId, isAdmin, isActive, timeZone, workingHours) = try row.decode(
            (Int64, String, String, String, String?, Int64?, Bool, Bool, String?, String?).self)
    }
}

/// A row of `topic`, the columns the store reads.
struct TopicRow: Sendable {
    static let columns = "id, slug, name, description, parentId"
    static let qualifiedColumns = "topic.id, topic.slug, topic.name, topic.description, topic.parentId"

    var id: Int64
    var slug: String
    var name: String
    var description: String
    var parentId: Int64?

    init(_ row: PostgresRow) throws {
        (id, slug, name, description, parentId) = try row.decode((Int64, String, String, String, Int64?).self)
    }
}

extension PostgresDirectoryStore: DirectoryStore {}
