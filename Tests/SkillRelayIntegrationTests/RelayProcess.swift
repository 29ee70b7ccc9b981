import Foundation
import SkillRelayTestSupport

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A real `skillrelay serve --im matrix` process on a scratch database.
final class RelayProcess: @unchecked Sendable {
    // @unchecked: used from one test at a time; `process` only changes in start() and kill().
    static let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("skillrelay")

    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("skillrelay-matrix-\(UUID().uuidString)")
    /// A port nobody listens on now, as the system hands them out (a random one could be taken: Linux gives
    /// connections ephemeral ports from 32768 up, and a `serve` that cannot listen never answers).
    let port = freeLoopbackPort()
    let homeserver: String
    let botToken: String
    let arguments: [String]
    /// The database: a SQLite file of its own unless a PostgreSQL URL is given (several instances sharing one).
    let database: String?
    private var process: Process?

    var db: String { database ?? directory.appendingPathComponent("relay.sqlite").path }
    var log: String { directory.appendingPathComponent("relay.log").path }

    init(homeserver: String, botToken: String, arguments: [String], database: String? = nil) throws {
        self.homeserver = homeserver
        self.botToken = botToken
        self.arguments = arguments
        self.database = database
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
        do {
            // Generous: CI runs every suite side by side on two cores.
            _ = try await eventually(90, "SkillRelay to answer /health") { () -> Bool? in
                guard let url = URL(string: "http://127.0.0.1:\(self.port)/health") else { return nil }
                return (try? Data(contentsOf: url)) != nil ? true : nil
            }
        } catch {
            throw MatrixUser.Failure(description: "\(error); \(whereItStands(logLines: 20))")
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
        // Generous: no story here is about this deadline, and CI runs every suite side by side on two cores.
        request.timeoutInterval = 60
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.httpBody = body.map { Data($0.utf8) }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
    }

    var logText: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// Rooms whose messages a failed story shows (`narratingFailures`).
    private var shownRooms: [(user: MatrixUser, room: String)] = []

    /// Has a failed story show this room's messages as `user` reads them.
    func show(_ room: String, of user: MatrixUser) { shownRooms.append((user, room)) }

    /// Runs a story's steps; a failure carries, first, what the relay's outbox holds unsent and the end of its log, then
    /// what the rooms given to `show` hold, so that a CI run that fails says what the relay did and what the people saw
    /// (a timeout alone says nothing of why). Kept short: a CI report shows only the first lines after a failure.
    func narratingFailures<T>(_ steps: () async throws -> T) async throws -> T {
        do {
            return try await steps()
        } catch {
            var transcripts: [String] = []
            for (user, room) in shownRooms { transcripts.append(await user.transcript(of: room)) }
            throw MatrixUser.Failure(
                description: "\(error)\n\(outboxDigest())\n\(whereItStands(logLines: 30))\n\(transcripts.joined(separator: "\n"))")
        }
    }

    /// Whether `skillrelay serve` still runs, and the last `logLines` lines of its log that say what it did: without
    /// the service lifecycle's start-up lines (each spells out every service's whole configuration) and the HTTP
    /// request lines, each cut to 240 characters.
    func whereItStands(logLines: Int) -> String {
        let state = process.map { $0.isRunning ? "still running" : "exited with status \($0.terminationStatus)" } ?? "stopped by the test"
        let lines = logText.split(separator: "\n").filter { !$0.contains("[ServiceLifecycle]") && !$0.contains("[Hummingbird] Request") }
        let tail = lines.suffix(logLines).map { $0.count > 240 ? $0.prefix(240) + "…" : $0 }.joined(separator: "\n")
        return "skillrelay serve is \(state); the end of its log:\n\(tail)"
    }

    /// What the relay's outbox has not sent (at most ten, oldest first: destination, tries, last error), read from its
    /// SQLite database with the `sqlite3` shell where there is one.
    func outboxDigest() -> String {
        guard database == nil else { return "outbox: on PostgreSQL, not read here" }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "sqlite3", "-readonly", db,
            "SELECT 'sent ' || count(sentAt) || ', given up ' || count(failedAt) || ', waiting ' || (count(*) - count(sentAt) - count(failedAt)) FROM outbox;"
                + " SELECT id, destination, attempts, nextAttemptAt, substr(coalesce(lastError, '-'), 1, 160) FROM outbox"
                + " WHERE sentAt IS NULL AND failedAt IS NULL ORDER BY id LIMIT 10;",
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        do {
            try process.run()
        } catch {
            return "outbox: could not be read (\(error))"
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return "outbox: " + String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
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
