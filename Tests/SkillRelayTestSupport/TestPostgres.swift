import Foundation
import Logging
import PostgresNIO
import SkillRelayPostgres

/// Fresh PostgreSQL databases for tests: each test gets its own, copied from a template migrated once per run.
public enum TestPostgres {
    /// The test cluster's URL (its maintenance database), if this run has one.
    public static var serverURL: String? {
        ProcessInfo.processInfo.environment["SKILLRELAY_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    private static let template = TemplateDatabase()

    /// The URL of a new database with nothing in it, not even the schema (for programs that migrate it themselves).
    public static func emptyDatabaseURL() async throws -> String {
        guard let url = serverURL else { throw TestPostgresError.noServer }
        let name = "test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
        try await admin(url) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        }
        return try PostgresLocation(url: url).with(database: name).url
    }

    /// A new, migrated, empty database of its own; closed by the caller.
    public static func freshDatabase() async throws -> PostgresAppDatabase {
        guard let url = serverURL else { throw TestPostgresError.noServer }
        let templateName = try await template.name(serverURL: url)
        let name = "test_\(UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: ""))"
        try await TestPostgres.admin(url) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name) TEMPLATE \(templateName)"), logger: logger)
        }
        let location = try PostgresLocation(url: url).with(database: name)
        // Tests run side by side, each on a database of its own: one connection each kept open, the others opened when
        // needed, so that they do not hold the cluster's connections all at once.
        return try await PostgresAppDatabase.open(url: location.url, logger: logger, maximumConnections: 4, keptOpen: 1)
    }

    public static let logger = Logger(label: "skillrelay.tests.postgres")

    /// The rows `sql` reads from the database at `url`, each column as text (`nil` for NULL; the query casts what is
    /// not text): for tests whose code under test talks to PostgreSQL from another process.
    public static func texts(_ url: String, _ sql: String) async throws -> [[String?]] {
        try await PostgresLocation(url: url).withConnection(logger: logger) { connection in
            var rows: [[String?]] = []
            for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger) {
                rows.append(try row.map { try $0.decode(String?.self) })
            }
            return rows
        }
    }

    /// One connection to the maintenance database, for CREATE DATABASE (which cannot run in a transaction).
    public static func admin<T: Sendable>(_ url: String, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await PostgresLocation(url: url).withConnection(logger: logger, body)
    }
}

public enum TestPostgresError: Error {
    case noServer
    /// Sessions stayed connected to the template after its pool closed.
    case templateInUse(String)
}

/// The template every test database is copied from: created and migrated once per test run. Tests start side by side,
/// so the first caller's work is shared (an actor alone would let every caller that arrives while the first awaits make
/// a template of its own), and the template is handed out only once no session is connected to it: `CREATE DATABASE
/// … TEMPLATE` refuses a source with other users, and the migrating pool's server processes can outlive its `close()`
/// on a loaded machine.
private actor TemplateDatabase {
    private var making: Task<String, any Error>?

    func name(serverURL url: String) async throws -> String {
        if let making { return try await making.value }
        let task = Task { try await Self.make(serverURL: url) }
        making = task
        do {
            return try await task.value
        } catch {
            // The next test tries again rather than inheriting this failure.
            making = nil
            throw error
        }
    }

    private static func make(serverURL url: String) async throws -> String {
        let name = "skillrelay_template_\(ProcessInfo.processInfo.processIdentifier)_\(UInt32.random(in: 0...UInt32.max))"
        try await TestPostgres.admin(url) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: TestPostgres.logger)
        }
        let database = try await PostgresAppDatabase.open(
            url: try PostgresLocation(url: url).with(database: name).url, logger: TestPostgres.logger, maximumConnections: 2)
        await database.close()
        try await TestPostgres.admin(url) { connection in
            // Whatever is still connected is the closed pool's, on its way out: told to go, then waited for.
            let deadline = ContinuousClock.now + .seconds(120)
            while true {
                var sessions = 0
                let rows = try await connection.query(
                    """
                    SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                    WHERE datname = \(name) AND pid <> pg_backend_pid()
                    """, logger: TestPostgres.logger)
                for try await count in rows.decode(Int.self) { sessions = count }
                if sessions == 0 { return }
                guard ContinuousClock.now < deadline else { throw TestPostgresError.templateInUse(name) }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        return name
    }
}
