import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A real `skillrelay serve --im matrix` process on a scratch database.
final class RelayProcess: @unchecked Sendable {
    // @unchecked: used from one test at a time; `process` only changes in start() and kill().
    static let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("skillrelay")

    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("skillrelay-matrix-\(UUID().uuidString)")
    let port = Int.random(in: 20_000...40_000)
    let homeserver: String
    let botToken: String
    let arguments: [String]
    private var process: Process?

    var db: String { directory.appendingPathComponent("relay.sqlite").path }
    var log: String { directory.appendingPathComponent("relay.log").path }

    init(homeserver: String, botToken: String, arguments: [String]) throws {
        self.homeserver = homeserver
        self.botToken = botToken
        self.arguments = arguments
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit {
        if let process, process.isRunning { process.terminate() }
        try? FileManager.default.removeItem(at: directory)
    }

    func start() async throws {
        let process = Process()
        process.executableURL = Self.binary
        // These stories' people are played by a client without end-to-end encryption (MatrixUser), as in a company that
        // forbids it, so the rooms the bot opens are not encrypted; the encrypted story is Tests/matrix-e2e.
        let config = directory.appendingPathComponent("config.json")
        try Data(#"{"matrix": {"encryptRooms": false}}"#.utf8).write(to: config)
        process.arguments =
            [
                "serve", "--im", "matrix", "--db", db, "--port", String(port), "--data", SynapseEnvironment.projectDirectory + "/Data", "--config",
                config.path,
            ]
            + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["SKILLRELAY_MATRIX_HOMESERVER"] = homeserver
        environment["SKILLRELAY_MATRIX_TOKEN"] = botToken
        environment["SKILLRELAY_MATRIX_PICKLE_KEY"] = "pickle-key-of-a-test-bot"
        process.environment = environment
        if !FileManager.default.fileExists(atPath: log) { FileManager.default.createFile(atPath: log, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        handle.seekToEndOfFile()
        process.standardError = handle
        process.standardOutput = handle
        try process.run()
        self.process = process
        _ = try await eventually(20, "SkillRelay to answer /health") { () -> Bool? in
            guard let url = URL(string: "http://127.0.0.1:\(self.port)/health") else { return nil }
            return (try? Data(contentsOf: url)) != nil ? true : nil
        }
    }

    /// SIGKILL: no goodbye, as in a crash.
    func kill() {
        guard let process else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    /// A token for the HTTP API.
    func token(for handle: String) throws -> String {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = ["token", "create", "--db", db, "--employee", handle]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Calls the HTTP API; returns the status and the JSON object.
    func api(_ method: String, _ path: String, token: String, body: String? = nil) async throws -> (Int, [String: Any]) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        request.timeoutInterval = 10
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.httpBody = body.map { Data($0.utf8) }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
    }

    var logText: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
}

/// Stops and starts the test Synapse, keeping its data.
enum Synapse {
    static func run(_ command: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [SynapseEnvironment.projectDirectory + "/Scripts/synapse.sh", command]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw MatrixUser.Failure(description: "synapse.sh \(command) failed") }
    }
}
