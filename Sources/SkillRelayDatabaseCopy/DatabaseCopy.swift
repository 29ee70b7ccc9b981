import Foundation
import Logging
import PostgresNIO
import SkillRelayPostgres

/// `skillrelay db copy`: every row of one SkillRelay database into an empty other one, SQLite or PostgreSQL either way.
///
/// The source is read through one snapshot and the target written in one transaction: the copy lands whole or not at
/// all. Both schemas have the same tables and columns (PostgreSQL's first migration is SQLite's schema as of v18);
/// values are converted by the columns' types as each catalogue states them. Trigger-kept columns are not written but
/// rebuilt by the target's triggers and compared with the source's; the row count of every table is compared too.
public enum DatabaseCopy {
    /// One end of a copy.
    public enum Endpoint: Sendable, Equatable, CustomStringConvertible {
        case sqlite(path: String)
        case postgres(PostgresLocation)

        public var description: String {
            switch self {
            case .sqlite(let path): "SQLite \(path)"
            case .postgres(let location): "PostgreSQL \(location)"
            }
        }

        func isSame(as other: Endpoint) -> Bool {
            switch (self, other) {
            case (.sqlite(let a), .sqlite(let b)):
                URL(fileURLWithPath: a).standardizedFileURL.resolvingSymlinksInPath()
                    == URL(fileURLWithPath: b).standardizedFileURL.resolvingSymlinksInPath()
            case (.postgres(let a), .postgres(let b)):
                a.host.lowercased() == b.host.lowercased() && a.port == b.port && a.database == b.database
            default:
                false
            }
        }
    }

    /// Copies everything from `source` into `target`, which must be empty (it is created and migrated if need be).
    /// `progress` hears a line per step, for a person watching.
    public static func copy(
        from source: Endpoint, to target: Endpoint, logger: Logger = Logger(label: "skillrelay.db-copy"),
        progress: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws -> DatabaseCopyReport {
        guard !source.isSame(as: target) else { throw DatabaseCopyError.sameDatabase(source.description) }
        progress("Reading \(source).")
        let report = try await withReader(source, logger: logger) { reader in
            progress("Writing \(target), in one transaction.")
            return try await withWriter(target, logger: logger) { writer in
                try await TableCopier(reader: reader, writer: writer, progress: progress).run()
            }
        }
        if case .postgres(let location) = target {
            // Until autovacuum comes round to the tables the copy filled, the planner guesses at them (no statistics)
            // and no index can answer by itself (no visibility map: every index entry is checked in the table); the
            // candidate query, which reads the skill index alone once the table is vacuumed, took 60 % longer.
            progress("Gathering PostgreSQL's planner statistics and visibility map (VACUUM ANALYZE).")
            try await location.withConnection(logger: logger) { connection in
                try await connection.query("VACUUM (ANALYZE)", logger: logger)
            }
        }
        return report
    }

    private static func withReader<T: Sendable>(_ endpoint: Endpoint, logger: Logger, _ body: (any CopyReader) async throws -> T) async throws -> T {
        switch endpoint {
        case .sqlite(let path):
            return try await body(try SQLiteCopySide.source(path: path))
        case .postgres(let location):
            let database = try await PostgresAppDatabase.open(url: location.url, logger: logger, maximumConnections: 2)
            do {
                let value = try await database.read { connection in try await body(PostgresCopySide(connection: connection, logger: logger)) }
                await database.close()
                return value
            } catch {
                await database.close()
                throw error
            }
        }
    }

    private static func withWriter<T: Sendable>(_ endpoint: Endpoint, logger: Logger, _ body: (any CopyWriter) async throws -> T) async throws -> T {
        switch endpoint {
        case .sqlite(let path):
            return try await SQLiteCopySide.withTarget(path: path) { try await body($0) }
        case .postgres(let location):
            let database = try await PostgresAppDatabase.open(url: location.url, logger: logger, maximumConnections: 2)
            do {
                // The write lock: an instance started on the target meanwhile waits rather than writing into the copy.
                let value = try await database.write { connection in try await body(PostgresCopySide(connection: connection, logger: logger)) }
                await database.close()
                return value
            } catch let error as PostgresTransactionError {
                await database.close()
                // Rolled back: what matters is why the copy stopped, not the transaction wrapping it.
                throw error.closureError ?? error.beginError ?? error.commitError ?? error
            } catch {
                await database.close()
                throw error
            }
        }
    }
}

/// How many rows of each table were copied, in copy order.
public struct DatabaseCopyReport: Sendable, Equatable, CustomStringConvertible {
    public var tables: [DatabaseCopyError.TableCount]

    /// Rows copied in all.
    public var total: Int { tables.reduce(0) { $0 + $1.rows } }

    /// A two-column table of the counts, then the total.
    public var description: String {
        let width = max(tables.map(\.table.count).max() ?? 0, "table".count)
        let digits = max(String(total).count, "rows".count)
        func line(_ name: String, _ rows: String) -> String {
            name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + String(repeating: " ", count: max(0, digits - rows.count)) + rows
        }
        let lines = [line("table", "rows")] + tables.map { line($0.table, String($0.rows)) } + [line("total", String(total))]
        return lines.joined(separator: "\n")
    }
}
