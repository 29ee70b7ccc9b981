import Foundation
import GRDB
import PostgresNIO
import SkillRelayDomain
import SkillRelayPostgres
import SkillRelayStore
import SkillRelayTestSupport
import Testing

/// Every port of the directory that both directory stores implement.
typealias DirectoryStores = DirectoryStore & TopicTreeStore & SuggestionStore & ReachStore & TeamStore

extension TestDatabase {
    /// The directory store on this database.
    func directoryStore(clock: TestClock = TestClock(), teamScanLimit: Int = 2000) throws -> any DirectoryStores {
        switch self {
        case .sqlite(let database):
            var store = SQLiteDirectoryStore(database: database, clock: clock)
            store.teamScanLimit = teamScanLimit
            return store
        case .postgres(let database):
            var store = PostgresDirectoryStore(database: database, clock: clock)
            store.teamScanLimit = teamScanLimit
            return store
        }
    }

    /// The web page's sign-in links and sessions on this database.
    func webStore() -> any SignInStore & SessionStore {
        switch self {
        case .sqlite(let database): SQLiteWebStore(database: database)
        case .postgres(let database): PostgresWebStore(database: database)
        }
    }

    /// Every row of `sql`, each column as text (NULL as `nil`): for tests that look at the tables themselves. The SQL
    /// must read alike on both databases (`coalesce`, `IN (SELECT …)`), and whole numbers and text are read as they
    /// are; other types need a `CAST(x AS TEXT)` that prints alike (booleans as `CASE WHEN x THEN 1 ELSE 0 END`).
    func rows(_ sql: String) async throws -> [[String?]] {
        switch self {
        case .sqlite(let database):
            return try await database.writer.read { db in
                try Row.fetchAll(db, sql: sql).map { row in
                    row.databaseValues.map { value -> String? in
                        switch value.storage {
                        case .null: nil
                        case .int64(let number): String(number)
                        case .double(let number): String(number)
                        case .string(let text): text
                        case .blob(let data): data.base64EncodedString()
                        }
                    }
                }
            }
        case .postgres(let database):
            return try await database.read { connection in
                var rows: [[String?]] = []
                for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: TestPostgres.logger) {
                    rows.append(
                        try row.map { cell -> String? in
                            switch cell.dataType {
                            case .int2, .int4, .int8: try cell.decode(Int64?.self).map(String.init)
                            default: try cell.decode(String?.self)
                            }
                        })
                }
                return rows
            }
        }
    }

    /// Runs a statement that changes the tables, for a test's set-up (SQL that reads alike on both databases).
    func execute(_ sql: String) async throws {
        switch self {
        case .sqlite(let database): try await database.writer.write { db in try db.execute(sql: sql) }
        case .postgres(let database):
            try await database.write { connection in _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: TestPostgres.logger) }
        }
    }

    /// The first column of every row of `sql`, as text (see `rows`).
    func texts(_ sql: String) async throws -> [String] {
        try await rows(sql).map { $0.first.flatMap { $0 } ?? "" }
    }

    /// A count, or any single whole number, that `sql` returns.
    func count(_ sql: String) async throws -> Int {
        Int(try await texts("SELECT CAST((\(sql)) AS TEXT)").first ?? "") ?? -1
    }
}

/// The sample company on a backend and its directory store, closed after `body`.
func withSample(
    _ backend: StoreBackend, clock: TestClock = TestClock(), _ body: (TestDatabase, any DirectoryStores) async throws -> Void
) async throws {
    let database = try await TestDatabase.sample(backend, clock: clock)
    do {
        try await body(database, try database.directoryStore(clock: clock))
        await database.close()
    } catch {
        await database.close()
        throw error
    }
}

/// An empty database on a backend and its directory store, closed after `body`.
func withEmpty(
    _ backend: StoreBackend, clock: TestClock = TestClock(), teamScanLimit: Int = 2000,
    _ body: (TestDatabase, any DirectoryStores) async throws -> Void
) async throws {
    let database = try await TestDatabase.empty(backend)
    do {
        try await body(database, try database.directoryStore(clock: clock, teamScanLimit: teamScanLimit))
        await database.close()
    } catch {
        await database.close()
        throw error
    }
}
