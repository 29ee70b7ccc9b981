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
        return try await PostgresAppDatabase.open(url: location.url, logger: logger, maximumConnections: 4)
    }

    public static let logger = Logger(label: "skillrelay.tests.postgres")

    /// One connection to the maintenance database, for CREATE DATABASE (which cannot run in a transaction).
    public static func admin<T: Sendable>(_ url: String, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await PostgresLocation(url: url).withConnection(logger: logger, body)
    }
}

public enum TestPostgresError: Error {
    case noServer
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
