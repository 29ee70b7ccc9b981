import AsyncHTTPClient
import Foundation
import NIOCore
import SkillRelayTestSupport
import Synchronization
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Two `skillrelay serve` processes on one PostgreSQL, as behind a load balancer: questions asked and answered through
/// either, one killed with SIGKILL in the middle. Every chosen specialist hears of each question exactly once, every
/// answer is relayed exactly once, nothing is lost or stuck, and streams on the survivor see what the other wrote.
@Suite(.enabled(if: TestPostgres.serverURL != nil), .serialized)
struct SeveralInstancesTests {
    /// The sample company's people tagged with Python (47 of them): the pool the questions go to.
    static let topic = "python"

    @Test func aHundredQuestionsThroughTwoInstancesOneKilledHalfway() async throws {
        let url = try await TestPostgres.emptyDatabaseURL()
        let scratch = try CLITests.Scratch()
        let flags = [
            "--wave-size", "2", "--wave-interval", "3600", "--max-answers", "1", "--hourly-budget", "100", "--daily-budget", "100",
            "--asks-per-minute", "1000", "--deadline", "3600",
        ]
        let first = Instance(db: url, flags: flags, log: scratch.url.appendingPathComponent("first.log").path)
        let second = Instance(db: url, flags: flags, log: scratch.url.appendingPathComponent("second.log").path)
        defer {
            first.kill()
            second.kill()
        }
        // Both start on the empty database at once: one migrates and loads the sample directory, the other waits for it.
        async let firstStarted: Void = first.start()
        async let secondStarted: Void = second.start()
        _ = try await (firstStarted, secondStarted)
        let instances = [first, second]

        let specialists = try Self.taggedPeople(Self.topic)
        #expect(specialists.count >= 20)
        let asker = try CLITests.token(db: url, employee: "lena.weber")
        var tokens: [String: String] = [:]
        for (index, handle) in specialists.enumerated() {
            let token = try CLITests.token(db: url, employee: handle)
            tokens[handle] = token
            let (status, _) = try await instances[index % 2].call("PUT", "/v1/me/presence", token: token, body: #"{"status":"available"}"#)
            #expect(status == 200)
        }

        let http = Self.makeHTTPClient()
        do {
            try await Self.story(first: first, second: second, url: url, asker: asker, specialists: specialists, tokens: tokens, http: http)
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    static func story(
        first: Instance, second: Instance, url: String, asker: String, specialists: [String], tokens: [String: String], http: HTTPClient
    ) async throws {
        // Every specialist's inbox stream is on the survivor, open before the first question.
        var inboxes: [String: EventStream] = [:]
        for handle in specialists {
            inboxes[handle] = EventStream(http: http, url: second.url("/v1/inbox/events"), token: tokens[handle]!)
        }
        for stream in inboxes.values { try await stream.waitUntilLive() }

        var questionIDs: [String] = []
        var askerStreams: [String: EventStream] = [:]
        var firstAlive = true
        for number in 0..<100 {
            let label = String(format: "Q%03d", number)
            let through = firstAlive && number % 2 == 0 ? first : second
            let (status, asked) = try await through.call(
                "POST", "/v1/questions", token: asker, body: #"{"topic":"\#(Self.topic)","text":"\#(label): how do I pin a dependency?"}"#)
            #expect(status == 201, "\(label): \(asked)")
            let id = try #require(asked["id"] as? String)
            questionIDs.append(id)
            askerStreams[id] = EventStream(http: http, url: second.url("/v1/questions/\(id)/events"), token: asker)
            if number == 50 {
                // In the middle: the first instance may hold this question's messages unsent (claimed, not yet sent);
                // their lease lapses and the survivor sends them.
                first.kill()
                firstAlive = false
            }
            // Whoever hears of it first answers, through the instance the question came in by while it lives.
            let (holder, delivery) = try await Self.firstDelivery(of: label, in: inboxes, seconds: 240)
            let answerer = firstAlive && number % 2 == 0 ? first : second
            let (answered, body) = try await answerer.call(
                "POST", "/v1/inbox/\(delivery)/answer", token: tokens[holder]!, body: #"{"text":"\#(label): use a lock file."}"#)
            #expect(answered == 200, "\(label): \(body)")
        }

        // Every question answered: none lost, none stuck.
        for id in questionIDs {
            let question = try await second.waitFor(id, token: asker, seconds: 240) { ($0["status"] as? String) == "answered" }
            #expect(question["status"] as? String == "answered", "\(id) is \(question["status"] ?? "missing")")
        }
        // Each asker stream (all on the survivor, half of the answers written through the other) saw its one answer once.
        for (id, stream) in askerStreams {
            try await stream.waitForEnd(seconds: 120)
            #expect(stream.events(named: "answer").count == 1, "question \(id)")
        }
        // Each specialist's stream saw each of their deliveries exactly once, and nothing else: waited for until every
        // delivery has arrived (generously, however busy the machine), then compared with duplicates counted.
        for handle in specialists {
            let delivered = try await second.inbox(token: tokens[handle]!)
            let deadline = Date().addingTimeInterval(120)
            var seen: [String] = []
            repeat {
                seen = inboxes[handle]!.events(named: "delivery").compactMap { Self.json($0)["id"] as? String }
                if Set(seen).isSuperset(of: delivered) { break }
                try await Task.sleep(for: .milliseconds(250))
            } while Date() < deadline
            #expect(seen.sorted() == delivered.sorted(), "\(handle): streamed \(seen.count), holds \(delivered.count)")
        }
        // The compliance log agrees: one relay per question.
        let log = try CLITests.run(["log", "export", "--db", url, "--since", "2000-01-01"])
        #expect(log.status == 0, "\(log.stderr)")
        let relays = log.stdout.split(separator: "\n").filter { $0.contains(#""kind":"relay""#) }
        for id in questionIDs {
            #expect(relays.filter { $0.contains(id) }.count == 1, "relays of \(id)")
        }
        for stream in Array(inboxes.values) + Array(askerStreams.values) { stream.cancel() }
    }

    // MARK: - Helpers

    /// The first `delivery` event naming `label`, on anyone's stream: who holds it and the delivery's id.
    static func firstDelivery(of label: String, in inboxes: [String: EventStream], seconds: Double) async throws -> (String, String) {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            for (handle, stream) in inboxes {
                for event in stream.events(named: "delivery") {
                    let item = json(event)
                    if (item["text"] as? String)?.hasPrefix(label) == true, let id = item["id"] as? String { return (handle, id) }
                }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw CLITests.Timeout()
    }

    static func json(_ data: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(data.utf8))) as? [String: Any] ?? [:]
    }

    /// Active people tagged with `topic` in the sample `Data/` (employees.csv: handle first, `active` seventh).
    static func taggedPeople(_ topic: String) throws -> [String] {
        let employees = try String(contentsOfFile: CLITests.dataDirectory + "/employees.csv", encoding: .utf8)
        let inactive = Set(
            employees.split(separator: "\n").dropFirst().compactMap { line -> String? in
                let fields = line.split(separator: ",", omittingEmptySubsequences: false)
                return fields.count >= 7 && fields[6] == "false" ? String(fields[0]) : nil
            })
        let csv = try String(contentsOfFile: CLITests.dataDirectory + "/skills.csv", encoding: .utf8)
        return csv.split(separator: "\n").dropFirst().compactMap { line in
            let fields = line.split(separator: ",")
            return fields.count >= 2 && fields[1] == topic && !inactive.contains(String(fields[0])) ? String(fields[0]) : nil
        }
    }

    /// A client with room for every stream at once (the shared one queues beyond a few connections per host).
    static func makeHTTPClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 200)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// A running `skillrelay serve` on the shared database, on a port the system says is free.
    final class Instance: @unchecked Sendable {
        let db: String
        let flags: [String]
        let log: String
        let port: Int
        var process: Process?

        init(db: String, flags: [String], log: String) {
            self.db = db
            self.flags = flags
            self.log = log
            self.port = freeLoopbackPort()
        }

        func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

        func start() async throws {
            let process = Process()
            process.executableURL = CLITests.binary
            process.arguments = ["serve", "--db", db, "--port", String(port), "--data", CLITests.dataDirectory] + flags
            FileManager.default.createFile(atPath: log, contents: nil)
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            self.process = process
            for _ in 0..<1800 {
                if (try? await CLITests.get(url("/health")).0) == 200 { return }
                if !process.isRunning { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            let tail = (try? String(contentsOfFile: log, encoding: .utf8)).map { String($0.suffix(3000)) } ?? ""
            Issue.record("skillrelay serve on port \(port) did not start:\n\(tail)")
            throw CLITests.Timeout()
        }

        func kill() {
            guard let process else { return }
            if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            self.process = nil
        }

        deinit { if let process, process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) } }

        func call(_ method: String, _ path: String, token: String, body: String? = nil) async throws -> (Int, [String: Any]) {
            var request = URLRequest(url: URL(string: url(path))!)
            request.httpMethod = method
            request.timeoutInterval = 120
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
            request.httpBody = body.map { Data($0.utf8) }
            let (data, response) = try await URLSession.shared.data(for: request)
            return ((response as? HTTPURLResponse)?.statusCode ?? 0, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
        }

        /// Every delivery id in the caller's inbox, read a page at a time.
        func inbox(token: String) async throws -> [String] {
            var ids: [String] = []
            var after: String?
            repeat {
                let (_, page) = try await call("GET", "/v1/inbox?limit=100" + (after.map { "&after=\($0)" } ?? ""), token: token)
                ids += (page["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                after = page["next"] as? String
            } while after != nil
            return ids
        }

        /// Polls until `condition` holds on the question, for at most `seconds`.
        func waitFor(_ id: String, token: String, seconds: Double, _ condition: ([String: Any]) -> Bool) async throws -> [String: Any] {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                let (_, question) = try await call("GET", "/v1/questions/\(id)", token: token)
                if condition(question) { return question }
                try await Task.sleep(for: .milliseconds(250))
            }
            return try await call("GET", "/v1/questions/\(id)", token: token).1
        }
    }

    /// A server-sent event stream read in the background: its events as they came, and whether it went live or ended.
    final class EventStream: Sendable {
        typealias State = (events: [(name: String, data: String)], live: Bool, ended: Bool)
        /// What the reader found, shared with its task.
        final class Shared: Sendable {
            let state = Mutex<State>(([], false, false))
        }
        private let shared = Shared()
        private let task = Mutex<Task<Void, Never>?>(nil)

        init(http: HTTPClient, url: String, token: String) {
            let reader = Task { [shared] in
                var request = HTTPClientRequest(url: url)
                request.headers.add(name: "Authorization", value: "Bearer \(token)")
                request.headers.add(name: "Accept", value: "text/event-stream")
                defer { shared.state.withLock { $0.ended = true } }
                guard let response = try? await http.execute(request, timeout: .hours(1)) else { return }
                var pending = ""
                do {
                    for try await chunk in response.body {
                        pending += String(buffer: chunk)
                        while let end = pending.range(of: "\n\n") {
                            let block = String(pending[..<end.lowerBound])
                            pending = String(pending[end.upperBound...])
                            Self.take(block, into: shared)
                        }
                    }
                } catch {}
            }
            task.withLock { $0 = reader }
        }

        private static func take(_ block: String, into shared: Shared) {
            var name = "message"
            var data: [String] = []
            for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix(": connected") { shared.state.withLock { $0.live = true } }
                if line.hasPrefix("event: ") { name = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { data.append(String(line.dropFirst(6))) }
            }
            if !data.isEmpty { shared.state.withLock { $0.events.append((name, data.joined(separator: "\n"))) } }
        }

        func events(named name: String) -> [String] {
            shared.state.withLock { $0.events.filter { $0.name == name }.map(\.data) }
        }

        func waitUntilLive(seconds: Double = 60) async throws {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if shared.state.withLock({ $0.live }) { return }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw CLITests.Timeout()
        }

        func waitForEnd(seconds: Double) async throws {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if shared.state.withLock({ $0.ended }) { return }
                try await Task.sleep(for: .milliseconds(100))
            }
        }

        func cancel() { task.withLock { $0?.cancel() } }
    }
}

extension CLITests {
    /// A new API token for an employee, made by the CLI.
    static func token(db: String, employee: String) throws -> String {
        let result = try run(["token", "create", "--db", db, "--employee", employee])
        guard result.status == 0 else { throw TokenFailure(message: result.stderr) }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    struct TokenFailure: Error { var message: String }

}
