import ArgumentParser
import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import SkillRelayDomain
import SkillRelayPostgres
import SkillRelayStore
import SkillRelayTestSupport

/// `skillrelay-bench`: measures SkillRelay, each figure next to a baseline measured in the same run, and prints
/// Markdown tables for BENCHMARKS.md.
@main
struct SkillRelayBenchmarks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "skillrelay-bench", abstract: "Measure SkillRelay against baselines.")

    @Option(help: "Employees in the synthetic company.")
    var employees: Int = 100_000

    @Option(help: "Topics in the synthetic company.")
    var topics: Int = 2_000

    @Option(help: "Skill tags in the synthetic company.")
    var skills: Int = 1_000_000

    @Option(help: "Runs of the import figure (the median is reported).")
    var importRuns: Int = 3

    @Option(help: "Repetitions of the candidate query figure.")
    var repetitions: Int = 20

    @Option(help: "Pools timed in the presence figure, after \(PresenceBenchmark.warmUp) untimed ones.")
    var presencePools: Int = 200

    @Option(help: "Latency of the fake IM server, in milliseconds.")
    var fakeLatency: Int = 1

    @Option(help: "What the fake IM server says of everyone's presence: online, or offline to measure asks that deliver to nobody.")
    var fakePresence: String = "online"

    @Option(help: "Connections of the HTTP load (figure 3).")
    var connections: Int = 64

    @Option(help: "Seconds each HTTP load runs (figure 3).")
    var loadSeconds: Double = 10

    @Option(help: "Write the server's log (at debug level) to this file instead of dropping it (figures 3 and 5).")
    var serverLog: String?

    @Option(
        help:
            "The figures to measure, comma-separated (1: import, 2: candidates, 3 and 5: ask path and RSS, 4: presence, 6: end to end on Synapse, 8: pages and lists)."
    )
    var figures: String = "1,2,3,4,5,6,8"

    @Option(help: "Requests timed per page or list in figure 8 (after two untimed ones; the median is reported).")
    var pageRepetitions: Int = 20

    @Option(help: "The Synapse of figure 6 (start it with Scripts/synapse.sh up); figure 6 makes its own small company, whatever the sizes above.")
    var synapse: String = "http://127.0.0.1:8008"

    @Option(help: "Questions timed in figure 6 (after three to warm up), each next to a message sent by Synapse alone.")
    var e2eQuestions: Int = 100

    @Option(
        help:
            "A PostgreSQL server to measure figures 2, 3 and 8 on too, next to SQLite (the URL of its maintenance database, as Scripts/postgres.sh up prints it): the company is copied there, figure 3 runs one instance and then two, figure 8 reads a copy of what it read on SQLite."
    )
    var postgres: String?

    @Option(
        help:
            "An earlier build's skillrelay binary: figure 3 on SQLite runs with it too, in turn with this build's, each on a copy of the same database."
    )
    var baselineBinary: String?

    @Option(help: "Rounds of figure 3's ask load for each server set-up (medians are reported).")
    var askRounds: Int = 1

    func validate() throws {
        guard askRounds >= 1 else { throw ValidationError("--ask-rounds is at least 1.") }
        if let baselineBinary, !FileManager.default.isExecutableFile(atPath: baselineBinary) {
            throw ValidationError("--baseline-binary \(baselineBinary) is not an executable file.")
        }
        if let postgres, !PostgresLocation.isURL(postgres) { throw ValidationError("--postgres takes a postgres:// URL.") }
        guard ["online", "unavailable", "offline"].contains(fakePresence) else {
            throw ValidationError("--fake-presence is online, unavailable or offline.")
        }
    }

    /// Whether figure `number` was asked for.
    func wants(_ number: Int) -> Bool {
        figures.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces) == String(number) }
    }

    func run() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("skillrelay-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        // Figure 6 comes last: say now, not after the others, when its Synapse is missing.
        if wants(6) { try await EndToEndBenchmark.checkReachable(synapse) }
        print("# SkillRelay benchmarks")
        print("\n\(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.physicalMemory / 1_073_741_824) GiB")

        // 4. Presence first, while this process has done nothing else: after figure 2's half a million queries in the
        // same process, the same pools took 0.5-1.3 ms longer (BENCHMARKS.md), a cost of the benchmark process that the
        // server, where presence is asked for, does not have.
        if wants(4) { try await presenceFigure() }
        if [1, 2, 3, 5, 8].contains(where: wants) {
            print("\nCompany of figures 1-3 and 5: \(employees) employees, \(topics) topics, \(skills) skills")
            // The company, in the import's formats.
            let company = scratch.appendingPathComponent("company")
            try ImportFiles.write(try SyntheticDirectory(employees: employees, topics: topics, skills: skills), to: company.path)

            // 1. Import; the later figures use the database the first SkillRelay import made.
            let database = scratch.appendingPathComponent("import-insert-0.sqlite").path
            if wants(1) {
                try await importFigure(company: company, scratch: scratch)
            } else {
                _ = try await SQLiteDirectoryStore(database: try AppDatabase.open(path: database)).importDirectory(
                    try ImportFiles.read(directory: company.path), by: .cliOperator)
            }
            // The same company on PostgreSQL, copied before figure 3's loads write to the SQLite database.
            let companies: PostgresCompanies?
            if let postgres, wants(2) || wants(3) {
                let copied = try await PostgresCompanies.copy(from: database, server: postgres)
                print("\nCopied to PostgreSQL (\(copied.server.description)) by `db copy`'s code in \(Measurement.format(copied.copyTime)).")
                companies = copied
            } else {
                companies = nil
            }
            do {
                if wants(2) { try await candidateFigure(database: database, companies: companies) }
                if wants(3) || wants(5) { try await askFigures(database: database, companies: companies, scratch: scratch) }
            } catch {
                await companies?.dropAll()
                throw error
            }
            await companies?.dropAll()
            if wants(8) {
                try await pageFigure(database: database, store: "SQLite", scratch: scratch)
                // The same pages on PostgreSQL: the database figure 8 just read, its questions included, copied there.
                if let postgres {
                    let copied = try await PostgresCompanies.copy(from: database, server: postgres)
                    do {
                        try await pageFigure(database: copied.template.url, store: "PostgreSQL", scratch: scratch)
                    } catch {
                        await copied.dropAll()
                        throw error
                    }
                    await copied.dropAll()
                }
            }
        }
        if wants(6) { try await endToEndFigure(scratch: scratch) }

        if let rss = Measurement.peakRSS() { print(String(format: "\nPeak RSS of the benchmark process: %.0f MiB", rss)) }
    }

    /// Figure 1: import, against the raw C API.
    func importFigure(company: URL, scratch: URL) async throws {
        let imported = try await ImportBenchmark.run(directory: company.path, scratch: scratch, runs: importRuns)
        var importTable = ResultTable(title: "1. Import (median of \(importRuns))", header: ["what", "time", "vs raw C API"])
        let raw = Measurement.median(imported.raw)
        importTable.add(["raw C API: the same rows, prepared statements, one transaction", Measurement.format(raw), "1.00×"])
        importTable.add([
            "raw C API, with the page cache SkillRelay's import sets", Measurement.format(Measurement.median(imported.rawSameCache)),
            Measurement.ratio(Measurement.median(imported.rawSameCache), raw),
        ])
        importTable.add([
            "SkillRelay import, rows already parsed", Measurement.format(Measurement.median(imported.skillRelayInsert)),
            Measurement.ratio(Measurement.median(imported.skillRelayInsert), raw),
        ])
        importTable.add([
            "SkillRelay import, reading and checking the CSV files", Measurement.format(Measurement.median(imported.skillRelayWithParse)),
            Measurement.ratio(Measurement.median(imported.skillRelayWithParse), raw),
        ])
        importTable.print()

    }

    /// Figure 2: candidate selection, against the raw C API running the same SQL (and PostgreSQL's port of it).
    func candidateFigure(database: String, companies: PostgresCompanies?) async throws {
        let postgres = try await companies?.fresh()
        let candidates: CandidateBenchmark.Result
        do {
            candidates = try await CandidateBenchmark.run(path: database, postgres: postgres, topics: topics, repetitions: repetitions)
        } catch {
            if let postgres { await companies?.drop(postgres) }
            throw error
        }
        if let postgres { await companies?.drop(postgres) }
        var candidateTable = ResultTable(
            title: "2. Candidate selection: 50 best at level ≥ 3 for a topic and its subtopics (\(candidates.raw.count) queries)",
            header: ["what", "median", "p99", "vs raw C API", "vs SkillRelay on SQLite"])
        let rawQuery = Measurement.median(candidates.raw)
        let storeQuery = Measurement.median(candidates.store)
        candidateTable.add([
            "raw C API, same SQL", Measurement.format(rawQuery), Measurement.format(Measurement.percentile(candidates.raw, 99)), "1.00×",
            Measurement.ratio(rawQuery, storeQuery),
        ])
        candidateTable.add([
            "SkillRelay store (GRDB, blocking read, cached statement)", Measurement.format(storeQuery),
            Measurement.format(Measurement.percentile(candidates.store, 99)), Measurement.ratio(storeQuery, rawQuery), "1.00×",
        ])
        if !candidates.postgres.isEmpty {
            let postgresQuery = Measurement.median(candidates.postgres)
            candidateTable.add([
                "SkillRelay store on PostgreSQL (postgres-nio, a pooled connection, a prepared statement)", Measurement.format(postgresQuery),
                Measurement.format(Measurement.percentile(candidates.postgres, 99)), Measurement.ratio(postgresQuery, rawQuery),
                Measurement.ratio(postgresQuery, storeQuery),
            ])
        }
        candidateTable.print()
        if !candidates.postgres.isEmpty {
            print("\nPostgreSQL's answers differed from SQLite's in \(candidates.postgresDisagreements) of \(candidates.postgres.count) queries.")
        }
    }

    /// Figure 8: every page and list on the big company, for the CEO (an admin), a VP, a director and a team lead, next
    /// to `/livez` timed the same way, on a real `skillrelay serve` (the embedded IM) of the imported database (a path, or
    /// a PostgreSQL URL for the copy there; `store` names which in the table's title).
    func pageFigure(database: String, store: String, scratch: URL) async throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("skillrelay").path
        let people = PageBenchmark.People(employees: employees)
        let server = try await RelayServerProcess(
            binary: binary, database: database, homeserver: nil, arguments: ["--log-level", "error"],
            log: scratch.appendingPathComponent("pages.log").path)
        do {
            try await measurePages(base: server.base, people: people, binary: binary, database: database, store: store)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    func measurePages(base: String, people: PageBenchmark.People, binary: String, database: String, store: String) async throws {
        var sessions: [String: PageBenchmark.Credential] = [:]
        var secrets: [String: String] = [:]
        for handle in [people.ceo, people.vp, people.director, people.teamLead, people.individual, people.specialist] {
            sessions[handle] = .session(try await PageBenchmark.signIn(handle, binary: binary, database: database, base: base))
            secrets[handle] = try Self.output(binary, ["token", "create", "--db", database, "--employee", handle])
        }
        let tokens = secrets.mapValues { PageBenchmark.Credential.token($0) }
        try await PageBenchmark.fillInbox(
            specialist: people.specialist, specialistToken: secrets[people.specialist]!, askerToken: secrets[people.teamLead]!,
            adminToken: secrets[people.ceo]!, base: base)
        let search = "q=Employee%20424"
        let ceoDeep = try await PageBenchmark.deepPage("/v1/employees?limit=50", pages: 200, credential: tokens[people.ceo]!, base: base)
        let cases: [PageBenchmark.Case] = [
            .init(label: "/livez (baseline)", who: "anyone", credential: .none, path: "/livez"),
            .init(label: "My team, first page", who: "CEO", credential: sessions[people.ceo]!, path: "/team"),
            .init(label: "My team, a search", who: "CEO", credential: sessions[people.ceo]!, path: "/team?\(search)"),
            .init(label: "My team, a drill-down (a VP)", who: "CEO", credential: sessions[people.ceo]!, path: "/team?under=\(people.vp)"),
            .init(label: "My team, everyone below", who: "CEO", credential: sessions[people.ceo]!, path: "/team?all=1"),
            .init(label: "My team, topic and level", who: "CEO", credential: sessions[people.ceo]!, path: "/team?topic=topic-1&level=3"),
            .init(label: "My team, first page", who: "VP", credential: sessions[people.vp]!, path: "/team"),
            .init(label: "My team, a search", who: "VP", credential: sessions[people.vp]!, path: "/team?\(search)"),
            .init(label: "My team, a drill-down (a director)", who: "VP", credential: sessions[people.vp]!, path: "/team?under=\(people.director)"),
            .init(label: "My team, first page", who: "team lead", credential: sessions[people.teamLead]!, path: "/team"),
            .init(label: "My team, a search", who: "team lead", credential: sessions[people.teamLead]!, path: "/team?\(search)"),
            .init(
                label: "My team, a drill-down (a report)", who: "team lead", credential: sessions[people.teamLead]!,
                path: "/team?under=\(people.individual)"),
            .init(label: "Admin page", who: "CEO", credential: sessions[people.ceo]!, path: "/admin"),
            .init(label: "Admin page, a branch", who: "CEO", credential: sessions[people.ceo]!, path: "/admin?topic=topic-1"),
            .init(label: "Admin page, a topic search", who: "CEO", credential: sessions[people.ceo]!, path: "/admin?q=Topic%2012"),
            .init(label: "Ask page", who: "CEO", credential: sessions[people.ceo]!, path: "/ask"),
            .init(label: "Inbox page", who: "an individual", credential: sessions[people.individual]!, path: "/inbox"),
            .init(label: "Inbox page, a day's four questions", who: "a specialist", credential: sessions[people.specialist]!, path: "/inbox"),
            .init(label: "GET /v1/employees, first page", who: "CEO", credential: tokens[people.ceo]!, path: "/v1/employees?limit=50"),
            .init(label: "GET /v1/employees, page 201", who: "CEO", credential: tokens[people.ceo]!, path: ceoDeep),
            .init(label: "GET /v1/employees?q=", who: "CEO", credential: tokens[people.ceo]!, path: "/v1/employees?\(search)"),
            .init(label: "GET /v1/employees, first page", who: "VP", credential: tokens[people.vp]!, path: "/v1/employees?limit=50"),
            .init(
                label: "GET /v1/employees?manager= (a director)", who: "VP", credential: tokens[people.vp]!,
                path: "/v1/employees?manager=\(people.director)"),
            .init(
                label: "GET /v1/employees?topic=&minLevel=", who: "CEO", credential: tokens[people.ceo]!,
                path: "/v1/employees?topic=topic-1&minLevel=3"),
            .init(label: "GET /v1/employees/{ceo}/reports", who: "CEO", credential: tokens[people.ceo]!, path: "/v1/employees/\(people.ceo)/reports"),
            .init(label: "GET /v1/topics", who: "CEO", credential: tokens[people.ceo]!, path: "/v1/topics"),
            .init(label: "GET /v1/tokens", who: "CEO", credential: tokens[people.ceo]!, path: "/v1/tokens"),
            .init(label: "GET /v1/inbox", who: "an individual", credential: tokens[people.individual]!, path: "/v1/inbox"),
            .init(label: "GET /v1/inbox, a day's four questions", who: "a specialist", credential: tokens[people.specialist]!, path: "/v1/inbox"),
            .init(label: "GET /v1/questions", who: "CEO", credential: tokens[people.ceo]!, path: "/v1/questions"),
        ]
        var rows: [PageBenchmark.Row] = []
        for item in cases { rows.append(try await PageBenchmark.time(item, base: base, repetitions: pageRepetitions)) }
        let baseline = Measurement.median(rows[0].times)
        var table = ResultTable(
            title:
                "8. Pages and lists on the company of \(employees), on \(store) (median of \(pageRepetitions) requests one at a time, after two untimed; body size)",
            header: ["what", "who", "status", "median", "p90", "size", "vs /livez"])
        for row in rows {
            let median = Measurement.median(row.times)
            table.add([
                row.label, row.who, "\(row.status)", Measurement.format(median), Measurement.format(Measurement.percentile(row.times, 90)),
                row.bytes >= 1024 ? String(format: "%.1f KB", Double(row.bytes) / 1024) : "\(row.bytes) B", Measurement.ratio(median, baseline),
            ])
        }
        table.print()
        let teamPages = rows.filter { $0.label == "My team, first page" }
        if let ceo = teamPages.first(where: { $0.who == "CEO" }), let lead = teamPages.first(where: { $0.who == "team lead" }) {
            print(
                "\nThe CEO's team page against the team lead's: \(Measurement.ratio(Measurement.median(ceo.times), Measurement.median(lead.times)))")
        }
    }

    /// Figure 4: presence for a pool, against the fake IM server.
    func presenceFigure() async throws {
        let result = try await withFakeIMServer { fake, homeserver in
            try await PresenceBenchmark.run(homeserver: homeserver, fake: fake, pool: 50, repetitions: presencePools)
        }
        printPresence(result)
    }

    /// Runs `body` while a fake IM server answers on a free port of 127.0.0.1, then stops the fake.
    func withFakeIMServer<Result: Sendable>(_ body: (FakeIMServer, String) async throws -> Result) async throws -> Result {
        let fake = FakeIMServer(latency: .milliseconds(fakeLatency), presence: fakePresence)
        let port = freeLoopbackPort()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            let app = fake.application(port: port)
            group.addTask { try await app.runService(gracefulShutdownSignals: []) }
            try await Task.sleep(for: .milliseconds(500))
            let result = try await body(fake, "http://127.0.0.1:\(port)")
            group.cancelAll()
            return result
        }
    }

    func printPresence(_ presenceResult: PresenceBenchmark.Result) {
        var presenceTable = ResultTable(
            title:
                "4. Presence for a 50-person pool, fake IM server with \(fakeLatency) ms latency (median of \(presencePools), after \(PresenceBenchmark.warmUp) to warm up)",
            header: ["what", "wall time", "round trips to the IM server"])
        presenceTable.add(["one round trip to the fake (baseline)", Measurement.format(Measurement.median(presenceResult.roundTrip)), "1"])
        presenceTable.add([
            "cold (empty cache, nothing streamed), 50 in flight", Measurement.format(Measurement.median(presenceResult.cold)),
            "\(presenceResult.coldRequests.sorted()[presenceResult.coldRequests.count / 2])",
        ])
        presenceTable.add([
            "warm (within the 15 s cache)", Measurement.format(Measurement.median(presenceResult.warm)),
            "\(presenceResult.warmRequests.sorted()[presenceResult.warmRequests.count / 2])",
        ])
        presenceTable.add([
            "empty cache, the pool reported by the bot's sync stream", Measurement.format(Measurement.median(presenceResult.streamed)),
            "\(presenceResult.streamedRequests.sorted()[presenceResult.streamedRequests.count / 2])",
        ])
        presenceTable.print()
    }

    /// Figure 6: end to end on a real Synapse, against Synapse's own send, in the same run and the same rooms.
    func endToEndFigure(scratch: URL) async throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("skillrelay").path
        let result = try await EndToEndBenchmark.run(homeserver: synapse, binary: binary, scratch: scratch, questions: e2eQuestions, specialists: 3)
        var table = ResultTable(
            title: "6. End to end on Synapse (\(synapse)): \(result.askFirstVisible.count) questions, \(result.specialists) specialists online",
            header: ["what", "median", "p99", "median vs Synapse send", "p99 vs Synapse send"])
        let baseline = result.sendVisible
        for (what, times) in [
            ("Synapse alone: PUT m.room.message, round trip", result.sendRoundTrip),
            ("Synapse alone: PUT m.room.message → seen in the recipient's /sync (baseline)", baseline),
            ("SkillRelay: POST /v1/questions, round trip", result.askRoundTrip),
            ("SkillRelay: POST /v1/questions → seen in the first specialist's /sync", result.askFirstVisible),
            ("SkillRelay: POST /v1/questions → seen by all \(result.specialists) specialists", result.askAllVisible),
        ] {
            table.add([
                what, Measurement.format(Measurement.median(times)), Measurement.format(Measurement.percentile(times, 99)),
                Measurement.ratio(Measurement.median(times), Measurement.median(baseline)),
                Measurement.ratio(Measurement.percentile(times, 99), Measurement.percentile(baseline, 99)),
            ])
        }
        table.print()
    }

    static func output(_ binary: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

extension AskPathBenchmark.Load {
    /// A table row for this load next to a baseline load.
    func row(_ title: String, baseline: AskPathBenchmark.Load) -> [String] {
        [
            title, String(format: "%.0f", perSecond), Measurement.format(Measurement.median(latencies)),
            Measurement.format(Measurement.percentile(latencies, 99)), "\(failures)", "\(refused)",
            serverCPU.map { String(format: "%.0f µs", $0 / Double(max(requests, 1)) * 1_000_000) } ?? "?",
            String(format: "%.1f %%", 100 * perSecond / max(baseline.perSecond, 1e-9)),
        ]
    }
}
