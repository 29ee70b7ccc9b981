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

/// Fresh PostgreSQL databases for tests: each test gets its own, copied from a template migrated once per run.
enum TestPostgres {
    /// The test cluster's URL (its maintenance database), if this run has one.
    static var serverURL: String? {
        ProcessInfo.processInfo.environment["SKILLRELAY_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    private static let template = TemplateDatabase()

    /// A new, migrated, empty database of its own; closed by the caller.
    static func freshDatabase() async throws -> PostgresAppDatabase {
        guard let url = serverURL else { throw TestPostgresError.noServer }
        let templateName = try await template.name(serverURL: url)
        let name = "test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
        try await TestPostgres.admin(url) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name) TEMPLATE \(templateName)"), logger: logger)
        }
        let location = try PostgresLocation(url: url).with(database: name)
        return try await PostgresAppDatabase.open(url: location.url, logger: logger, maximumConnections: 4)
    }

    static let logger = Logger(label: "skillrelay.tests.postgres")

    /// One connection to the maintenance database, for CREATE DATABASE (which cannot run in a transaction).
    static func admin<T: Sendable>(_ url: String, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        let location = try PostgresLocation(url: url)
        let configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.username, password: location.password,
            database: location.database, tls: .disable)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        do {
            let value = try await body(connection)
            try await connection.close()
            return value
        } catch {
            try? await connection.close()
            throw error
        }
    }
}

enum TestPostgresError: Error {
    case noServer
    /// A store the PostgreSQL backend does not have (yet): its tests cannot run on PostgreSQL.
    case noStoreYet(String)
}

/// The template every test database is copied from: created and migrated once per test run.
private actor TemplateDatabase {
    private var made: String?

    func name(serverURL url: String) async throws -> String {
        if let made { return made }
        let name = "skillrelay_template_\(ProcessInfo.processInfo.processIdentifier)_\(UInt32.random(in: 0...UInt32.max))"
        try await TestPostgres.admin(url) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: TestPostgres.logger)
        }
        let database = try await PostgresAppDatabase.open(url: try PostgresLocation(url: url).with(database: name).url, logger: TestPostgres.logger)
        await database.close()
        made = name
        return name
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
