import Foundation
import SkillRelayTestSupport
import Testing

/// `--db`, `SKILLRELAY_DATABASE_URL` and the config file's `database`, and `db copy`, through the built binary.
@Suite struct DatabaseChoiceTests {
    typealias Scratch = CLITests.Scratch

    static func importSample(into db: String) throws {
        let result = try CLITests.run(["import", "--db", db, CLITests.dataDirectory])
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test func aMalformedDatabaseIsAClearErrorNamingWhereItWasGiven() throws {
        let scratch = try Scratch()
        let cases: [([String], [String: String], String)] = [
            (
                ["token", "list", "--db", "postgres://relay@db.example"], [:],
                "--db: invalid PostgreSQL URL postgres://relay@db.example: no database name"
            ),
            (["import", "--db", "mysql://relay@db/skills", CLITests.dataDirectory], [:], "--db: mysql is not a database SkillRelay uses"),
            (["token", "list", "--db", "postgres:skills"], [:], "--db: a PostgreSQL URL has the form postgres://"),
            (["token", "list", "--db", "sqlite:"], [:], "--db: sqlite: needs a file path"),
            (
                ["login-link", "lena.weber"], ["SKILLRELAY_DATABASE_URL": "postgres://relay:secret@db.example:99999/skills"],
                "SKILLRELAY_DATABASE_URL: invalid PostgreSQL URL postgres://relay:***@db.example:99999/skills"
            ),
            (["db", "copy", "--from", scratch.db, "--to", "postgresql://relay@/skills"], [:], "--to: invalid PostgreSQL URL"),
        ]
        for (arguments, environment, message) in cases {
            let result = try CLITests.run(arguments, environment: environment)
            #expect(result.status == 1, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(!result.stderr.contains("secret"))
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.db))
    }

    @Test func aPostgreSQLThatIsNotThereIsAClearErrorForEveryCommand() throws {
        let url = "postgres://relay:secret@127.0.0.1:1/skills?sslmode=disable"
        for arguments in [["token", "list"], ["import", CLITests.dataDirectory], ["log", "purge"], ["login-link", "lena.weber"]] {
            let result = try CLITests.run(arguments + ["--db", url])
            #expect(result.status == 1, "\(arguments)")
            #expect(result.stderr.contains("cannot reach PostgreSQL at postgres://relay:***@127.0.0.1:1/skills"), "\(arguments): \(result.stderr)")
            #expect(!result.stderr.contains("secret"))
        }
    }

    @Test(.enabled(if: TestPostgres.serverURL != nil)) func everyCommandWorksOnPostgreSQL() async throws {
        let url = try await TestPostgres.emptyDatabaseURL()
        let imported = try CLITests.run(["import", CLITests.dataDirectory, "--db", url])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.hasPrefix("Imported "))
        let token = try CLITests.run(["token", "create", "--employee", "lena.weber", "--db", url])
        #expect(token.status == 0, "\(token.stderr)")
        let listed = try CLITests.run(["token", "list", "--db", url])
        #expect(listed.stdout.contains("employee lena.weber"), "\(listed.stdout)")
        let link = try CLITests.run(["login-link", "lena.weber", "--db", url])
        #expect(link.status == 0 && link.stdout.contains("/login?token="), "\(link.stderr)")
        let exported = try CLITests.run(["log", "export", "--since", "2000-01-01", "--db", url])
        #expect(exported.status == 0, "\(exported.stderr)")
        let purged = try CLITests.run(["log", "purge", "--db", url])
        #expect(purged.status == 0 && purged.stdout.hasPrefix("Purged "), "\(purged.stderr)")
    }

    @Test func theFlagBeatsTheEnvironmentWhichBeatsTheConfigFile() throws {
        let scratch = try Scratch()
        let fromFlag = scratch.url.appendingPathComponent("flag.sqlite").path
        let fromEnvironment = scratch.url.appendingPathComponent("environment.sqlite").path
        let fromFile = scratch.url.appendingPathComponent("file.sqlite").path
        let config = try ConfigFileTests.config(#"{"database": "sqlite:\#(fromFile)"}"#, in: scratch)
        let environment = ["SKILLRELAY_DATABASE_URL": fromEnvironment]

        var result = try CLITests.run(["import", "--config", config, "--db", fromFlag, CLITests.dataDirectory], environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("into \(fromFlag)"))
        result = try CLITests.run(["import", "--config", config, CLITests.dataDirectory], environment: environment)
        #expect(result.stdout.contains("into \(fromEnvironment)"), "\(result.stderr)")
        result = try CLITests.run(["import", "--config", config, CLITests.dataDirectory])
        #expect(result.stdout.contains("into \(fromFile)"), "\(result.stderr)")
        for path in [fromFlag, fromEnvironment, fromFile] { #expect(FileManager.default.fileExists(atPath: path)) }
    }

    @Test func aBadDatabaseInTheConfigFileFailsTheCheck() throws {
        let scratch = try Scratch()
        let config = try ConfigFileTests.config(#"{"database": "postgres://relay@db.example/skills?sslmode=maybe"}"#, in: scratch)
        let result = try CLITests.run(["serve", "--check-config", "--config", config])
        #expect(result.status != 0)
        #expect(
            result.stderr.contains("database: invalid PostgreSQL URL postgres://relay@db.example/skills?sslmode=maybe: sslmode must be"),
            "\(result.stderr)")
    }

    @Test func dbCopyCopiesIntoAnEmptyDatabaseAndRefusesAFullOne() throws {
        let scratch = try Scratch()
        try Self.importSample(into: scratch.db)
        let copy = scratch.url.appendingPathComponent("copy.sqlite").path
        var result = try CLITests.run(["db", "copy", "--from", scratch.db, "--to", "sqlite:\(copy)"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Copied"))
        #expect(result.stdout.split(separator: "\n").contains { $0.hasPrefix("employee ") && $0.hasSuffix(" 155") }, "\(result.stdout)")
        #expect(result.stderr.contains("employee: 155 rows"), "\(result.stderr)")
        result = try CLITests.run(["token", "list", "--db", copy])
        #expect(result.status == 0, "\(result.stderr)")

        result = try CLITests.run(["db", "copy", "--from", scratch.db, "--to", copy])
        #expect(result.status == 1)
        #expect(result.stderr.contains("the target is not empty (employee: 155 rows"), "\(result.stderr)")
    }
}
