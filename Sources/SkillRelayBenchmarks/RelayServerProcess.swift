import AsyncHTTPClient
import Foundation
import SkillRelayTestSupport

/// A real `skillrelay serve` process (`--im matrix` on a homeserver, or without one the embedded `local` IM), started on a
/// database and stopped politely: SIGTERM, then SIGKILL if it has not exited within 10 s.
final class RelayServerProcess: @unchecked Sendable {
    // @unchecked: `process` is set once in init; afterwards it is only asked whether it runs and sent signals.
    let base: String
    let log: String
    private let process: Process

    /// Starts the server and waits until `/livez` answers (at most 20 s).
    init(binary: String, database: String, homeserver: String?, botToken: String = "", arguments: [String], log: String) async throws {
        let port = freeLoopbackPort()
        base = "http://127.0.0.1:\(port)"
        self.log = log
        process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--im", homeserver == nil ? "local" : "matrix", "--db", database, "--port", String(port)] + arguments
        var environment = ProcessInfo.processInfo.environment
        if let homeserver {
            environment["SKILLRELAY_MATRIX_HOMESERVER"] = homeserver
            environment["SKILLRELAY_MATRIX_TOKEN"] = botToken
            environment["SKILLRELAY_MATRIX_PICKLE_KEY"] = "pickle-key-of-a-test-bot"
        }
        process.environment = environment
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        for _ in 0..<200 {
            if let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: base + "/livez"), timeout: .seconds(1)),
                response.status == .ok
            {
                return
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        await stop()
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        throw MatrixAccount.Failure(description: "skillrelay serve did not come up; its log:\n\(text.suffix(2_000))")
    }

    var processIdentifier: Int32 { process.processIdentifier }

    /// SIGTERM, up to 10 s for a graceful exit, then SIGKILL; returns whether SIGTERM was enough.
    @discardableResult
    func stop() async -> Bool {
        guard process.isRunning else { return true }
        process.terminate()
        for _ in 0..<100 where process.isRunning { try? await Task.sleep(for: .milliseconds(100)) }
        guard process.isRunning else { return true }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        return false
    }
}
