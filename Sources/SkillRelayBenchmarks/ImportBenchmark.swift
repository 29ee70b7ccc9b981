import Foundation
import SkillRelayDomain
import SkillRelayStore

/// Figure 1: importing a synthetic company, against the raw C API inserting the same rows in one transaction.
enum ImportBenchmark {
    struct Result {
        var skillRelayWithParse: [Duration] = []
        var skillRelayInsert: [Duration] = []
        var raw: [Duration] = []
        var rawSameCache: [Duration] = []
    }

    static func run(directory: String, scratch: URL, runs: Int) async throws -> Result {
        var result = Result()
        let batch = try ImportFiles.read(directory: directory)
        for run in 0..<runs {
            // SkillRelay, reading and checking the CSV files and upserting them.
            let parsedPath = scratch.appendingPathComponent("import-parse-\(run).sqlite").path
            let parsedStore = SQLiteDirectoryStore(database: try AppDatabase.open(path: parsedPath))
            result.skillRelayWithParse.append(
                try await Measurement.time {
                    _ = try await parsedStore.importDirectory(try ImportFiles.read(directory: directory), by: .cliOperator)
                })
            // SkillRelay, from rows already parsed: the store's share alone.
            let insertPath = scratch.appendingPathComponent("import-insert-\(run).sqlite").path
            let insertStore = SQLiteDirectoryStore(database: try AppDatabase.open(path: insertPath))
            result.skillRelayInsert.append(try await Measurement.time { _ = try await insertStore.importDirectory(batch, by: .cliOperator) })
            // Raw C API: the same rows into the same schema, prepared statements, one transaction.
            let rawPath = scratch.appendingPathComponent("import-raw-\(run).sqlite").path
            _ = try AppDatabase.open(path: rawPath)
            let raw = try RawSQLite(path: rawPath)
            result.raw.append(try await Measurement.time { try insertRaw(batch, into: raw) })
            // Raw C API again, with the page cache SkillRelay's import sets for itself.
            let cachedPath = scratch.appendingPathComponent("import-raw-cache-\(run).sqlite").path
            _ = try AppDatabase.open(path: cachedPath)
            let cached = try RawSQLite(path: cachedPath)
            try cached.execute("PRAGMA cache_size = -\(SQLiteDirectoryStore.importCacheKiB(batch))")
            result.rawSameCache.append(try await Measurement.time { try insertRaw(batch, into: cached) })
        }
        return result
    }

    static func insertRaw(_ batch: ImportBatch, into raw: RawSQLite) throws {
        let now = "2026-11-26 00:00:00.000"
        try raw.execute("BEGIN IMMEDIATE")
        let employee = try raw.prepare(
            "INSERT INTO employee (handle, name, email, imId, isAdmin, isActive, createdAt, updatedAt) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
        var employeeIDs: [String: Int64] = [:]
        for row in batch.employees {
            let e = row.employee
            employee.bind([e.handle, e.name, e.email, e.imID, e.isAdmin, e.isActive, now, now])
            employee.run()
            employeeIDs[e.handle] = raw.lastInsertedRowID
        }
        let manager = try raw.prepare("UPDATE employee SET managerId = ? WHERE id = ?")
        for row in batch.employees {
            guard let handle = row.employee.managerHandle else { continue }
            manager.bind([employeeIDs[handle], employeeIDs[row.employee.handle]])
            manager.run()
        }
        let topic = try raw.prepare("INSERT INTO topic (slug, name, description, createdAt, updatedAt) VALUES (?, ?, ?, ?, ?)")
        var topicIDs: [String: Int64] = [:]
        for row in batch.topics {
            topic.bind([row.topic.slug, row.topic.name, row.topic.description, now, now])
            topic.run()
            topicIDs[row.topic.slug] = raw.lastInsertedRowID
        }
        let parent = try raw.prepare("UPDATE topic SET parentId = ? WHERE id = ?")
        let alias = try raw.prepare("INSERT INTO topicAlias (alias, topicId) VALUES (?, ?)")
        for row in batch.topics {
            if let slug = row.topic.parentSlug {
                parent.bind([topicIDs[slug], topicIDs[row.topic.slug]])
                parent.run()
            }
            for name in row.topic.aliases {
                alias.bind([name, topicIDs[row.topic.slug]])
                alias.run()
                topicIDs[name] = topicIDs[row.topic.slug]
            }
        }
        let skill = try raw.prepare("INSERT INTO skill (employeeId, topicId, level, source, taggedAt) VALUES (?, ?, ?, 'import', ?)")
        for row in batch.skills {
            skill.bind([employeeIDs[row.handle], topicIDs[row.topic], row.level, now])
            skill.run()
        }
        try raw.execute("COMMIT")
    }
}
