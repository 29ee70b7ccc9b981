import Foundation
import SkillRelayDomain
import SkillRelayStore
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Runs the built `skillrelay` binary as a user would.
@Suite struct CLITests {
    static let binary: URL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("skillrelay")
    static let dataDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Data").path

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// A fresh temporary directory, removed when the test is done with it.
    final class Scratch {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("skillrelay-cli-\(UUID().uuidString)")
        init() throws { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
        deinit { try? FileManager.default.removeItem(at: url) }
        var db: String { url.appendingPathComponent("test.sqlite").path }
    }

    static func run(_ arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }

    @Test func importsTheSampleData() throws {
        let scratch = try Scratch()
        let result = try Self.run(["import", "--db", scratch.db, Self.dataDirectory])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("Imported 155 employees, 65 topics and 633 skills"))
    }

    @Test func aBadImportFailsListingEveryProblemAndChangesNothing() async throws {
        let scratch = try Scratch()
        #expect(try Self.run(["import", "--db", scratch.db, Self.dataDirectory]).status == 0)
        let bad = scratch.url.appendingPathComponent("bad")
        try FileManager.default.createDirectory(at: bad, withIntermediateDirectories: true)
        try "handle,topic,level\nlin.chen,kubernetes,2\nnobody,python,2\n".write(
            to: bad.appendingPathComponent("skills.csv"), atomically: true, encoding: .utf8)
        try "handle,name,email,manager\nlin.chen,Lin Chen,lin.chen@northwind.example,ji-woo.kang\n".write(
            to: bad.appendingPathComponent("employees.csv"), atomically: true, encoding: .utf8)
        let result = try Self.run(["import", "--db", scratch.db, bad.path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("employees.csv:2: 'lin.chen' would be above themselves"), "\(result.stderr)")
        #expect(result.stderr.contains("skills.csv:3: unknown employee 'nobody'"), "\(result.stderr)")
        // Nothing changed: lin.chen still reports to aiko.yamamoto, and the kubernetes level is the sample's.
        let store = SQLiteDirectoryStore(database: try AppDatabase.open(path: scratch.db))
        let profile = try await store.employee("lin.chen", by: .cliOperator)
        #expect(profile.employee.managerHandle == "aiko.yamamoto")
        #expect(profile.skills.first { $0.topic.slug == "kubernetes" }?.level == 4)
    }

    @Test func aMalformedFileIsReportedByLine() throws {
        let scratch = try Scratch()
        try "handle,topic,level\nlin.chen,kubernetes,9\nlin.chen,\"open\n".write(
            to: scratch.url.appendingPathComponent("skills.csv"), atomically: true, encoding: .utf8)
        let result = try Self.run(["import", "--db", scratch.db, scratch.url.path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("skills.csv:3: a quoted field is never closed"), "\(result.stderr)")
    }

    @Test func importRefusesAMissingDirectory() throws {
        let scratch = try Scratch()
        let result = try Self.run(["import", "--db", scratch.db, "/nonexistent/skillrelay"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("is not a directory"))
    }

    @Test func tokensAreCreatedListedAndRevoked() throws {
        let scratch = try Scratch()
        #expect(try Self.run(["import", "--db", scratch.db, Self.dataDirectory]).status == 0)
        let created = try Self.run(["token", "create", "--db", scratch.db, "--bot", "helpdesk"])
        #expect(created.status == 0)
        let secret = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(secret.hasPrefix("sr_"))
        let id = try #require(created.stderr.split(separator: " ").first { $0.hasPrefix("tok_") }.map(String.init))
        let listed = try Self.run(["token", "list", "--db", scratch.db])
        #expect(listed.stdout.contains("\(id)\tbot helpdesk"))
        #expect(!listed.stdout.contains(secret))
        #expect(try Self.run(["token", "revoke", "--db", scratch.db, id]).status == 0)
        #expect(try Self.run(["token", "list", "--db", scratch.db]).stdout.contains("revoked"))
        let unknown = try Self.run(["token", "revoke", "--db", scratch.db, "tok_nope"])
        #expect(unknown.status == 1 && unknown.stderr.contains("No token with id 'tok_nope'"))
        let ghost = try Self.run(["token", "create", "--db", scratch.db, "--employee", "ghost"])
        #expect(ghost.status == 1 && ghost.stderr.contains("No employee with handle 'ghost'"))
        let both = try Self.run(["token", "create", "--db", scratch.db, "--employee", "lin.chen", "--bot", "x"])
        #expect(both.status != 0 && both.stderr.contains("exactly one of --employee and --bot"))
    }

    @Test func serveLoadsTheSampleOnFirstStartAnswersAndStopsCleanlyOnSIGTERM() async throws {
        let scratch = try Scratch()
        let port = Int.random(in: 20_000...40_000)
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = ["serve", "--db", scratch.db, "--port", String(port), "--data", Self.dataDirectory]
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        // Wait (bounded) for the server to answer.
        var healthy = false
        for _ in 0..<100 where !healthy {
            try await Task.sleep(for: .milliseconds(100))
            healthy = (try? await Self.get("http://127.0.0.1:\(port)/health").0) == 200
        }
        #expect(healthy)
        let token = try Self.run(["token", "create", "--db", scratch.db, "--employee", "lin.chen"]).stdout.trimmingCharacters(
            in: .whitespacesAndNewlines)
        let (status, body) = try await Self.get("http://127.0.0.1:\(port)/v1/topics/k8s", token: token)
        #expect(status == 200)
        #expect(body.contains(#""slug":"kubernetes""#))
        process.terminate()  // SIGTERM
        for _ in 0..<100 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        #expect(!process.isRunning)
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
    }

    static func get(_ url: String, token: String? = nil) async throws -> (Int, String) {
        var request = URLRequest(url: URL(string: url)!)
        request.timeoutInterval = 5
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }
}
