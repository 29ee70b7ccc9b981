import Foundation
import GRDB
import PostgresNIO
import SkillRelayPostgres
import SkillRelayStore
import Testing

@testable import SkillRelayDatabaseCopy

@Suite struct DatabaseCopyTests {
    // MARK: - Round trips

    @Test(.enabled(if: CopyTestPostgres.serverURL != nil))
    func anActiveCompanyRoundTripsThroughPostgreSQLRowForRow() async throws {
        // Given a SQLite database with the sample company and real activity
        let scratch = try Scratch()
        let original = scratch.path("original.sqlite")
        try await ActiveCompany.make(at: original)
        let first = try await CopyTestPostgres.freshLocation()
        let second = try await CopyTestPostgres.freshLocation()
        let back = scratch.path("back.sqlite")

        // When it goes SQLite → PostgreSQL → PostgreSQL → SQLite
        let there = try await DatabaseCopy.copy(from: .sqlite(path: original), to: .postgres(first))
        let across = try await DatabaseCopy.copy(from: .postgres(first), to: .postgres(second))
        let home = try await DatabaseCopy.copy(from: .postgres(second), to: .sqlite(path: back))

        // Then every table came back equal, row for row and column for column, and each leg copied the same rows
        #expect(there == across && across == home)
        #expect(there.tables.map(\.table) == CopiedTable.all.map(\.name))
        for table in [
            "employee", "topic", "skill", "question", "delivery", "answer", "followUp", "reveal", "apiToken", "loginLink", "webSession",
            "imConversation", "imKey", "complianceEntry", "outbox", "auditEntry", "setting", "routingStat", "specialistRecord",
        ] {
            #expect((there.tables.first { $0.table == table }?.rows ?? 0) > 0, "\(table) had nothing to copy")
        }
        let before = try Self.dump(original)
        let after = try Self.dump(back)
        #expect(before.keys.sorted() == after.keys.sorted())
        for (table, rows) in before.sorted(by: { $0.key < $1.key }) {
            let copied = after[table] ?? []
            #expect(rows.count == copied.count, "\(table)")
            if let difference = zip(rows, copied).first(where: { $0.0 != $0.1 }) {
                Issue.record("\(table): \(difference.0) came back as \(difference.1)")
            }
        }
    }

    @Test(.enabled(if: CopyTestPostgres.serverURL != nil))
    func onPostgreSQLTheTriggersRebuildWhatTheyKeepAndIdsContinueAboveTheSource() async throws {
        let scratch = try Scratch()
        let original = scratch.path("original.sqlite")
        try await ActiveCompany.make(at: original)
        let target = try await CopyTestPostgres.freshLocation()
        _ = try await DatabaseCopy.copy(from: .sqlite(path: original), to: .postgres(target))

        let (auditHighWater, maxAudit) = try await DatabaseQueue(path: original).read { db in
            (
                try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'auditEntry'"),
                try Int64.fetchOne(db, sql: "SELECT max(id) FROM auditEntry")
            )
        }
        let database = try await PostgresAppDatabase.open(url: target.url, logger: CopyTestPostgres.logger, maximumConnections: 2)
        let (aliases, found, nextAudit) = try await database.write { connection in
            var aliases = ""
            for try await value in try await connection.query("SELECT aliases FROM topic WHERE slug = 'kubernetes'", logger: CopyTestPostgres.logger)
                .decode(String.self)
            {
                aliases = value
            }
            var found: [String] = []
            for try await slug in try await connection.query(
                "SELECT slug FROM topic WHERE search @@ to_tsquery('simple', 'kube') ORDER BY slug", logger: CopyTestPostgres.logger
            ).decode(String.self) {
                found.append(slug)
            }
            var next: Int64 = 0
            for try await id in try await connection.query(
                """
                INSERT INTO auditEntry (at, actor, entity, entityKey, action) VALUES (now(), 'test', 'test', 'x', 'test') RETURNING id
                """, logger: CopyTestPostgres.logger
            ).decode(Int64.self) {
                next = id
            }
            return (aliases, found, next)
        }
        await database.close()
        #expect(aliases == "k8s kube")
        #expect(found == ["kubernetes"])
        // The source had handed out an id it then deleted: PostgreSQL carries on above it, not above what is left.
        let highWater = try requireValue(auditHighWater)
        #expect(highWater > (maxAudit ?? 0))
        #expect(nextAudit == highWater + 1)
        // The planner has statistics for what the copy filled, and its indexes a visibility map, before autovacuum would
        // come round to it.
        let analyzed = try await target.withConnection(logger: CopyTestPostgres.logger) { connection in
            var tables: [String] = []
            for try await name in try await connection.query(
                """
                SELECT relname FROM pg_stat_user_tables
                WHERE last_analyze IS NOT NULL AND last_vacuum IS NOT NULL AND relname IN ('employee', 'skill', 'topic') ORDER BY relname
                """,
                logger: CopyTestPostgres.logger
            ).decode(String.self) {
                tables.append(name)
            }
            return tables
        }
        #expect(analyzed == ["employee", "skill", "topic"])
    }

    @Test func sqliteCopiesIntoANewSQLiteFile() async throws {
        let scratch = try Scratch()
        let original = scratch.path("original.sqlite")
        try await ActiveCompany.make(at: original)
        let copy = scratch.path("nested/copy.sqlite")
        let report = try await DatabaseCopy.copy(from: .sqlite(path: original), to: .sqlite(path: copy))
        #expect(report.tables.first { $0.table == "employee" }?.rows == 155)
        #expect(report.tables.first { $0.table == "skill" }?.rows == 633)
        #expect(try Self.dump(original) == Self.dump(copy))
        #expect(report.description.contains("employee"))
    }

    // MARK: - Refusals

    @Test func aNonEmptySQLiteTargetIsRefusedAndLeftAsItWas() async throws {
        let scratch = try Scratch()
        let original = scratch.path("original.sqlite")
        try await ActiveCompany.make(at: original)
        let target = scratch.path("target.sqlite")
        let store = SQLiteDirectoryStore(database: try AppDatabase.open(path: target))
        _ = try await store.createToken(for: .bot("existing"), by: .cliOperator)
        let before = try Self.dump(target)
        await #expect(throws: DatabaseCopyError.targetNotEmpty([.init(table: "apiToken", rows: 1), .init(table: "auditEntry", rows: 1)])) {
            try await DatabaseCopy.copy(from: .sqlite(path: original), to: .sqlite(path: target))
        }
        #expect(try Self.dump(target) == before)
    }

    @Test(.enabled(if: CopyTestPostgres.serverURL != nil))
    func aNonEmptyPostgreSQLTargetIsRefused() async throws {
        let scratch = try Scratch()
        let original = scratch.path("original.sqlite")
        try await ActiveCompany.make(at: original)
        let target = try await CopyTestPostgres.freshLocation()
        let report = try await DatabaseCopy.copy(from: .sqlite(path: original), to: .postgres(target))
        do {
            _ = try await DatabaseCopy.copy(from: .sqlite(path: original), to: .postgres(target))
            Issue.record("copied into a database that had rows")
        } catch let error as DatabaseCopyError {
            guard case .targetNotEmpty(let tables) = error else {
                Issue.record("\(error)")
                return
            }
            #expect(tables.first { $0.table == "employee" }?.rows == 155)
            #expect(error.description.contains("the target is not empty"))
        }
        // Still exactly one copy's rows.
        let again = try await DatabaseCopy.copy(from: .postgres(target), to: .sqlite(path: scratch.path("check.sqlite")))
        #expect(again == report)
    }

    @Test func aMissingSourceIsAnErrorAndNotCreated() async throws {
        let scratch = try Scratch()
        let missing = scratch.path("missing.sqlite")
        await #expect(throws: DatabaseCopyError.noSuchSQLiteFile(missing)) {
            try await DatabaseCopy.copy(from: .sqlite(path: missing), to: .sqlite(path: scratch.path("target.sqlite")))
        }
        #expect(!FileManager.default.fileExists(atPath: missing))
    }

    @Test func aDatabaseIsNotCopiedOntoItself() async throws {
        let scratch = try Scratch()
        let path = scratch.path("one.sqlite")
        _ = try AppDatabase.open(path: path)
        await #expect(throws: DatabaseCopyError.self) {
            try await DatabaseCopy.copy(from: .sqlite(path: path), to: .sqlite(path: scratch.url.appendingPathComponent("./one.sqlite").path))
        }
    }

    @Test(.enabled(if: CopyTestPostgres.serverURL != nil))
    func anUnreachablePostgreSQLIsAClearErrorAndTheTargetStaysEmpty() async throws {
        let scratch = try Scratch()
        let original = scratch.path("original.sqlite")
        try await ActiveCompany.make(at: original)
        var nowhere = try PostgresLocation(url: try requireValue(CopyTestPostgres.serverURL))
        nowhere.database = "no_such_database_\(UInt32.random(in: 0...UInt32.max))"
        await #expect(throws: PostgresSetupError.self) {
            try await DatabaseCopy.copy(from: .postgres(nowhere), to: .sqlite(path: scratch.path("target.sqlite")))
        }
        await #expect(throws: PostgresSetupError.self) {
            try await DatabaseCopy.copy(from: .sqlite(path: original), to: .postgres(nowhere))
        }
    }

    // MARK: - Times

    @Test func timesConvertExactlyBothWays() {
        let samples: [(String, String)] = [
            ("1970-01-01 00:00:00.000", "1970-01-01 00:00:00.000000+00"),
            ("2027-01-15 08:00:37.123", "2027-01-15 08:00:37.123000+00"),
            ("2024-02-29 23:59:59.999", "2024-02-29 23:59:59.999000+00"),
            ("1969-12-31 23:59:59.001", "1969-12-31 23:59:59.001000+00"),
            ("2000-03-01 12:00:00.500", "2000-03-01 12:00:00.500000+00"),
        ]
        for (sqlite, postgres) in samples {
            guard let microseconds = CopyTime.microseconds(fromSQLite: sqlite) else {
                Issue.record("\(sqlite) was not read")
                continue
            }
            #expect(CopyTime.sqliteText(microseconds) == sqlite)
            #expect(CopyTime.postgresText(microseconds) == postgres)
        }
        #expect(CopyTime.microseconds(fromSQLite: "2027-01-15 08:00:37.123") == 1_800_000_037_123_000)
        #expect(CopyTime.microseconds(fromSQLite: "2027-01-15") == CopyTime.microseconds(fromSQLite: "2027-01-15 00:00:00.000"))
        #expect(CopyTime.microseconds(fromSQLite: "2027-01-15T08:00") == CopyTime.microseconds(fromSQLite: "2027-01-15 08:00:00"))
        #expect(CopyTime.microseconds(fromSQLite: "soon") == nil)
        // What PostgreSQL keeps below the millisecond SQLite cannot hold: dropped, as GRDB drops it.
        #expect(CopyTime.sqliteText(1_999_999) == "1970-01-01 00:00:01.999")
        #expect(CopyTime.sqliteText(-1) == "1969-12-31 23:59:59.999")
    }

    @Test func valuesConvertBetweenTheTwoDatabasesTypesOrSayWhyNot() throws {
        #expect(try CopyValue.integer(1).converted(to: .boolean) == .boolean(true))
        #expect(try CopyValue.boolean(false).converted(to: .integer) == .integer(0))
        #expect(try CopyValue.text("2027-01-15 08:00:37.123").converted(to: .timestamp) == .timestamp(microseconds: 1_800_000_037_123_000))
        #expect(try CopyValue.timestamp(microseconds: 1_800_000_037_123_456).converted(to: .text) == .text("2027-01-15 08:00:37.123"))
        #expect(try CopyValue.integer(3).converted(to: .real) == .real(3))
        #expect(throws: CopyValue.Mismatch.self) { try CopyValue.integer(2).converted(to: .boolean) }
        #expect(throws: CopyValue.Mismatch.self) { try CopyValue.text("yesterday").converted(to: .timestamp) }
        #expect(throws: CopyValue.Mismatch.self) { try CopyValue.blob([1]).converted(to: .text) }
    }

    // MARK: - Helpers

    /// Every copied table's rows, each row's values with their storage class, sorted (rowid order is insertion order,
    /// which a copy may change for tables without an integer key).
    static func dump(_ path: String) throws -> [String: [String]] {
        try DatabaseQueue(path: path).read { db in
            var tables: [String: [String]] = [:]
            for table in CopiedTable.all.map(\.name) + ["sqlite_sequence"] {
                tables[table] = try Row.fetchAll(db, sql: "SELECT * FROM \(table)").map { row in
                    row.map { column, value -> String in
                        switch value.storage {
                        case .null: "\(column)=NULL"
                        case .int64(let number): "\(column)=i\(number)"
                        case .double(let number): "\(column)=r\(number)"
                        case .string(let text): "\(column)=t\(text)"
                        case .blob(let data): "\(column)=b\(data.map { String(format: "%02x", $0) }.joined())"
                        }
                    }.joined(separator: "|")
                }.sorted()
            }
            return tables
        }
    }
}
