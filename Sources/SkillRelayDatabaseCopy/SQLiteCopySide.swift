import Foundation
import GRDB
import SkillRelayStore

/// A SQLite database as `db copy` reads it (a snapshot: one unchanging view however long the copy takes) or writes it
/// (one connection in one transaction, opened with `BEGIN IMMEDIATE` and left open across the copy's awaits).
struct SQLiteCopySide: CopyWriter {
    enum Access: Sendable {
        case snapshot(DatabaseSnapshot)
        /// A queue opened with `allowsUnsafeTransactions`: the copy's transaction spans many accesses.
        case transaction(DatabaseQueue)
    }

    let access: Access

    private func run<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        switch access {
        case .snapshot(let snapshot): try await snapshot.read(body)
        case .transaction(let queue): try await queue.writeWithoutTransaction(body)
        }
    }

    // MARK: - Opening

    /// The source: an existing file (never created by a copy), migrated like any command migrates it, then a snapshot.
    static func source(path: String) throws -> SQLiteCopySide {
        guard FileManager.default.fileExists(atPath: path) else { throw DatabaseCopyError.noSuchSQLiteFile(path) }
        let pool = try DatabasePool(path: path, configuration: AppDatabase.makeConfiguration())
        _ = try AppDatabase(pool)
        return SQLiteCopySide(access: .snapshot(try pool.makeSnapshot()))
    }

    /// The target, created and migrated if needed, inside a write transaction that `body` runs in: committed when it
    /// returns, rolled back when it throws.
    static func withTarget<T: Sendable>(path: String, _ body: (SQLiteCopySide) async throws -> T) async throws -> T {
        // As every command opens it: the file in WAL mode, migrated.
        _ = try AppDatabase.open(path: path)
        var configuration = AppDatabase.makeConfiguration()
        configuration.allowsUnsafeTransactions = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        try await queue.writeWithoutTransaction { db in try db.execute(sql: "BEGIN IMMEDIATE") }
        do {
            let value = try await body(SQLiteCopySide(access: .transaction(queue)))
            try await queue.writeWithoutTransaction { db in try db.execute(sql: "COMMIT") }
            return value
        } catch {
            try? await queue.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
            throw error
        }
    }

    // MARK: - Catalogue

    func tables() async throws -> Set<String> {
        try await run { db in
            let rows = try Row.fetchAll(db, sql: "SELECT name, coalesce(sql, '') AS sql FROM sqlite_master WHERE type = 'table'")
            // Full-text indexes (virtual tables) and the shadow tables that hold them: triggers rebuild them.
            let virtual = rows.filter { ($0["sql"] as String).uppercased().hasPrefix("CREATE VIRTUAL TABLE") }.map {
                ($0["name"] as String).lowercased()
            }
            return Set(
                rows.map { ($0["name"] as String).lowercased() }.filter { name in
                    !name.hasPrefix("sqlite_") && !virtual.contains { name == $0 || name.hasPrefix($0 + "_") }
                })
        }
    }

    func columns(of table: CopiedTable) async throws -> [CopyColumn] {
        let declared = try await run { db in
            // table_info leaves out generated and hidden columns.
            try Row.fetchAll(db, sql: "SELECT name, type FROM pragma_table_info(?) ORDER BY cid", arguments: [table.name]).map {
                ($0["name"] as String, $0["type"] as String)
            }
        }
        return try declared.map { name, type in
            guard let kind = Self.kind(declared: type) else { throw DatabaseCopyError.unsupportedColumnType(table.name, name, type) }
            return CopyColumn(name: name, kind: kind, typeName: type)
        }
    }

    /// The kind of a declared type, by SQLite's affinity rules refined by the names GRDB declares (`BOOLEAN`, `DATETIME`).
    static func kind(declared: String) -> ColumnKind? {
        let type = declared.uppercased()
        if type.contains("BOOL") { return .boolean }
        if type.contains("DATE") || type.contains("TIME") { return .timestamp }
        if type.contains("INT") { return .integer }
        if type.contains("CHAR") || type.contains("CLOB") || type.contains("TEXT") { return .text }
        if type.isEmpty || type.contains("BLOB") { return .blob }
        if type.contains("REAL") || type.contains("FLOA") || type.contains("DOUB") { return .real }
        return nil
    }

    func count(_ table: CopiedTable) async throws -> Int {
        try await run { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table.name.quotedDatabaseIdentifier)") ?? 0 }
    }

    // MARK: - Rows

    /// Pages by rowid; a `WITHOUT ROWID` table (keyed by its primary key alone) by offset in primary key order, which
    /// the snapshot keeps stable.
    func forEachBatch(
        of table: CopiedTable, columns: [CopyColumn], batchSize: Int, _ body: ([[CopyValue]]) async throws -> Void
    ) async throws {
        let list = columns.map(\.name.quotedDatabaseIdentifier).joined(separator: ", ")
        let name = table.name.quotedDatabaseIdentifier
        let key = try await run { db -> [String]? in
            let sql = try String.fetchOne(
                db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE", arguments: [table.name])
            guard let sql, sql.uppercased().contains("WITHOUT ROWID") else { return nil }
            return try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk", arguments: [table.name])
        }
        var after = Int64.min
        var offset = 0
        while true {
            let (from, skip) = (after, offset)
            let page = try await run { db in
                let rows =
                    if let key {
                        try Row.fetchAll(
                            db,
                            sql:
                                "SELECT 0, \(list) FROM \(name) ORDER BY \(key.map(\.quotedDatabaseIdentifier).joined(separator: ", ")) LIMIT ? OFFSET ?",
                            arguments: [batchSize, skip])
                    } else {
                        try Row.fetchAll(
                            db, sql: "SELECT rowid, \(list) FROM \(name) WHERE rowid > ? ORDER BY rowid LIMIT ?", arguments: [from, batchSize])
                    }
                return try rows.map { row in
                    (row[0] as Int64, try columns.indices.map { try Self.value(row[$0 + 1] as DatabaseValue, of: columns[$0], in: table) })
                }
            }
            guard let last = page.last else { return }
            try await body(page.map(\.1))
            after = last.0
            offset += page.count
            if page.count < batchSize { return }
        }
    }

    /// A stored value as its column's kind: 0 and 1 in a BOOLEAN column are booleans, GRDB's text in a DATETIME
    /// column a time.
    static func value(_ stored: DatabaseValue, of column: CopyColumn, in table: CopiedTable) throws -> CopyValue {
        let raw: CopyValue =
            switch stored.storage {
            case .null: .null
            case .int64(let number): .integer(number)
            case .double(let number): .real(number)
            case .string(let text): .text(text)
            case .blob(let data): .blob(Array(data))
            }
        do {
            return try raw.converted(to: column.kind)
        } catch {
            throw DatabaseCopyError.unconvertible(table: table.name, column: column.name, value: raw.description, type: column.typeName)
        }
    }

    func identityHighWater(_ table: CopiedTable) async throws -> Int64? {
        try await run { db in
            guard try db.tableExists("sqlite_sequence") else { return nil }
            return try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = ? COLLATE NOCASE", arguments: [table.name])
        }
    }

    // MARK: - Writing

    func insert(_ rows: [[CopyValue]], into table: CopiedTable, columns: [CopyColumn]) async throws {
        let sql = """
            INSERT INTO \(table.name.quotedDatabaseIdentifier) (\(columns.map(\.name.quotedDatabaseIdentifier).joined(separator: ", "))) \
            VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ", ")))
            """
        try await run { db in
            let statement = try db.cachedStatement(sql: sql)
            for row in rows { try statement.execute(arguments: StatementArguments(row.map { Self.stored($0) as (any DatabaseValueConvertible)? })) }
        }
    }

    func update(_ table: CopiedTable, set column: CopyColumn, to value: CopyValue, id: Int64) async throws {
        try await run { db in
            try db.execute(
                sql: "UPDATE \(table.name.quotedDatabaseIdentifier) SET \(column.name.quotedDatabaseIdentifier) = ? WHERE id = ?",
                arguments: [Self.stored(value), id])
        }
    }

    /// Only AUTOINCREMENT tables keep a counter; SQLite raises it by itself for explicit ids, so only a source's higher
    /// mark (ids handed out and deleted since) needs writing.
    func advanceIdentity(_ table: CopiedTable, past highWater: Int64?) async throws {
        guard let highWater else { return }
        try await run { db in
            let sql = try String.fetchOne(
                db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE", arguments: [table.name])
            guard let sql, sql.uppercased().contains("AUTOINCREMENT") else { return }
            if let current = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = ?", arguments: [table.name]) {
                if current < highWater {
                    try db.execute(sql: "UPDATE sqlite_sequence SET seq = ? WHERE name = ?", arguments: [highWater, table.name])
                }
            } else {
                try db.execute(sql: "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", arguments: [table.name, highWater])
            }
        }
    }

    /// SQLite's triggers keep the org paths and counts as the rows go in, each row once: nothing is left to do.
    func startBulkLoad() async throws {}

    func finishBulkLoad() async throws {}

    /// A value as GRDB stores it: booleans as 0 and 1, times as its text with milliseconds, blobs as BLOB.
    static func stored(_ value: CopyValue) -> DatabaseValue {
        switch value {
        case .null: .null
        case .integer(let number): number.databaseValue
        case .real(let number): number.databaseValue
        case .text(let text): text.databaseValue
        case .blob(let bytes): Data(bytes).databaseValue
        case .boolean(let flag): (flag ? 1 as Int64 : 0).databaseValue
        case .timestamp(let microseconds): CopyTime.sqliteText(microseconds).databaseValue
        }
    }
}
