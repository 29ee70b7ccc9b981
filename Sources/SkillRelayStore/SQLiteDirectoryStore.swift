import Foundation
import GRDB
import SkillRelayDomain

/// The skills directory kept in SQLite. Each public method is one transaction that checks `DirectoryPolicy` against
/// the facts it reads, so a rule cannot be raced past.
public struct SQLiteDirectoryStore: DirectoryStore {
    let database: AppDatabase
    let clock: any WallClock
    /// Up to how many people below, a team search or topic filter reads the whole subtree rather than an index of the
    /// company (the full-text index, or the topic's tags) kept to those below.
    public var teamScanLimit = 2000

    public init(database: AppDatabase, clock: any WallClock = SystemWallClock()) {
        self.database = database
        self.clock = clock
    }

    var writer: any DatabaseWriter { database.writer }

    public func checkHealth() async throws {
        _ = try await database.read { db in try Int.fetchOne(db, sql: "SELECT 1") }
    }

    // MARK: - Shared lookups

    /// What makes a manager, as SQL: someone active reports to the employee whose id `employeeID` names (a column such
    /// as `employee.id`, or `?`).
    static func hasActiveReports(_ employeeID: String) -> String {
        "EXISTS (SELECT 1 FROM employee AS report WHERE report.managerId = \(employeeID) AND report.isActive)"
    }

    /// An employee as a caller, with the roles the directory gives them now; `nil` for someone inactive.
    static func caller(_ db: Database, employee: EmployeeRecord) throws -> Caller? {
        guard employee.isActive, let id = employee.id else { return nil }
        let isManager = try Bool.fetchOne(db.cachedStatement(sql: "SELECT " + hasActiveReports("?")), arguments: [id]) ?? false
        return Caller(identity: .employee(employee.handle), isAdmin: employee.isAdmin, isManager: isManager)
    }

    /// The employee with a handle, or `employeeNotFound`.
    static func employeeRecord(_ db: Database, handle: String) throws -> EmployeeRecord {
        // A cached statement: the ask path looks up every specialist of a wave.
        guard let record = try EmployeeRecord.fetchOne(db.cachedStatement(sql: "SELECT * FROM employee WHERE handle = ?"), arguments: [handle]) else {
            throw DirectoryError.employeeNotFound(handle)
        }
        return record
    }

    /// The topic named by a slug or alias (case-insensitive), or `topicNotFound`.
    static func topicRecord(_ db: Database, slugOrAlias: String) throws -> TopicRecord {
        let key = slugOrAlias.lowercased()
        let record = try TopicRecord.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT * FROM topic WHERE slug = ?
                    UNION ALL
                    SELECT topic.* FROM topicAlias JOIN topic ON topic.id = topicAlias.topicId WHERE topicAlias.alias = ?
                    LIMIT 1
                    """), arguments: [key, key])
        guard let record else { throw DirectoryError.topicNotFound(slugOrAlias) }
        return record
    }

    /// Whether a name is in use as a topic's slug or alias.
    static func isTopicNameTaken(_ db: Database, _ name: String) throws -> Bool {
        try Bool.fetchOne(
            db,
            sql: "SELECT EXISTS (SELECT 1 FROM topic WHERE slug = ?) OR EXISTS (SELECT 1 FROM topicAlias WHERE alias = ?)",
            arguments: [name, name]) ?? false
    }

    /// How `target` stands to the caller in the org chart.
    static func relation(_ db: Database, of target: EmployeeRecord, to caller: Caller) throws -> DirectoryPolicy.Relation {
        guard let handle = caller.handle else { return .unrelated }
        if handle == target.handle { return .themselves }
        guard let targetID = target.id else { return .unrelated }
        // UNION (not UNION ALL) stops at a repeated row, so even a corrupt chart with a cycle ends.
        let isBelow = try Bool.fetchOne(
            db,
            sql: """
                WITH RECURSIVE chain(id) AS (
                    SELECT managerId FROM employee WHERE id = ?
                    UNION
                    SELECT employee.managerId FROM employee JOIN chain ON employee.id = chain.id
                )
                SELECT EXISTS (SELECT 1 FROM chain JOIN employee ON employee.id = chain.id WHERE employee.handle = ?)
                """, arguments: [targetID, handle])
        return isBelow == true ? .belowCaller : .unrelated
    }

    /// The ids of everyone above an employee, nearest first, starting with `managerID` itself.
    static func managerChain(_ db: Database, startingAt managerID: Int64?) throws -> [Int64] {
        try chain(db, table: "employee", parent: "managerId", startingAt: managerID)
    }

    /// The ids of a topic and everything above it, nearest first.
    static func topicAncestry(_ db: Database, startingAt topicID: Int64?) throws -> [Int64] {
        try chain(db, table: "topic", parent: "parentId", startingAt: topicID)
    }

    /// A row and its ancestors through a parent column, nearest first; stops at a repeated row (a corrupt cycle).
    private static func chain(_ db: Database, table: String, parent: String, startingAt id: Int64?) throws -> [Int64] {
        guard let id else { return [] }
        let table = SQL(sql: table.quotedDatabaseIdentifier)
        let parent = SQL(sql: parent.quotedDatabaseIdentifier)
        return try Int64.fetchAll(
            db,
            SQLRequest(
                literal: """
                    WITH RECURSIVE chain(id, depth) AS (
                        SELECT \(id), 0
                        UNION
                        SELECT \(table).\(parent), chain.depth + 1 FROM \(table) JOIN chain ON \(table).id = chain.id
                        WHERE \(table).\(parent) IS NOT NULL AND chain.depth < 10000
                    )
                    SELECT id FROM chain ORDER BY depth
                    """))
    }

    /// Records a change in the audit table.
    func audit(
        _ db: Database, by caller: Caller, entity: String, key: String, action: String, before: [String: String]?,
        after: [String: String]?
    ) throws {
        var entry = AuditRecord(
            at: clock.now(), actor: caller.auditName, entity: entity, entityKey: key, action: action,
            before: try before.map(Self.json), after: try after.map(Self.json))
        try entry.insert(db)
    }

    private static func json(_ snapshot: [String: String]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(snapshot), as: UTF8.self)
    }
}

extension SQLiteDirectoryStore {
    /// Whether the directory has no employees and no topics yet: a first start.
    public func isEmpty() async throws -> Bool {
        try await database.read { db in try EmployeeRecord.fetchCount(db) == 0 && TopicRecord.fetchCount(db) == 0 }
    }
}
