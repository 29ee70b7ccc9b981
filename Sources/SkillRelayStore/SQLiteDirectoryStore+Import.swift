import Foundation
import GRDB
import SkillRelayDomain

extension SQLiteDirectoryStore {
    /// Upserts employees by handle, topics by slug (their aliases replaced by the file's) and skills by employee and
    /// topic, in one transaction. Every problem found is collected; if there is any, the transaction rolls back.
    public func importDirectory(_ batch: ImportBatch, by caller: Caller) async throws -> ImportSummary {
        try DirectoryPolicy.authorize(caller, to: .importDirectory)
        return try await database.write { db in
            // A large import changes more pages than SQLite's default cache (2 MiB) holds: spilled to the WAL before the
            // commit, they are written (and read back) again and again. A cache as large as the change, for this
            // transaction only.
            try db.execute(sql: "PRAGMA cache_size = -\(Self.importCacheKiB(batch))")
            defer { try? db.execute(sql: "PRAGMA cache_size = -2000") }
            var run = ImportRun(db: db, now: clock.now())
            try run.importEmployees(batch.employees)
            try run.importTopics(batch.topics)
            try run.importSkills(batch.skills)
            guard run.problems.isEmpty else { throw ImportFailure(problems: run.problems) }
            let summary = ImportSummary(employees: batch.employees.count, topics: batch.topics.count, skills: batch.skills.count)
            try audit(
                db, by: caller, entity: "directory", key: "import", action: "import", before: nil,
                after: ["employees": String(summary.employees), "topics": String(summary.topics), "skills": String(summary.skills)])
            return summary
        }
    }
}

extension SQLiteDirectoryStore {
    /// The page cache an import gets, in KiB: about 160 bytes a row (with its index entries), from 2 MiB (SQLite's
    /// default) to 512 MiB.
    package static func importCacheKiB(_ batch: ImportBatch) -> Int {
        let rows = batch.employees.count + batch.topics.count + batch.skills.count
        return min(512 * 1024, max(2000, rows * 160 / 1024))
    }
}

/// One import inside its transaction: the id maps it builds as it goes, and the problems it finds.
private struct ImportRun {
    let db: Database
    let now: Date
    var problems: [ImportProblem] = []

    init(db: Database, now: Date) {
        self.db = db
        self.now = now
    }

    private mutating func problem(_ file: ImportBatch.File, _ line: Int, _ message: String) {
        problems.append(ImportProblem(file: file.rawValue, line: line, message: message))
    }

    // MARK: - Employees

    mutating func importEmployees(_ rows: [ImportBatch.EmployeeRow]) throws {
        guard !rows.isEmpty else { return }
        let upsert = try db.cachedStatement(
            sql: """
                INSERT INTO employee (handle, name, email, imId, isAdmin, isActive, timeZone, workingHours, createdAt, updatedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (handle) DO UPDATE SET name = excluded.name, email = excluded.email, imId = excluded.imId,
                    isAdmin = excluded.isAdmin, isActive = excluded.isActive, timeZone = excluded.timeZone,
                    workingHours = excluded.workingHours, updatedAt = excluded.updatedAt
                """)
        var imIDOwner = Dictionary(
            try Row.fetchAll(db, sql: "SELECT handle, imId FROM employee WHERE imId IS NOT NULL").map {
                ($0["imId"] as String, $0["handle"] as String)
            },
            uniquingKeysWith: { first, _ in first })
        let updatedAt = now.storedValue
        for row in rows {
            let employee = row.employee
            if let imID = employee.imID {
                if let owner = imIDOwner[imID], owner != employee.handle {
                    problem(.employees, row.line, "IM id '\(imID)' already belongs to '\(owner)'")
                    continue
                }
                imIDOwner[imID] = employee.handle
            }
            upsert.setUncheckedArguments([
                employee.handle, employee.name, employee.email, employee.imID, employee.isAdmin, employee.isActive, employee.timeZone,
                employee.workingHours?.description, updatedAt, updatedAt,
            ])
            try upsert.execute()
        }
        let ids = try employeeIDs()
        let setManager = try db.cachedStatement(sql: "UPDATE employee SET managerId = ? WHERE id = ?")
        for row in rows {
            guard let id = ids[row.employee.handle] else { continue }
            var managerID: Int64?
            if let manager = row.employee.managerHandle {
                managerID = ids[manager]
                if managerID == nil { problem(.employees, row.line, "unknown manager '\(manager)'") }
            }
            setManager.setUncheckedArguments([managerID, id])
            try setManager.execute()
        }
        // With every manager set, walk up from each imported employee: coming back to them is a cycle.
        let managerOf = Dictionary(
            try Row.fetchAll(db, sql: "SELECT id, managerId FROM employee WHERE managerId IS NOT NULL").map {
                ($0["id"] as Int64, $0["managerId"] as Int64)
            },
            uniquingKeysWith: { first, _ in first })
        for row in rows {
            guard let id = ids[row.employee.handle], Self.isOnCycle(id, parentOf: managerOf) else { continue }
            problem(.employees, row.line, "'\(row.employee.handle)' would be above themselves in the org chart (manager cycle)")
        }
    }

    // MARK: - Topics

    mutating func importTopics(_ rows: [ImportBatch.TopicRow]) throws {
        guard !rows.isEmpty else { return }
        let existingAliases = Set(try String.fetchAll(db, sql: "SELECT alias FROM topicAlias"))
        let upsert = try db.cachedStatement(
            sql: """
                INSERT INTO topic (slug, name, description, createdAt, updatedAt) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (slug) DO UPDATE SET name = excluded.name, description = excluded.description, updatedAt = excluded.updatedAt
                """)
        for row in rows {
            if existingAliases.contains(row.topic.slug) {
                problem(.topics, row.line, "slug '\(row.topic.slug)' is already an alias of another topic")
                continue
            }
            try upsert.execute(arguments: [row.topic.slug, row.topic.name, row.topic.description, now, now])
        }
        let ids = try topicIDs()
        let setParent = try db.cachedStatement(sql: "UPDATE topic SET parentId = ? WHERE id = ?")
        for row in rows {
            guard let id = ids[row.topic.slug] else { continue }
            var parentID: Int64?
            if let parent = row.topic.parentSlug {
                parentID = ids[parent]
                if parentID == nil { problem(.topics, row.line, "unknown parent topic '\(parent)'") }
            }
            try setParent.execute(arguments: [parentID, id])
        }
        let parentOf = Dictionary(
            try Row.fetchAll(db, sql: "SELECT id, parentId FROM topic WHERE parentId IS NOT NULL").map {
                ($0["id"] as Int64, $0["parentId"] as Int64)
            },
            uniquingKeysWith: { first, _ in first })
        for row in rows {
            guard let id = ids[row.topic.slug], Self.isOnCycle(id, parentOf: parentOf) else { continue }
            problem(.topics, row.line, "'\(row.topic.slug)' would be its own ancestor (topic cycle)")
        }
        // The file's aliases replace each imported topic's: remove them all first, so an alias may move between topics.
        let importedIDs = rows.compactMap { ids[$0.topic.slug] }
        try TopicAliasRecord.filter(importedIDs.contains(TopicAliasRecord.Columns.topicId)).deleteAll(db)
        var aliasOwner = Dictionary(
            try Row.fetchAll(db, sql: "SELECT topicAlias.alias, topic.slug FROM topicAlias JOIN topic ON topic.id = topicAlias.topicId")
                .map { ($0["alias"] as String, $0["slug"] as String) },
            uniquingKeysWith: { first, _ in first })
        for row in rows {
            guard let id = ids[row.topic.slug] else { continue }
            for alias in row.topic.aliases {
                if ids[alias] != nil {
                    problem(.topics, row.line, "alias '\(alias)' is already the slug of a topic")
                } else if let owner = aliasOwner[alias] {
                    problem(.topics, row.line, "alias '\(alias)' is already an alias of '\(owner)'")
                } else {
                    aliasOwner[alias] = row.topic.slug
                    try TopicAliasRecord(alias: alias, topicId: id).insert(db)
                }
            }
        }
    }

    // MARK: - Skills

    mutating func importSkills(_ rows: [ImportBatch.SkillRow]) throws {
        guard !rows.isEmpty else { return }
        let employees = try employeeIDs()
        var topics = try topicIDs()
        for row in try Row.fetchAll(db, sql: "SELECT alias, topicId FROM topicAlias") { topics[row["alias"]] = row["topicId"] }
        // Into an empty skills table (a first import) a plain insert: an upsert keeps a statement journal for each row.
        let isEmpty = try !Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM skill)")!
        let upsert = try db.cachedStatement(
            sql: """
                INSERT INTO skill (employeeId, topicId, level, source, taggedById, taggedAt) VALUES (?, ?, ?, 'import', NULL, ?)
                """
                    + (isEmpty
                        ? ""
                        : """
                         ON CONFLICT (employeeId, topicId) DO UPDATE SET level = excluded.level, source = 'import', taggedById = NULL,
                            taggedAt = excluded.taggedAt
                        """))
        struct Pair: Hashable {
            var employee: Int64
            var topic: Int64
        }
        var seen: [Pair: Int] = [:]
        seen.reserveCapacity(rows.count)
        // Converted once: a Date becomes its text form anew on every conversion.
        let taggedAt = now.storedValue
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
            // Four values of known types for four placeholders: no need for GRDB to check them a million times.
            upsert.setUncheckedArguments([employee, topic, row.level, taggedAt])
            try upsert.execute()
        }
    }

    // MARK: - Helpers

    private func employeeIDs() throws -> [String: Int64] {
        Dictionary(
            try Row.fetchAll(db, sql: "SELECT handle, id FROM employee").map { ($0["handle"], $0["id"]) }, uniquingKeysWith: { first, _ in first })
    }

    private func topicIDs() throws -> [String: Int64] {
        Dictionary(try Row.fetchAll(db, sql: "SELECT slug, id FROM topic").map { ($0["slug"], $0["id"]) }, uniquingKeysWith: { first, _ in first })
    }

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
