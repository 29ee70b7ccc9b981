import Foundation
import PostgresNIO
import SkillRelayDomain

extension PostgresDirectoryStore {
    /// Upserts employees by handle, topics by slug (their aliases replaced by the file's) and skills by employee and
    /// topic, in one transaction. Every problem found is collected; if there is any, the transaction rolls back.
    public func importDirectory(_ batch: ImportBatch, by caller: Caller) async throws -> ImportSummary {
        try DirectoryPolicy.authorize(caller, to: .importDirectory)
        return try await database.writing { db in
            var run = PostgresImportRun(db: db, now: clock.now())
            // Employees load in bulk: the org paths and counts are worked out once, after every row and manager is in.
            if !batch.employees.isEmpty { try await PostgresBulkLoad.start(on: db.connection, logger: db.logger) }
            try await run.importEmployees(batch.employees)
            try await run.importTopics(batch.topics)
            try await run.importSkills(batch.skills)
            guard run.problems.isEmpty else { throw ImportFailure(problems: run.problems) }
            if !batch.employees.isEmpty { try await PostgresBulkLoad.finish(on: db.connection, logger: db.logger) }
            try await Self.gatherStatistics(db, of: batch)
            let summary = ImportSummary(employees: batch.employees.count, topics: batch.topics.count, skills: batch.skills.count)
            try await audit(
                db, by: caller, entity: "directory", key: "import", action: "import", before: nil,
                after: ["employees": String(summary.employees), "topics": String(summary.topics), "skills": String(summary.skills)])
            return summary
        }
    }
}

extension PostgresDirectoryStore {
    /// The planner's statistics for the tables an import wrote to, gathered inside its transaction (ANALYZE counts the
    /// transaction's own new rows) so that they arrive with the rows. Without them the planner guesses until autovacuum
    /// comes round, minutes later on a busy cluster: on the 100k company a team page's skills were read by hashing every
    /// employee (24 ms) instead of through the index (1 ms).
    static func gatherStatistics(_ db: PostgresStatements, of batch: ImportBatch) async throws {
        var tables: [String] = []
        if !batch.employees.isEmpty { tables.append("employee") }
        if !batch.topics.isEmpty { tables += ["topic", "topicAlias"] }
        if !batch.skills.isEmpty { tables.append("skill") }
        guard !tables.isEmpty else { return }
        try await db.execute("ANALYZE \(unescaped: tables.joined(separator: ", "))")
    }
}

/// One import inside its transaction: the id maps it builds as it goes, and the problems it finds. The checks are
/// SQLiteDirectoryStore's, row by row in file order; the writes go in batches (arrays bound once, `unnest`ed), managers
/// too: the import is a bulk load (`PostgresBulkLoad`), so no trigger works out a path or count per move.
private struct PostgresImportRun {
    let db: PostgresStatements
    let now: Date
    var problems: [ImportProblem] = []

    /// Rows per statement when writing in batches: a bound array is one message, kept to a few MiB.
    static let chunk = 10_000

    /// Sets each row's parent (`column` of `table`, a fixed name: the manager, the parent topic; `nil` for none), one
    /// statement per `chunk` rows.
    func setParents(of table: String, column: String, _ changes: [(id: Int64, parent: Int64?)]) async throws {
        for start in stride(from: 0, to: changes.count, by: Self.chunk) {
            let part = changes[start..<min(start + Self.chunk, changes.count)]
            try await db.execute(
                """
                UPDATE \(unescaped: table) SET \(unescaped: column) = CASE WHEN change.hasParent THEN change.parent END
                FROM unnest(\(part.map(\.id))::bigint[], \(part.map { $0.parent ?? 0 })::bigint[], \(part.map { $0.parent != nil })::boolean[])
                    AS change(id, parent, hasParent)
                WHERE \(unescaped: table).id = change.id
                """)
        }
    }

    init(db: PostgresStatements, now: Date) {
        self.db = db
        self.now = now
    }

    private mutating func problem(_ file: ImportBatch.File, _ line: Int, _ message: String) {
        problems.append(ImportProblem(file: file.rawValue, line: line, message: message))
    }

    // MARK: - Employees

    mutating func importEmployees(_ rows: [ImportBatch.EmployeeRow]) async throws {
        guard !rows.isEmpty else { return }
        var imIDOwner = Dictionary(
            try await db.rows("SELECT handle, imId FROM employee WHERE imId IS NOT NULL") { row in
                let (handle, imID) = try row.decode((String, String).self)
                return (imID, handle)
            },
            uniquingKeysWith: { first, _ in first })
        var accepted: [Employee] = []
        for row in rows {
            let employee = row.employee
            if let imID = employee.imID {
                if let owner = imIDOwner[imID], owner != employee.handle {
                    problem(.employees, row.line, "IM id '\(imID)' already belongs to '\(owner)'")
                    continue
                }
                imIDOwner[imID] = employee.handle
            }
            accepted.append(employee)
        }
        for start in stride(from: 0, to: accepted.count, by: Self.chunk) {
            let part = accepted[start..<min(start + Self.chunk, accepted.count)]
            try await db.execute(
                """
                INSERT INTO employee (handle, name, email, imId, isAdmin, isActive, timeZone, workingHours, createdAt, updatedAt)
                SELECT handle, name, email, CASE WHEN hasIMID THEN imId END, isAdmin, isActive, CASE WHEN hasTimeZone THEN timeZone END,
                    CASE WHEN hasHours THEN workingHours END, \(now), \(now)
                FROM unnest(\(part.map(\.handle))::text[], \(part.map(\.name))::text[], \(part.map(\.email))::text[],
                    \(part.map { $0.imID ?? "" })::text[], \(part.map { $0.imID != nil })::boolean[],
                    \(part.map(\.isAdmin))::boolean[], \(part.map(\.isActive))::boolean[],
                    \(part.map { $0.timeZone ?? "" })::text[], \(part.map { $0.timeZone != nil })::boolean[],
                    \(part.map { $0.workingHours?.description ?? "" })::text[], \(part.map { $0.workingHours != nil })::boolean[])
                    WITH ORDINALITY
                    AS row(handle, name, email, imId, hasIMID, isAdmin, isActive, timeZone, hasTimeZone, workingHours, hasHours, position)
                ORDER BY position
                ON CONFLICT (handle) DO UPDATE SET name = excluded.name, email = excluded.email, imId = excluded.imId,
                    isAdmin = excluded.isAdmin, isActive = excluded.isActive, timeZone = excluded.timeZone,
                    workingHours = excluded.workingHours, updatedAt = excluded.updatedAt
                """)
        }
        var managerOf: [Int64: Int64] = [:]
        var ids: [String: Int64] = [:]
        for (id, handle, managerID) in try await db.rows(
            "SELECT id, handle, managerId FROM employee", { try $0.decode((Int64, String, Int64?).self) })
        {
            ids[handle] = id
            managerOf[id] = managerID
        }
        var managerChanges: [(id: Int64, parent: Int64?)] = []
        for row in rows {
            guard let id = ids[row.employee.handle] else { continue }
            var managerID: Int64?
            if let manager = row.employee.managerHandle {
                managerID = ids[manager]
                if managerID == nil { problem(.employees, row.line, "unknown manager '\(manager)'") }
            }
            // Only a real move is written; setting the same manager again changes nothing.
            guard managerOf[id] != managerID else { continue }
            managerChanges.append((id, managerID))
            managerOf[id] = managerID
        }
        try await setParents(of: "employee", column: "managerId", managerChanges)
        // With every manager set, walk up from each imported employee: coming back to them is a cycle.
        let parentOf = managerOf.compactMapValues { $0 }
        for row in rows {
            guard let id = ids[row.employee.handle], Self.isOnCycle(id, parentOf: parentOf) else { continue }
            problem(.employees, row.line, "'\(row.employee.handle)' would be above themselves in the org chart (manager cycle)")
        }
    }

    // MARK: - Topics

    mutating func importTopics(_ rows: [ImportBatch.TopicRow]) async throws {
        guard !rows.isEmpty else { return }
        let existingAliases = Set(try await db.values("SELECT alias FROM topicAlias", String.self))
        var accepted: [Topic] = []
        for row in rows {
            if existingAliases.contains(row.topic.slug) {
                problem(.topics, row.line, "slug '\(row.topic.slug)' is already an alias of another topic")
                continue
            }
            accepted.append(row.topic)
        }
        for start in stride(from: 0, to: accepted.count, by: Self.chunk) {
            let part = accepted[start..<min(start + Self.chunk, accepted.count)]
            try await db.execute(
                """
                INSERT INTO topic (slug, name, description, createdAt, updatedAt)
                SELECT slug, name, description, \(now), \(now)
                FROM unnest(\(part.map(\.slug))::text[], \(part.map(\.name))::text[], \(part.map(\.description))::text[])
                    WITH ORDINALITY AS row(slug, name, description, position)
                ORDER BY position
                ON CONFLICT (slug) DO UPDATE SET name = excluded.name, description = excluded.description, updatedAt = excluded.updatedAt
                """)
        }
        var ids: [String: Int64] = [:]
        var parentOf: [Int64: Int64] = [:]
        for (id, slug, parentID) in try await db.rows("SELECT id, slug, parentId FROM topic", { try $0.decode((Int64, String, Int64?).self) }) {
            ids[slug] = id
            parentOf[id] = parentID
        }
        var parentChanges: [(id: Int64, parent: Int64?)] = []
        for row in rows {
            guard let id = ids[row.topic.slug] else { continue }
            var parentID: Int64?
            if let parent = row.topic.parentSlug {
                parentID = ids[parent]
                if parentID == nil { problem(.topics, row.line, "unknown parent topic '\(parent)'") }
            }
            if parentOf[id] != parentID { parentChanges.append((id, parentID)) }
            parentOf[id] = parentID
        }
        // Topics have no triggers on their parent: one statement sets them all.
        try await setParents(of: "topic", column: "parentId", parentChanges)
        let parents = parentOf.compactMapValues { $0 }
        for row in rows {
            guard let id = ids[row.topic.slug], Self.isOnCycle(id, parentOf: parents) else { continue }
            problem(.topics, row.line, "'\(row.topic.slug)' would be its own ancestor (topic cycle)")
        }
        // The file's aliases replace each imported topic's: remove them all first, so an alias may move between topics.
        let importedIDs = rows.compactMap { ids[$0.topic.slug] }
        try await db.execute("DELETE FROM topicAlias WHERE topicId = ANY(\(importedIDs)::bigint[])")
        var aliasOwner = Dictionary(
            try await db.rows("SELECT topicAlias.alias, topic.slug FROM topicAlias JOIN topic ON topic.id = topicAlias.topicId") {
                try $0.decode((String, String).self)
            },
            uniquingKeysWith: { first, _ in first })
        var newAliases: [(alias: String, topic: Int64)] = []
        for row in rows {
            guard let id = ids[row.topic.slug] else { continue }
            for alias in row.topic.aliases {
                if ids[alias] != nil {
                    problem(.topics, row.line, "alias '\(alias)' is already the slug of a topic")
                } else if let owner = aliasOwner[alias] {
                    problem(.topics, row.line, "alias '\(alias)' is already an alias of '\(owner)'")
                } else {
                    aliasOwner[alias] = row.topic.slug
                    newAliases.append((alias, id))
                }
            }
        }
        for start in stride(from: 0, to: newAliases.count, by: Self.chunk) {
            let part = newAliases[start..<min(start + Self.chunk, newAliases.count)]
            try await db.execute(
                """
                INSERT INTO topicAlias (alias, topicId)
                SELECT alias, topicId FROM unnest(\(part.map(\.alias))::text[], \(part.map(\.topic))::bigint[]) AS row(alias, topicId)
                """)
        }
    }

    // MARK: - Skills

    mutating func importSkills(_ rows: [ImportBatch.SkillRow]) async throws {
        guard !rows.isEmpty else { return }
        var employees: [String: Int64] = [:]
        for (handle, id) in try await db.rows("SELECT handle, id FROM employee", { try $0.decode((String, Int64).self) }) { employees[handle] = id }
        var topics: [String: Int64] = [:]
        for (slug, id) in try await db.rows("SELECT slug, id FROM topic", { try $0.decode((String, Int64).self) }) { topics[slug] = id }
        for (alias, id) in try await db.rows("SELECT alias, topicId FROM topicAlias", { try $0.decode((String, Int64).self) }) { topics[alias] = id }
        struct Pair: Hashable {
            var employee: Int64
            var topic: Int64
        }
        var seen: [Pair: Int] = [:]
        seen.reserveCapacity(rows.count)
        var accepted: [(employee: Int64, topic: Int64, level: Int)] = []
        accepted.reserveCapacity(rows.count)
        for row in rows {
            let employee = employees[row.handle]
            let topic = topics[row.topic]
            if employee == nil { problem(.skills, row.line, "unknown employee '\(row.handle)'") }
            if topic == nil { problem(.skills, row.line, "unknown topic '\(row.topic)'") }
            guard let employee, let topic else { continue }
            if let first = seen[Pair(employee: employee, topic: topic)] {
                problem(.skills, row.line, "'\(row.handle)' is tagged with '\(row.topic)' twice (first on line \(first))")
                continue
            }
            seen[Pair(employee: employee, topic: topic)] = row.line
            accepted.append((employee, topic, row.level))
        }
        // Nothing is written once a problem is known: the transaction rolls back anyway.
        guard problems.isEmpty else { return }
        for start in stride(from: 0, to: accepted.count, by: Self.chunk) {
            let part = accepted[start..<min(start + Self.chunk, accepted.count)]
            try await db.execute(
                """
                INSERT INTO skill (employeeId, topicId, level, source, taggedById, taggedAt)
                SELECT employeeId, topicId, level, 'import', NULL, \(now)
                FROM unnest(\(part.map(\.employee))::bigint[], \(part.map(\.topic))::bigint[], \(part.map(\.level))::integer[])
                    AS row(employeeId, topicId, level)
                ON CONFLICT (employeeId, topicId) DO UPDATE SET level = excluded.level, source = 'import', taggedById = NULL,
                    taggedAt = excluded.taggedAt
                """)
        }
    }

    // MARK: - Helpers

    /// Whether following parents up from `start` comes back to it.
    private static func isOnCycle(_ start: Int64, parentOf: [Int64: Int64]) -> Bool {
        var seen: Set<Int64> = [start]
        var current = parentOf[start]
        while let id = current {
            if id == start { return true }
            if !seen.insert(id).inserted { return false }  // a cycle above, reported for the rows on it
            current = parentOf[id]
        }
        return false
    }
}
