import ArgumentParser
import Foundation
import Hummingbird
import SkillRelayDomain
import SkillRelayStore

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

    @Option(help: "Repetitions of the query and presence figures.")
    var repetitions: Int = 20

    @Option(help: "Latency of the fake IM server, in milliseconds.")
    var fakeLatency: Int = 1

    func run() async throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("skillrelay-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        print("# SkillRelay benchmarks")
        print(
            "\n\(ProcessInfo.processInfo.activeProcessorCount) cores, \(ProcessInfo.processInfo.physicalMemory / 1_073_741_824) GiB; company: \(employees) employees, \(topics) topics, \(skills) skills"
        )

        // The company, in the import's formats.
        let company = scratch.appendingPathComponent("company")
        try ImportFiles.write(try SyntheticDirectory(employees: employees, topics: topics, skills: skills), to: company.path)

        // 1. Import.
        let imported = try await ImportBenchmark.run(directory: company.path, scratch: scratch, runs: importRuns)
        var importTable = ResultTable(title: "1. Import (median of \(importRuns))", header: ["what", "time", "vs raw C API"])
        let raw = Measurement.median(imported.raw)
        importTable.add(["raw C API: the same rows, prepared statements, one transaction", Measurement.format(raw), "1.00×"])
        importTable.add([
            "SkillRelay import, rows already parsed", Measurement.format(Measurement.median(imported.skillRelayInsert)),
            Measurement.ratio(Measurement.median(imported.skillRelayInsert), raw),
        ])
        importTable.add([
            "SkillRelay import, reading and checking the CSV files", Measurement.format(Measurement.median(imported.skillRelayWithParse)),
            Measurement.ratio(Measurement.median(imported.skillRelayWithParse), raw),
        ])
        importTable.print()

        // 2. Candidate selection, on the database the first import made.
        let database = scratch.appendingPathComponent("import-insert-0.sqlite").path
        let candidates = try await CandidateBenchmark.run(path: database, topics: topics, repetitions: repetitions)
        var candidateTable = ResultTable(
            title: "2. Candidate selection: 50 best at level ≥ 3 for a topic and its subtopics (\(candidates.raw.count) queries)",
            header: ["what", "median", "p99", "vs raw C API"])
        let rawQuery = Measurement.median(candidates.raw)
        candidateTable.add([
            "raw C API, same SQL", Measurement.format(rawQuery), Measurement.format(Measurement.percentile(candidates.raw, 99)), "1.00×",
        ])
        candidateTable.add([
            "SkillRelay store (GRDB, async read)", Measurement.format(Measurement.median(candidates.store)),
            Measurement.format(Measurement.percentile(candidates.store, 99)), Measurement.ratio(Measurement.median(candidates.store), rawQuery),
        ])
        candidateTable.print()

        // 4. Presence for a 50-person pool against the fake IM server.
        let fake = FakeIMServer(latency: .milliseconds(fakeLatency))
        let port = Int.random(in: 30_000...40_000)
        let presenceResult = try await withThrowingTaskGroup(of: PresenceBenchmark.Result?.self) { group in
            let app = fake.application(port: port)
            group.addTask {
                try await app.runService(gracefulShutdownSignals: [])
                return nil
            }
            try await Task.sleep(for: .milliseconds(500))
            let result = try await PresenceBenchmark.run(homeserver: "http://127.0.0.1:\(port)", fake: fake, pool: 50, repetitions: repetitions)
            group.cancelAll()
            return result
        }
        var presenceTable = ResultTable(
            title: "4. Presence for a 50-person pool, fake IM server with \(fakeLatency) ms latency (median of \(repetitions))",
            header: ["what", "wall time", "round trips to the IM server"])
        presenceTable.add(["one round trip to the fake (baseline)", Measurement.format(Measurement.median(presenceResult.roundTrip)), "1"])
        presenceTable.add([
            "cold (empty cache), 16 in flight", Measurement.format(Measurement.median(presenceResult.cold)),
            "\(presenceResult.coldRequests.sorted()[presenceResult.coldRequests.count / 2])",
        ])
        presenceTable.add([
            "warm (within the 15 s cache)", Measurement.format(Measurement.median(presenceResult.warm)),
            "\(presenceResult.warmRequests.sorted()[presenceResult.warmRequests.count / 2])",
        ])
        presenceTable.print()
        if let rss = Measurement.peakRSS() { print(String(format: "\nPeak RSS of the benchmark process: %.0f MiB", rss)) }
    }
}
