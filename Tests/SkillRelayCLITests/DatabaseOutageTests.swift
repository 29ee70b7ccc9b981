import Foundation
import SkillRelayTestSupport
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// PostgreSQL stopped under a serving SkillRelay and started again: requests that need the database answer 503
/// `database_unavailable` with the error shape (never hang, never 500), `/health` says so, and once the database is
/// back SkillRelay serves again by itself. A cluster of its own (Scripts/postgres.sh), since it is stopped mid-test.
@Suite(.enabled(if: TestPostgres.serverURL != nil, "needs PostgreSQL installed and a test run that uses it"))
struct DatabaseOutageTests {
    static let script = URL(fileURLWithPath: CLITests.dataDirectory).deletingLastPathComponent().appendingPathComponent("Scripts/postgres.sh").path

    @Test func aDatabaseThatGoesAwayGives503AndSkillRelayReconnects() async throws {
        let scratch = try CLITests.Scratch()
        let state = scratch.url.appendingPathComponent("postgres-state").path
        let up = try Self.postgres("up", state: state)
        defer { _ = try? Self.postgres("down", state: state) }
        let url = try #require(
            up.stdout.split(separator: "\n").first { $0.hasPrefix("SKILLRELAY_TEST_POSTGRES_URL=") }.map {
                String($0.dropFirst("SKILLRELAY_TEST_POSTGRES_URL=".count))
            })
        let server = SeveralInstancesTests.Instance(db: url, flags: [], log: scratch.url.appendingPathComponent("serve.log").path)
        try await server.start()
        defer { server.kill() }
        let token = try CLITests.token(db: url, employee: "lena.weber")
        #expect(try await server.call("GET", "/v1/questions", token: token).0 == 200)

        _ = try Self.postgres("stop", state: state)
        let (status, body) = try await server.call("GET", "/v1/questions", token: token)
        #expect(status == 503)
        let error = body["error"] as? [String: Any]
        #expect(error?["code"] as? String == "database_unavailable")
        #expect(try await CLITests.get(server.url("/health")).0 == 503)
        #expect(try await CLITests.get(server.url("/livez")).0 == 200)

        _ = try Self.postgres("start", state: state)
        let deadline = Date().addingTimeInterval(120)
        var back = 0
        while Date() < deadline {
            back = try await server.call("GET", "/v1/questions", token: token).0
            if back == 200 { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(back == 200)
    }

    /// Runs `Scripts/postgres.sh COMMAND` with its own state directory, its output through a file. Spawned and waited
    /// for directly (posix_spawn, waitpid): the server it starts outlives it, and Foundation's Process was seen never to
    /// notice this script's exit then.
    static func postgres(_ command: String, state: String) throws -> CLITests.Result {
        let output = state + "-\(command).out"
        let line = "POSTGRES_STATE_DIR='\(state)' '\(script)' \(command) > '\(output)' 2>&1"
        var pid: pid_t = 0
        let arguments = ["/bin/bash", "-c", line]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        guard posix_spawn(&pid, "/bin/bash", nil, nil, &argv, environ) == 0 else {
            throw CLITests.TokenFailure(message: "could not start postgres.sh")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1, errno == EINTR {}
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        guard exit == 0 else { throw CLITests.TokenFailure(message: "postgres.sh \(command): \(text)") }
        return CLITests.Result(status: exit, stdout: text, stderr: "")
    }
}
