import Foundation
import SkillRelayDomain
import SkillRelayStore
import SkillRelayTestSupport
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

    /// Runs the binary; `environment` is added to (or replaces variables of) the test's own.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // A command that should have exited but serves instead (a regression) is stopped, generously late, so that the
        // test fails instead of hanging.
        let stop = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 300, execute: stop)
        defer { stop.cancel() }
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

    @Test func loginLinkPrintsAOneTimeLinkForAnEmployee() async throws {
        let scratch = try Scratch()
        #expect(try Self.run(["import", "--db", scratch.db, Self.dataDirectory]).status == 0)
        let made = try Self.run(["login-link", "lin.chen", "--db", scratch.db, "--base-url", "https://relay.example.org/"])
        #expect(made.status == 0, "\(made.stderr)")
        let url = made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(url.hasPrefix("https://relay.example.org/login?token=sl_"))
        #expect(made.stderr.contains("signs in lin.chen once"))
        let secret = String(url.dropFirst("https://relay.example.org/login?token=".count))
        let signIn = SignInService(store: SQLiteWebStore(database: try AppDatabase.open(path: scratch.db)))
        #expect(try await signIn.redeem(secret: secret)?.caller.handle == "lin.chen")
        #expect(try await signIn.redeem(secret: secret) == nil)
        let ghost = try Self.run(["login-link", "ghost", "--db", scratch.db])
        #expect(ghost.status == 1 && ghost.stderr.contains("No employee with handle 'ghost'"))
        let badURL = try Self.run(["login-link", "lin.chen", "--db", scratch.db, "--base-url", "javascript:alert(1)"])
        #expect(badURL.status != 0 && badURL.stderr.contains("--base-url must be an http or https URL"))
    }

    @Test func serveLoadsTheSampleOnFirstStartAnswersAndStopsCleanlyOnSIGTERM() async throws {
        let scratch = try Scratch()
        let port = freeLoopbackPort()
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = ["serve", "--db", scratch.db, "--port", String(port), "--data", Self.dataDirectory]
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        // Wait (bounded, generously: the machine may be busy with other builds) for the server to answer.
        var healthy = false
        for _ in 0..<600 where !healthy {
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
        for _ in 0..<600 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        #expect(!process.isRunning)
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
    }

    struct Timeout: Error {}

    static func get(_ url: String, token: String? = nil) async throws -> (Int, String) {
        var request = URLRequest(url: URL(string: url)!)
        request.timeoutInterval = 60
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }
}

/// SkillRelay killed with SIGKILL mid-question and started again: waves and expiry happen on time, and no answer is lost
/// or relayed twice. Real processes, real time (a few seconds), waits bounded generously: how fast the machine is may
/// change how long a test takes, never whether it passes.
@Suite struct DurabilityTests {
    /// A running `skillrelay serve` on a scratch database, with waves 2 s apart and questions that expire after
    /// `deadline` seconds.
    final class Server {
        let db: String
        let deadline: Int
        let port = freeLoopbackPort()
        var process: Process?

        init(db: String, deadline: Int) {
            self.db = db
            self.deadline = deadline
        }

        func start() async throws {
            let process = Process()
            process.executableURL = CLITests.binary
            process.arguments = [
                "serve", "--db", db, "--port", String(port), "--data", CLITests.dataDirectory, "--wave-size", "1", "--wave-interval", "2",
                "--deadline", String(deadline),
            ]
            process.standardError = FileHandle.nullDevice
            try process.run()
            self.process = process
            for _ in 0..<600 {
                if (try? await CLITests.get("http://127.0.0.1:\(port)/health").0) == 200 { return }
                try await Task.sleep(for: .milliseconds(100))
            }
            throw CLITests.Timeout()
        }

        func kill() {
            guard let process else { return }
            Foundation.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            self.process = nil
        }

        deinit { if let process, process.isRunning { process.terminate() } }

        func token(_ handle: String) throws -> String {
            try CLITests.run(["token", "create", "--db", db, "--employee", handle]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        func call(_ method: String, _ path: String, token: String, body: String? = nil) async throws -> (Int, [String: Any]) {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
            request.httpMethod = method
            request.timeoutInterval = 60
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
            request.httpBody = body.map { Data($0.utf8) }
            let (data, response) = try await URLSession.shared.data(for: request)
            let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, json)
        }

        /// Polls until `condition` holds on the question, for at most `seconds`.
        func waitFor(_ id: String, token: String, seconds: Double, _ condition: ([String: Any]) -> Bool) async throws -> [String: Any] {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                let (_, question) = try await call("GET", "/v1/questions/\(id)", token: token)
                if condition(question) { return question }
                try await Task.sleep(for: .milliseconds(200))
            }
            return try await call("GET", "/v1/questions/\(id)", token: token).1
        }
    }

    @Test func wavesAndAnswersSurviveSIGKILL() async throws {
        let scratch = try CLITests.Scratch()
        // The question must not expire while the test restarts the server (three starts on a busy machine can take
        // longer than any short deadline); expiry has a test of its own.
        let server = Server(db: scratch.db, deadline: 3600)
        try await server.start()
        defer { server.kill() }
        let asker = try server.token("lena.weber")
        let specialists = ["nikos.nikolaidis", "henrik.andersen"]
        var tokens: [String: String] = [:]
        for handle in specialists {
            tokens[handle] = try server.token(handle)
            _ = try await server.call("PUT", "/v1/me/presence", token: tokens[handle]!, body: #"{"status":"available"}"#)
        }
        let (status, asked) = try await server.call(
            "POST", "/v1/questions", token: asker, body: #"{"topic":"k8s","text":"Node drain hangs","maxAnswers":2}"#)
        #expect(status == 201)
        let id = try #require(asked["id"] as? String)
        #expect(asked["deliveredTo"] as? Int == 1)

        // Killed before wave 2 is due; wave 2 goes out after the restart.
        server.kill()
        try await Task.sleep(for: .seconds(2.5))
        try await server.start()
        let afterRestart = try await server.waitFor(id, token: asker, seconds: 60) { ($0["deliveredTo"] as? Int) == 2 }
        #expect(afterRestart["deliveredTo"] as? Int == 2)

        // The first answer is relayed; killed again, it is neither lost nor relayed twice.
        var deliveries: [String: String] = [:]
        for handle in specialists {
            let (_, inbox) = try await server.call("GET", "/v1/inbox", token: tokens[handle]!)
            deliveries[handle] = ((inbox["items"] as? [[String: Any]])?.first?["id"] as? String)
        }
        let (_, first) = try await server.call(
            "POST", "/v1/inbox/\(try #require(deliveries[specialists[0]]))/answer", token: tokens[specialists[0]]!, body: #"{"text":"Check PDBs."}"#)
        #expect(first["rank"] as? Int == 1)
        server.kill()
        try await server.start()
        let (_, reloaded) = try await server.call("GET", "/v1/questions/\(id)", token: asker)
        #expect((reloaded["answers"] as? [[String: Any]])?.count == 1)
        let (_, second) = try await server.call(
            "POST", "/v1/inbox/\(try #require(deliveries[specialists[1]]))/answer", token: tokens[specialists[1]]!,
            body: #"{"text":"Evict pods first."}"#)
        #expect(second["rank"] as? Int == 2)
        let (_, done) = try await server.call("GET", "/v1/questions/\(id)", token: asker)
        #expect(done["status"] as? String == "answered")
        #expect((done["answers"] as? [[String: Any]])?.compactMap { $0["rank"] as? Int } == [1, 2])

        let log = try CLITests.run(["log", "export", "--db", scratch.db, "--since", "2000-01-01"])
        #expect(log.status == 0)
        let relays = log.stdout.split(separator: "\n").filter { $0.contains(#""kind":"relay""#) && $0.contains(id) }
        #expect(relays.count == 2)
    }

    @Test func aQuestionExpiresAfterARestart() async throws {
        let scratch = try CLITests.Scratch()
        let server = Server(db: scratch.db, deadline: 5)
        try await server.start()
        defer { server.kill() }
        let asker = try server.token("lena.weber")
        // Nobody in the tax team ever set a presence: this question waits for its deadline.
        let (status, waiting) = try await server.call("POST", "/v1/questions", token: asker, body: #"{"topic":"tax","text":"VAT on training?"}"#)
        #expect(status == 201)
        let waitingID = try #require(waiting["id"] as? String)
        #expect(waiting["status"] as? String == "open")

        // It expires even though the process that asked it is gone (on a slow machine the first process may have
        // expired it already, which is fine: either way it expires).
        server.kill()
        try await server.start()
        let expired = try await server.waitFor(waitingID, token: asker, seconds: 120) { ($0["status"] as? String) == "expired" }
        #expect(expired["status"] as? String == "expired")
    }
}

/// The config file is checked at start: unknown keys, wrong types and values out of range refuse it, by key.
@Suite struct ConfigFileTests {
    /// Writes `json` as a config file in the scratch directory.
    static func config(_ json: String, in scratch: CLITests.Scratch) throws -> String {
        let path = scratch.url.appendingPathComponent("settings.json").path
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func aMisspeltKeyRefusesTheStartNamingTheFileTheKeyAndTheNearestKnownOne() throws {
        let scratch = try CLITests.Scratch()
        let config = try Self.config(#"{"waveSizee": 3}"#, in: scratch)
        // A real start, not a check: it must refuse before opening the database.
        let result = try CLITests.run(["serve", "--db", scratch.db, "--port", "0", "--config", config])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("Error: The config file '\(config)' is not valid:"), "\(result.stderr)")
        #expect(result.stderr.contains("waveSizee: not a key this version knows. Did you mean 'waveSize'?"), "\(result.stderr)")
        #expect(result.stderr.contains("Known keys here: waveSize, waveIntervalSeconds, maxWaves"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.db))
    }

    @Test func everyProblemAtAnyLevelIsListedByItsDottedPath() throws {
        let scratch = try CLITests.Scratch()
        let config = try Self.config(
            """
            {"matrix": {"homeserver": "https://matrix.example.org", "presenceTimeoutMs": 500, "presenceTimeoutMilliseconds": "fast",
                        "presenceCacheSeconds": -1},
             "allowAwayInLaterWaves": 1, "defaultMaxAnswers": 11, "minimumLevel": 2.5, "waveConfidence": 1,
             "contentRules": [{"name": "ok", "pattern": "a+"}, {"name": "broken", "pattern": "(unclosed"}, {"pattern": "b"}]}
            """, in: scratch)
        let result = try CLITests.run(["serve", "--check-config", "--db", scratch.db, "--config", config])
        #expect(result.status == 1)
        for line in [
            "matrix.presenceTimeoutMs: not a key this version knows. Did you mean 'presenceTimeoutMilliseconds'? Known keys here: homeserver,",
            #"matrix.presenceTimeoutMilliseconds: "fast" is not a whole number of at least 1."#,
            "matrix.presenceCacheSeconds: -1 is out of range; it must be a whole number of at least 0.",
            "allowAwayInLaterWaves: 1 is not true or false.",
            "defaultMaxAnswers: 11 is out of range; it must be a whole number from 1 to 10.",
            "minimumLevel: 2.5 is not a whole number from 1 to 5.",
            "waveConfidence: 1 is out of range; it must be a number more than 0 and at most 0.999.",
            #"contentRules[1].pattern: "(unclosed" is not a valid regular expression (a string)."#,
            "contentRules[2].name: missing; it must be a string.",
        ] {
            #expect(result.stderr.contains(line), "\(line)\n\(result.stderr)")
        }
        #expect(!result.stderr.contains("contentRules[0]"))
        #expect(!FileManager.default.fileExists(atPath: scratch.db))
    }

    @Test func checkConfigSaysOKInOneLineAndTouchesNothing() throws {
        let scratch = try CLITests.Scratch()
        let config = try Self.config(
            #"{"waveSize": 3, "allowAwayInLaterWaves": true, "matrix": {"homeserver": "https://matrix.example.org", "accessToken": "syt_x", "pickleKey": "a-long-random-secret"}}"#,
            in: scratch)
        let ok = try CLITests.run(["serve", "--check-config", "--db", scratch.db, "--config", config, "--im", "matrix"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.hasPrefix("skillrelay: the configuration is valid") && ok.stdout.filter { $0 == "\n" }.count == 1, "\(ok.stdout)")
        #expect(!FileManager.default.fileExists(atPath: scratch.db))
        // The flags are checked too: a flag out of range, or Matrix without a token, fails the check.
        let badFlag = try CLITests.run(["serve", "--check-config", "--db", scratch.db, "--config", config, "--wave-size", "0"])
        #expect(badFlag.status != 0 && badFlag.stderr.contains("'waveSize' must be at least 1"), "\(badFlag.stderr)")
        let noToken = try Self.config(#"{"matrix": {"homeserver": "https://matrix.example.org"}}"#, in: scratch)
        let missing = try CLITests.run(["serve", "--check-config", "--db", scratch.db, "--config", noToken, "--im", "matrix"])
        #expect(missing.status != 0 && missing.stderr.contains("needs the bot's access token"), "\(missing.stderr)")
        // Without a secret to seal the bot's encryption keys with, Matrix is refused: keys in clear are not an option.
        let noPickleKey = try Self.config(#"{"matrix": {"homeserver": "https://matrix.example.org", "accessToken": "syt_x"}}"#, in: scratch)
        let unsealed = try CLITests.run(["serve", "--check-config", "--db", scratch.db, "--config", noPickleKey, "--im", "matrix"])
        #expect(unsealed.status != 0 && unsealed.stderr.contains("SKILLRELAY_MATRIX_PICKLE_KEY"), "\(unsealed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: scratch.db))
    }

    @Test func aFileThatIsNotJSONOrNotThereIsRefused() throws {
        let scratch = try CLITests.Scratch()
        let broken = try Self.config(#"{"waveSize": 3,"#, in: scratch)
        let notJSON = try CLITests.run(["serve", "--check-config", "--db", scratch.db, "--config", broken])
        #expect(notJSON.status == 1 && notJSON.stderr.contains("it is not JSON"), "\(notJSON.stderr)")
        let list = try Self.config(#"[1, 2]"#, in: scratch)
        let notObject = try CLITests.run(["serve", "--check-config", "--db", scratch.db, "--config", list])
        #expect(notObject.status == 1 && notObject.stderr.contains("the file: a list is not an object with any of the keys waveSize"))
        let absent = try CLITests.run([
            "serve", "--check-config", "--db", scratch.db, "--config", scratch.url.appendingPathComponent("nope.json").path,
        ])
        #expect(absent.status == 1 && absent.stderr.contains("nope.json' is not valid:\n  it cannot be read"), "\(absent.stderr)")
    }
}

@Suite struct GenerateCommandTests {
    @Test func aGeneratedCompanyImports() throws {
        let scratch = try CLITests.Scratch()
        let directory = scratch.url.appendingPathComponent("company").path
        let generated = try CLITests.run(["generate", "--employees", "500", "--topics", "30", "--skills", "3000", directory])
        #expect(generated.status == 0, "\(generated.stderr)")
        let imported = try CLITests.run(["import", "--db", scratch.db, directory])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.hasPrefix("Imported 500 employees, 30 topics and 3000 skills"))
        let refused = try CLITests.run(["generate", "--employees", "2", "--topics", "2", "--skills", "9", directory])
        #expect(refused.status != 0)
    }
}
