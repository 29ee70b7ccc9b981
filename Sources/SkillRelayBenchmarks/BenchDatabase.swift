import Foundation
import GRDB
import Logging
import PostgresNIO
import SkillRelayDatabaseCopy
import SkillRelayPostgres

/// A database a server of figure 3 runs on, SQLite or PostgreSQL, with the few statements the benchmark itself runs
/// there: the rooms a deployment that has run a while already has, and counting what a load left behind.
enum BenchDatabase: Sendable {
    case sqlite(path: String)
    case postgres(PostgresLocation)

    static let logger = Logger(label: "skillrelay.bench.postgres")

    /// What `skillrelay serve --db` is given.
    var argument: String {
        switch self {
        case .sqlite(let path): path
        case .postgres(let location): location.url
        }
    }

    /// A direct room between the bot and everyone (first contact, which makes one, is a one-time cost per person and
    /// not what figure 3 measures).
    func giveEveryoneARoom() async throws {
        let select = "SELECT imId, '!dm-' || id || ':fake' FROM employee WHERE imId IS NOT NULL"
        switch self {
        case .sqlite(let path):
            try RawSQLite(path: path).execute("INSERT OR IGNORE INTO imConversation (imId, conversation) \(select)")
        case .postgres(let location):
            try await location.withConnection(logger: Self.logger) { connection in
                try await connection.query(
                    PostgresQuery(unsafeSQL: "INSERT INTO imConversation (imId, conversation) \(select) ON CONFLICT DO NOTHING"), logger: Self.logger)
                // The new rows' statistics, as the copy's ANALYZE gave every other table.
                try await connection.query("ANALYZE imConversation", logger: Self.logger)
            }
        }
    }

    /// The single number `sql` selects.
    func count(_ sql: String) async throws -> Int {
        switch self {
        case .sqlite(let path):
            return try RawSQLite(path: path).count(sql)
        case .postgres(let location):
            return try await location.withConnection(logger: Self.logger) { connection in
                var value = 0
                for try await count in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: Self.logger).decode(Int.self) {
                    value = count
                }
                return value
            }
        }
    }

    /// A copy of the SQLite database at `path` (SQLite's backup API: consistent, WAL included), for a run that must
    /// start from the same state as another.
    static func sqliteCopy(of path: String, to copy: String) throws -> BenchDatabase {
        try DatabaseQueue(path: path).backup(to: DatabaseQueue(path: copy))
        return .sqlite(path: copy)
    }
}

/// The PostgreSQL databases of figures 2 and 3 on one server: the imported company copied once from SQLite by `db
/// copy`'s code (which also gathers the planner's statistics), kept as a template every run starts from afresh
/// (`CREATE DATABASE … TEMPLATE`, a file copy), and all dropped at the end.
actor PostgresCompanies {
    let server: PostgresLocation
    let template: PostgresLocation
    /// How long the copy from SQLite took (every table, in one transaction, counts checked).
    let copyTime: Duration
    private var made: [String] = []

    private init(server: PostgresLocation, template: PostgresLocation, copyTime: Duration) {
        self.server = server
        self.template = template
        self.copyTime = copyTime
    }

    /// Copies the SQLite database at `sqlite` into a new database on the server `url` names (its maintenance database).
    static func copy(from sqlite: String, server url: String) async throws -> PostgresCompanies {
        let server = try PostgresLocation(url: url)
        let template = server.with(database: Self.newName())
        try await Self.create(template.database, on: server, from: nil)
        do {
            let time = try await Measurement.time {
                _ = try await DatabaseCopy.copy(from: .sqlite(path: sqlite), to: .postgres(template), logger: BenchDatabase.logger)
            }
            return PostgresCompanies(server: server, template: template, copyTime: time)
        } catch {
            try? await Self.drop(template.database, on: server)
            throw error
        }
    }

    /// A new database holding what the template holds.
    func fresh() async throws -> PostgresLocation {
        let name = Self.newName()
        try await Self.create(name, on: server, from: template.database)
        made.append(name)
        return server.with(database: name)
    }

    /// Drops one database made here, once nothing is connected to it.
    func drop(_ location: PostgresLocation) async {
        try? await Self.drop(location.database, on: server)
        made.removeAll { $0 == location.database }
    }

    /// Drops every database made here, the template last.
    func dropAll() async {
        for name in made + [template.database] { try? await Self.drop(name, on: server) }
        made = []
    }

    private static func newName() -> String {
        "skillrelay_bench_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
    }

    private static func create(_ name: String, on server: PostgresLocation, from template: String?) async throws {
        try await server.withConnection(logger: BenchDatabase.logger) { connection in
            let source = template.map { " TEMPLATE \($0)" } ?? ""
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)\(source)"), logger: BenchDatabase.logger)
        }
    }

    private static func drop(_ name: String, on server: PostgresLocation) async throws {
        try await server.withConnection(logger: BenchDatabase.logger) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: BenchDatabase.logger)
        }
    }
}
