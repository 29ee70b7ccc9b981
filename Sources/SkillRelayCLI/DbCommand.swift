import ArgumentParser
import Foundation
import Logging
import SkillRelayDatabaseCopy

/// `skillrelay db copy`: moving a deployment between databases.
struct DbCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "Work on a whole SkillRelay database.", subcommands: [Copy.self])

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy everything from one SkillRelay database into an empty one: SQLite or PostgreSQL, either way.",
            discussion: """
                Stop every SkillRelay instance on the source first: the copy reads one snapshot of it, and whatever is \
                written after that is not copied. The target is created (SQLite) and migrated if need be and must hold no \
                rows; the copy is one transaction on it, checked table by table before it commits.
                """)

        @Option(help: "The database to copy: a SQLite file (PATH or sqlite:PATH) or postgres://user:password@host:port/dbname.")
        var from: String

        @Option(help: "The empty database to copy into, in the same forms.")
        var to: String

        func run() async throws {
            try await CLIErrors.reporting {
                let source = try DatabaseChoice(parsing: from, from: "--from")
                let target = try DatabaseChoice(parsing: to, from: "--to")
                var logger = Logger(label: "skillrelay.db-copy")
                // The report goes to standard output; the database drivers' chatter has no place in it.
                logger.logLevel = .error
                let report = try await DatabaseCopy.copy(from: source.copyEndpoint, to: target.copyEndpoint, logger: logger) { line in
                    FileHandle.standardError.write(Data((line + "\n").utf8))
                }
                print("Copied \(report.total) rows from \(source) to \(target):")
                print(report)
            }
        }
    }
}
