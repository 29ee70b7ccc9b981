import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SkillRelayMatrix
import Synchronization

/// Figure 6: end to end on a real Synapse. A small company of its own (a few specialists on one topic, a bot asking
/// through the API) and a real `skillrelay serve --im matrix`; each question is timed from `POST /v1/questions` until
/// it shows up in the specialists' rooms, as their own `/sync` long-polls see it. The baseline, in the same run and the
/// same rooms: the bot's account sending a message there itself, timed the same way, and the plain PUT's round trip.
enum EndToEndBenchmark {
    struct Result {
        var specialists = 0
        var sendRoundTrip: [Duration] = []
        var sendVisible: [Duration] = []
        var askRoundTrip: [Duration] = []
        var askFirstVisible: [Duration] = []
        var askAllVisible: [Duration] = []
    }

    /// Where the test homeserver's script is: this checkout's `Scripts/synapse.sh`, else the working directory's.
    static var script: String {
        let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = checkout.appendingPathComponent("Scripts/synapse.sh").path
        return FileManager.default.fileExists(atPath: path) ? path : "Scripts/synapse.sh"
    }

    static func run(homeserver: String, binary: String, scratch: URL, questions: Int, specialists count: Int) async throws -> Result {
        try await checkReachable(homeserver)
        // Fresh accounts every run, so a run never meets the rooms or messages of an earlier one.
        let tag = "b" + UUID().uuidString.prefix(8).lowercased()
        let bot = try await MatrixAccount.register("\(tag)-skillrelay", homeserver: homeserver, script: script)
        var specialists: [MatrixAccount] = []
        for number in 1...count {
            specialists.append(try await MatrixAccount.register("\(tag)-specialist\(number)", homeserver: homeserver, script: script))
        }

        let database = scratch.appendingPathComponent("e2e.sqlite").path
        let company = scratch.appendingPathComponent("e2e-company")
        try writeCompany(specialists, to: company)
        _ = try command(binary, ["import", "--db", database, company.path])
        let apiToken = try command(binary, ["token", "create", "--db", database, "--bot", "e2e-bench"])
        // No presence cache: presence comes from the bot's sync stream, as in any deployment; someone the stream has not
        // reported would be asked for on every question.
        let config = scratch.appendingPathComponent("e2e-config.json")
        try Data(#"{"matrix":{"presenceCacheSeconds":0}}"#.utf8).write(to: config)
        let server = try await RelayServerProcess(
            binary: binary, database: database, homeserver: homeserver, botToken: bot.token,
            arguments: [
                "--config", config.path, "--wave-size", String(count), "--max-waves", "1", "--wave-interval", "3600", "--hourly-budget",
                "1000000", "--asks-per-minute", "1000000", "--log-level", "warning",
            ],
            log: scratch.appendingPathComponent("e2e-serve.log").path)
        do {
            let result = try await measure(
                server: server, apiToken: apiToken, bot: bot, specialists: specialists, tag: tag, questions: questions)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    // MARK: - Measuring

    static func measure(
        server: RelayServerProcess, apiToken: String, bot: MatrixAccount, specialists: [MatrixAccount], tag: String, questions: Int
    ) async throws -> Result {
        let arrivals = Arrivals(tag: tag)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, specialist) in specialists.enumerated() {
                group.addTask { try await specialist.watchMessages { arrivals.record($0, by: index) } }
            }
            defer { group.cancelAll() }

            // Each specialist opens a direct room with the bot (SkillRelay's sync loop accepts) and goes online; once the
            // bot sees them online, SkillRelay can too.
            var rooms: [String] = []
            for specialist in specialists {
                rooms.append(try await specialist.client.createDirectRoom(inviting: bot.userID))
                try await specialist.setPresence("online")
            }
            for specialist in specialists {
                try await eventually("\(bot.userID) to see \(specialist.userID) online", every: .milliseconds(100), server: server) {
                    (try? await bot.client.presence(of: specialist.userID, timeout: .seconds(2)))?.presence == "online"
                }
            }
            try await Task.sleep(for: .seconds(1))

            var result = Result(specialists: specialists.count)
            let clock = ContinuousClock()
            let warmUp = 3
            for number in -warmUp..<questions {
                // Synapse's own send: the bot's account posts into a specialist's room, that specialist's sync sees it.
                let sent = "\(tag)s\(number + warmUp)"
                let room = rooms[(number + warmUp) % rooms.count]
                let sendStart = clock.now
                _ = try await bot.client.send(TextMessage("Synapse baseline \(sent)"), to: room, transactionID: sent)
                let sendReturned = clock.now
                let sendSeen = try await arrivals.wait(for: sent, count: 1, server: server)
                try await Task.sleep(for: .milliseconds(100))

                // The same path through SkillRelay: ask, presence, wave, outbox, Synapse, every specialist's sync.
                let asked = "\(tag)q\(number + warmUp)"
                let askStart = clock.now
                try await ask(asked, server: server, token: apiToken)
                let askReturned = clock.now
                let askSeen = try await arrivals.wait(for: asked, count: specialists.count, server: server)
                try await Task.sleep(for: .milliseconds(100))

                guard number >= 0 else { continue }
                result.sendRoundTrip.append(sendReturned - sendStart)
                result.sendVisible.append(sendSeen.min()! - sendStart)
                result.askRoundTrip.append(askReturned - askStart)
                result.askFirstVisible.append(askSeen.min()! - askStart)
                result.askAllVisible.append(askSeen.max()! - askStart)
            }
            return result
        }
    }

    /// `POST /v1/questions` as a bot; the marker travels in the question's text.
    static func ask(_ marker: String, server: RelayServerProcess, token: String) async throws {
        var request = HTTPClientRequest(url: server.base + "/v1/questions")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: #"{"topic":"e2e-latency","text":"How fast does this reach you? \#(marker)","maxAnswers":3}"#))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .created else {
            throw MatrixAccount.Failure(description: "POST /v1/questions → \(response.status.code) \(String(buffer: body))")
        }
    }

    /// When each marker reached each specialist, as their `/sync` answers arrive.
    final class Arrivals: Sendable {
        let tag: String
        let clock = ContinuousClock()
        private let seen = Mutex<[String: [Int: ContinuousClock.Instant]]>([:])

        init(tag: String) { self.tag = tag }

        func record(_ body: String, by specialist: Int) {
            let now = clock.now
            let markers = body.split(whereSeparator: \.isWhitespace).filter { $0.hasPrefix(tag) }
            seen.withLock { seen in
                for marker in markers where seen[String(marker), default: [:]][specialist] == nil {
                    seen[String(marker), default: [:]][specialist] = now
                }
            }
        }

        /// The arrival times of `marker` once `count` specialists have seen it (at most 30 s).
        func wait(for marker: String, count: Int, server: RelayServerProcess) async throws -> [ContinuousClock.Instant] {
            var times: [ContinuousClock.Instant] = []
            try await EndToEndBenchmark.eventually("\(marker) to reach \(count) specialist(s)", every: .milliseconds(1), server: server) {
                times = seen.withLock { Array(($0[marker] ?? [:]).values) }
                return times.count >= count
            }
            return times
        }
    }

    // MARK: - Setting up

    static func checkReachable(_ homeserver: String) async throws {
        let request = HTTPClientRequest(url: homeserver + "/_matrix/client/versions")
        guard let response = try? await HTTPClient.shared.execute(request, timeout: .seconds(5)), response.status == .ok else {
            throw MatrixAccount.Failure(
                description:
                    "Figure 6 needs a running Synapse at \(homeserver), and none answers: start one with Scripts/synapse.sh up (or pass --synapse URL)."
            )
        }
        _ = try await response.body.collect(upTo: 1 << 20)
    }

    /// The company: the specialists, all on Matrix and tagged on one topic.
    static func writeCompany(_ specialists: [MatrixAccount], to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var employees = "handle,name,email,im_id,manager,admin,active\n"
        var skills = "handle,topic,level\n"
        for number in 1...specialists.count {
            let handle = "specialist-\(number)"
            employees += "\(handle),Specialist \(number),\(handle)@bench.example,\(specialists[number - 1].userID),,false,true\n"
            skills += "\(handle),e2e-latency,4\n"
        }
        let topics = "slug,name,parent,aliases,description\ne2e-latency,End-to-end latency,,,How fast a question reaches a specialist.\n"
        try Data(employees.utf8).write(to: directory.appendingPathComponent("employees.csv"))
        try Data(topics.utf8).write(to: directory.appendingPathComponent("topics.csv"))
        try Data(skills.utf8).write(to: directory.appendingPathComponent("skills.csv"))
    }

    /// Runs a `skillrelay` command and returns what it printed; a failure shows what it said.
    static func command(_ binary: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let printed = output.fileHandleForReading.readDataToEndOfFile()
        let said = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw MatrixAccount.Failure(description: "skillrelay \(arguments[0]) failed: \(String(decoding: said, as: UTF8.self))")
        }
        return String(decoding: printed, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Polls `check` for at most 30 s; on a timeout, says what did not happen and shows the server's log.
    static func eventually(_ what: String, every interval: Duration, server: RelayServerProcess, _ check: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now.advanced(by: .seconds(30))
        while ContinuousClock.now < deadline {
            if try await check() { return }
            try await Task.sleep(for: interval)
        }
        let log = (try? String(contentsOfFile: server.log, encoding: .utf8)) ?? ""
        throw MatrixAccount.Failure(description: "timed out waiting for \(what); skillrelay serve's log ends:\n\(log.suffix(2_000))")
    }
}
