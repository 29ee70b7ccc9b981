import AsyncHTTPClient
import Foundation
import NIOCore
import SkillRelayDomain
import Synchronization

/// Figures 3 and 5: the ask path over HTTP on real `skillrelay serve --im matrix` processes (presence and messages
/// answered by the fake IM server), next to the liveness route of the same servers; on SQLite, and given the options,
/// on an earlier build's binary and on PostgreSQL with one instance and with two.
extension SkillRelayBenchmarks {
    /// One way of serving the ask path: a binary, a kind of database, how many instances share it.
    struct AskSetup: Sendable {
        var label: String
        var binary: String
        var instances: Int
        /// The set-up's database as every run of it starts: a copy of the imported company.
        var database: @Sendable () async throws -> BenchDatabase
        /// Throws a run's database away afterwards.
        var discard: @Sendable (BenchDatabase) async -> Void
    }

    struct AskResult {
        var liveness = AskPathBenchmark.Load()
        var ask = AskPathBenchmark.Load()
        /// CPU seconds PostgreSQL's processes on this machine spent during the ask load (`nil` on SQLite, whose work is
        /// the server's, or where PostgreSQL runs elsewhere).
        var databaseCPU: Double?
        /// The largest peak RSS of the set-up's server processes.
        var serverRSS: Double?
        /// Whether every server exited within 10 s of SIGTERM after the loads.
        var stoppedBySIGTERM = true
        /// Question messages the asks queued (one per delivery), the fake received while the asks ran, and the outbox
        /// still held when the servers had stopped: whether deliveries kept up with the asks.
        var questionMessages = 0
        var messagesDuringLoad = 0
        var unsentAtStop = 0
        /// Seconds after the load until the outbox held nothing unsent (the servers still running, nothing more asked);
        /// `nil` when it still did after `drainLimit`.
        var drainSeconds: Double?

        /// The asks a second over the load and the drain after it: the rate at which asks were taken *and* every
        /// question they queued reached the IM server. `nil` when the outbox did not drain.
        var perSecondWithEveryMessageSent: Double? {
            drainSeconds.map { drain in Double(ask.requests) / max(Measurement.seconds(ask.elapsed) + drain, 1e-9) }
        }
    }

    /// How long the servers may take after the load to send what the asks queued.
    static let drainLimit: Duration = .seconds(60)

    /// This build's `skillrelay`, next to the benchmark's binary.
    var thisBinary: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("skillrelay").path
    }

    func askFigures(database: String, companies: PostgresCompanies?, scratch: URL) async throws {
        // Every run starts from the imported company: a copy made now, before any load writes to it. The first run of
        // this build on SQLite uses the imported database itself, which figure 8 then reads with its questions.
        let pristine = try BenchDatabase.sqliteCopy(of: database, to: scratch.appendingPathComponent("ask-pristine.sqlite").path)
        let originalUsed = Flag()
        let copies = Counter()
        @Sendable func sqliteRun() throws -> BenchDatabase {
            if originalUsed.set() { return .sqlite(path: database) }
            return try BenchDatabase.sqliteCopy(
                of: pristine.argument, to: scratch.appendingPathComponent("ask-run-\(copies.next()).sqlite").path)
        }
        @Sendable func sqliteCopy() throws -> BenchDatabase {
            try BenchDatabase.sqliteCopy(of: pristine.argument, to: scratch.appendingPathComponent("ask-run-\(copies.next()).sqlite").path)
        }
        let discardSQLite: @Sendable (BenchDatabase) async -> Void = { copy in
            guard case .sqlite(let path) = copy, path != database else { return }
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        var setups = [AskSetup(label: "SQLite, this build", binary: thisBinary, instances: 1, database: sqliteRun, discard: discardSQLite)]
        if let baselineBinary {
            setups.append(
                AskSetup(label: "SQLite, baseline build", binary: baselineBinary, instances: 1, database: sqliteCopy, discard: discardSQLite))
        }
        if let companies {
            let fresh: @Sendable () async throws -> BenchDatabase = { .postgres(try await companies.fresh()) }
            let drop: @Sendable (BenchDatabase) async -> Void = { database in
                if case .postgres(let location) = database { await companies.drop(location) }
            }
            setups.append(AskSetup(label: "PostgreSQL, one instance", binary: thisBinary, instances: 1, database: fresh, discard: drop))
            setups.append(AskSetup(label: "PostgreSQL, two instances", binary: thisBinary, instances: 2, database: fresh, discard: drop))
        }
        let rounds = askRounds
        let results = try await withFakeIMServer { fake, homeserver in
            var results: [String: [AskResult]] = [:]
            for round in 0..<rounds {
                // Each set-up goes first in turn: the machine's state drifts during a run.
                for offset in 0..<setups.count {
                    let setup = setups[(offset + round) % setups.count]
                    let run = try await setup.database()
                    do {
                        let result = try await askPath(setup, database: run, homeserver: homeserver, fake: fake, scratch: scratch, round: round)
                        results[setup.label, default: []].append(result)
                    } catch {
                        await setup.discard(run)
                        throw error
                    }
                    await setup.discard(run)
                }
            }
            return results
        }
        discardSQLiteFile(pristine.argument)
        if let first = results[setups[0].label]?.first { printAskPath(first) }
        if setups.count > 1 || rounds > 1 { printAskComparison(setups.map(\.label), results: results) }
    }

    private func discardSQLiteFile(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    /// Starts the set-up's servers on `database` and loads them: first the liveness route, then the ask, the
    /// connections spread evenly over the instances.
    func askPath(_ setup: AskSetup, database: BenchDatabase, homeserver: String, fake: FakeIMServer, scratch: URL, round: Int) async throws
        -> AskResult
    {
        let token = try Self.output(setup.binary, ["token", "create", "--db", database.argument, "--bot", "bench"])
        // `token create` prints the secret alone (`sr_…`), or nothing when it failed (its error goes to standard error).
        guard token.hasPrefix("sr_") else {
            throw MatrixAccount.Failure(description: "token create on \(setup.label) said: \(token)")
        }
        try await database.giveEveryoneARoom()
        let name = setup.label.lowercased().replacingOccurrences(of: ", ", with: "-").replacingOccurrences(of: " ", with: "-")
        var servers: [RelayServerProcess] = []
        do {
            for instance in 0..<setup.instances {
                let log =
                    serverLog.map { "\($0).\(name)-\(round)-\(instance)" }
                    ?? scratch.appendingPathComponent("server-\(name)-\(round)-\(instance).log").path
                servers.append(
                    try await RelayServerProcess(
                        binary: setup.binary, database: database.argument, homeserver: homeserver, botToken: "bench",
                        arguments: ["--asks-per-minute", "100000000", "--log-level", serverLog == nil ? "error" : "debug"], log: log))
            }
        } catch {
            for server in servers { await server.stop() }
            throw error
        }
        let bases = servers.map(\.base)
        let pids = servers.map { String($0.processIdentifier) }
        func serverCPU() -> Double? {
            let each = pids.map { Measurement.cpuSeconds(pid: $0) }
            return each.contains { $0 == nil } ? nil : each.reduce(0) { $0 + ($1 ?? 0) }
        }
        var result = AskResult()
        var cpuBefore = serverCPU()
        result.liveness = await AskPathBenchmark.load(connections: connections, seconds: loadSeconds) { sequence in
            HTTPClientRequest(url: bases[(sequence / 1_000_000) % bases.count] + "/livez")
        }
        result.liveness.serverCPU = serverCPU().flatMap { after in cpuBefore.map { after - $0 } }
        let topics = self.topics
        let messagesBefore = fake.messageCount
        cpuBefore = serverCPU()
        // PostgreSQL's work for the asks happens in its own processes, on the same cores when it runs here.
        var databaseCPU: () -> Double? = { nil }
        if case .postgres = database { databaseCPU = { Measurement.cpuSeconds(ofProcessesNamed: "postgres") } }
        let databaseCPUBefore = databaseCPU()
        result.ask = await AskPathBenchmark.load(connections: connections, seconds: loadSeconds) { sequence in
            var request = HTTPClientRequest(url: bases[(sequence / 1_000_000) % bases.count] + "/v1/questions")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            request.headers.add(name: "Content-Type", value: "application/json")
            let topic = SyntheticDirectory.slug(sequence % min(50, topics))
            request.body = .bytes(ByteBuffer(string: #"{"topic":"\#(topic)","text":"Benchmark question \#(sequence)","maxAnswers":3}"#))
            return request
        }
        result.ask.serverCPU = serverCPU().flatMap { after in cpuBefore.map { after - $0 } }
        result.databaseCPU = databaseCPU().flatMap { after in databaseCPUBefore.map { after - $0 } }
        result.messagesDuringLoad = fake.messageCount - messagesBefore
        result.drainSeconds = try await drained(database)
        result.serverRSS = pids.compactMap { Measurement.peakRSS(pid: $0) }.max()
        for server in servers { result.stoppedBySIGTERM = await server.stop() && result.stoppedBySIGTERM }
        result.questionMessages = try await database.count("SELECT count(*) FROM delivery")
        result.unsentAtStop = try await database.count("SELECT count(*) FROM outbox WHERE sentAt IS NULL AND failedAt IS NULL")
        return result
    }

    /// Waits, the servers still running and nothing more asked, until the outbox holds nothing unsent; how long that
    /// took, or `nil` if it still did after `drainLimit`.
    private func drained(_ database: BenchDatabase) async throws -> Double? {
        let clock = ContinuousClock()
        let start = clock.now
        while clock.now - start < Self.drainLimit {
            if try await database.count("SELECT count(*) FROM outbox WHERE sentAt IS NULL AND failedAt IS NULL") == 0 {
                return Measurement.seconds(clock.now - start)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    func printAskPath(_ askResult: AskResult) {
        var askTable = ResultTable(
            title:
                "3. HTTP at \(connections) connections for \(Int(loadSeconds)) s, real server process, fake IM server with \(fakeLatency) ms latency",
            header: ["what", "req/s", "p50", "p99", "failed", "refused (503)", "server CPU per answered request", "vs liveness route"])
        askTable.add(askResult.liveness.row("GET /livez (hello world: no token, no database)", baseline: askResult.liveness))
        askTable.add(
            askResult.ask.row(
                fakePresence == "online"
                    ? "POST /v1/questions (bot token, topic by slug, presence, wave 1, deliveries)"
                    : "POST /v1/questions (bot token, topic by slug, presence: everyone \(fakePresence), so no deliveries)",
                baseline: askResult.liveness))
        askTable.print()
        if askResult.questionMessages > 0 {
            let seconds = Measurement.seconds(askResult.ask.elapsed)
            let drain =
                askResult.drainSeconds.map { String(format: "the rest sent %.1f s after the load", $0) }
                ?? "not all sent within \(Int(Measurement.seconds(Self.drainLimit))) s after the load"
            let counts = String(
                format: "%d queued by the asks, %d sent to the IM server during the load (%.0f/s against %.0f/s queued)",
                askResult.questionMessages, askResult.messagesDuringLoad, Double(askResult.messagesDuringLoad) / seconds,
                Double(askResult.questionMessages) / seconds)
            print("\nQuestion messages: \(counts), \(drain), \(askResult.unsentAtStop) still unsent when the server stopped.")
        }
        if let rss = askResult.serverRSS { print(String(format: "\n5. Peak RSS of the server process after both loads: %.0f MiB", rss)) }
        if !askResult.stoppedBySIGTERM { print("\nThe server did not exit within 10 s of SIGTERM after the loads: killed.") }
    }

    /// Every set-up side by side: medians over the rounds, and each against this build on SQLite.
    func printAskComparison(_ labels: [String], results: [String: [AskResult]]) {
        func median(_ values: [Double]) -> Double {
            let sorted = values.sorted()
            return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
        }
        func cpuPerAsk(_ result: AskResult) -> Double? { result.ask.serverCPU.map { $0 / Double(max(result.ask.requests, 1)) } }
        func databaseCPUPerAsk(_ result: AskResult) -> Double? { result.databaseCPU.map { $0 / Double(max(result.ask.requests, 1)) } }
        let rounds = results.values.map(\.count).max() ?? 0
        var table = ResultTable(
            title:
                "3b. The ask path by database and build: \(connections) connections for \(Int(loadSeconds)) s, median of \(rounds) round\(rounds == 1 ? "" : "s") each",
            header: [
                "what", "asks/s", "p50", "p99", "failed", "refused (503)", "server CPU per ask",
                "PostgreSQL CPU per ask (its processes on this machine)", "messages sent during the load / queued",
                "drained after the load", "asks/s with every message sent", "unsent at stop", "peak RSS", "asks/s vs SQLite, this build",
                "with every message sent vs SQLite, this build", "CPU per ask vs SQLite, this build",
            ])
        let baseline = results[labels[0]] ?? []
        let baselineRate = median(baseline.map(\.ask.perSecond))
        // A run whose outbox never drained counts as sending at no rate: the median then shows it, rather than skipping it.
        func sentRate(_ result: AskResult) -> Double { result.perSecondWithEveryMessageSent ?? 0 }
        let baselineSentRate = median(baseline.map(sentRate))
        let baselineCPU = median(baseline.compactMap(cpuPerAsk))
        for label in labels {
            let runs = results[label] ?? []
            guard !runs.isEmpty else { continue }
            let rate = median(runs.map(\.ask.perSecond))
            let cpu = runs.compactMap(cpuPerAsk)
            let databaseCPU = runs.compactMap(databaseCPUPerAsk)
            table.add([
                label, String(format: "%.0f", rate),
                Measurement.format(Measurement.median(runs.map { Measurement.median($0.ask.latencies) })),
                Measurement.format(Measurement.median(runs.map { Measurement.percentile($0.ask.latencies, 99) })),
                "\(runs.map(\.ask.failures).reduce(0, +))", "\(runs.map(\.ask.refused).reduce(0, +))",
                cpu.isEmpty ? "?" : String(format: "%.0f µs", median(cpu) * 1_000_000),
                databaseCPU.isEmpty ? "–" : String(format: "%.0f µs", median(databaseCPU) * 1_000_000),
                "\(Int(median(runs.map { Double($0.messagesDuringLoad) }))) / \(Int(median(runs.map { Double($0.questionMessages) })))",
                runs.contains { $0.drainSeconds == nil }
                    ? "not within \(Int(Measurement.seconds(Self.drainLimit))) s in \(runs.filter { $0.drainSeconds == nil }.count) of \(runs.count)"
                    : String(format: "%.1f s", median(runs.compactMap(\.drainSeconds))),
                String(format: "%.0f", median(runs.map(sentRate))),
                "\(Int(median(runs.map { Double($0.unsentAtStop) })))",
                runs.compactMap(\.serverRSS).max().map { String(format: "%.0f MiB", $0) } ?? "?",
                String(format: "%.1f %%", 100 * rate / max(baselineRate, 1e-9)),
                String(format: "%.1f %%", 100 * median(runs.map(sentRate)) / max(baselineSentRate, 1e-9)),
                cpu.isEmpty || baselineCPU == 0 ? "?" : String(format: "%.2f×", median(cpu) / baselineCPU),
            ])
        }
        table.print()
        for label in labels {
            let each = (results[label] ?? []).map { String(format: "%.0f", $0.ask.perSecond) }
            let sent = (results[label] ?? []).map { result in
                result.perSecondWithEveryMessageSent.map { String(format: "%.0f", $0) } ?? "not drained"
            }
            print("\n\(label): asks/s by round \(each.joined(separator: ", ")); with every message sent \(sent.joined(separator: ", ")).")
        }
    }
}

/// Set once, from whichever caller gets there first.
final class Flag: Sendable {
    private let state = Mutex(false)

    /// Sets the flag; whether it was still unset.
    func set() -> Bool {
        state.withLock { state in
            defer { state = true }
            return !state
        }
    }
}

/// A counter shared by closures.
final class Counter: Sendable {
    private let state = Mutex(0)

    func next() -> Int {
        state.withLock { state in
            defer { state += 1 }
            return state
        }
    }
}
