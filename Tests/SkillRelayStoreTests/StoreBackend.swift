import Foundation
import Logging
import PostgresNIO
import SkillRelayPostgres
import SkillRelayStore
import SkillRelayTestSupport
import Testing

/// The two databases every store conformance test runs on: SQLite always; PostgreSQL where the tests were given one
/// (`Scripts/test` starts a throw-away cluster with `Scripts/postgres.sh` and sets `SKILLRELAY_TEST_POSTGRES_URL`).
enum StoreBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }

    /// The backends this run has: PostgreSQL only with a server to test against.
    static var available: [StoreBackend] {
        TestPostgres.serverURL == nil ? [.sqlite] : [.sqlite, .postgres]
    }
}

/// A test's database on either backend, for the store conformance suite: each store type is made from it.
enum TestDatabase: Sendable {
    case sqlite(AppDatabase)
    case postgres(PostgresAppDatabase)

    var backend: StoreBackend {
        switch self {
        case .sqlite: .sqlite
        case .postgres: .postgres
        }
    }

    /// A new, empty, migrated database.
    static func empty(_ backend: StoreBackend) async throws -> TestDatabase {
        switch backend {
        case .sqlite: .sqlite(try AppDatabase.inMemory())
        case .postgres: .postgres(try await TestPostgres.freshDatabase())
        }
    }

    /// A new database with the sample company of `Data/` imported through that backend's directory store.
    static func sample(_ backend: StoreBackend, clock: TestClock = TestClock()) async throws -> TestDatabase {
        let database = try await empty(backend)
        _ = try await database.directoryStore(clock: clock).importDirectory(
            try ImportFiles.read(directory: sampleDataDirectory), by: .cliOperator)
        return database
    }

    /// Lets go of the database (PostgreSQL: stops the pool).
    func close() async {
        if case .postgres(let database) = self { await database.close() }
    }
}
