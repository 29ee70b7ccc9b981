import ArgumentParser
import Foundation
import SkillRelayDomain
import SkillRelaySimulation

/// `skillrelay simulate`: runs a scenario's simulated company through the real service and store on a virtual clock,
/// and prints the report.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulate a company's questions through the real routing on a virtual clock, and report how well they were answered.")

    @Option(help: "The scenario file (JSON; see the README's \"Simulating routing\").")
    var scenario: String = "Data/simulation/default.json"

    @Option(help: "Working days to simulate.")
    var days: Int = 5

    @Option(help: "Random seed: the same seed gives the same report.")
    var seed: UInt64 = 42

    @Option(help: "The routing policy: static or learned (default: the server's).")
    var routing: String?

    @Flag(
        help: ArgumentHelp(
            "Route with the scenario's ground truth in place of learned routing's estimates.",
            discussion: "A measuring stick for what any routing could reach on the scenario; no deployment knows the truth."))
    var oracle = false

    @Option(help: "With learned routing (or --oracle), the chance of an answer in time a wave aims for (default: the scenario's, or 0.99).")
    var waveConfidence: Double?

    @Flag(help: "Print the report as one JSON object instead of a table.")
    var json = false

    func validate() throws {
        guard (1...260).contains(days) else { throw ValidationError("--days must be from 1 to 260.") }
        if let routing, RoutingPolicy(rawValue: routing) == nil { throw ValidationError("--routing must be static or learned.") }
        if let waveConfidence, !QuestionSettings.isWaveConfidence(waveConfidence) {
            throw ValidationError("--wave-confidence \(QuestionSettings.waveConfidenceRule), such as 0.9.")
        }
        if oracle, routing != nil, routing != RoutingPolicy.learned.rawValue {
            throw ValidationError("--oracle replaces learned routing's estimates; leave out --routing or give learned.")
        }
    }

    func run() async throws {
        // Only for a person watching: a pipe or a file gets the report alone.
        let progress = isatty(STDERR_FILENO) == 1 ? ProgressBar() : nil
        var onProgress: (@Sendable (Double) -> Void)?
        if let progress { onProgress = { progress.show($0) } }
        do {
            let loaded = try Scenario.load(path: scenario)
            let options = SimulationOptions(
                days: days, seed: seed, routing: routing.flatMap(RoutingPolicy.init(rawValue:)), progress: onProgress, oracle: oracle,
                waveConfidence: waveConfidence)
            let outcome = try await Simulation.run(loaded, options: options)
            progress?.finish()
            print(json ? outcome.report.json() : outcome.report.table(), terminator: json ? "\n" : "")
        } catch let error as SimulationError {
            progress?.finish()
            let prefix = if case .scenario = error { "\(scenario): " } else { "" }
            FileHandle.standardError.write(Data("skillrelay: \(prefix)\(error.message)\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// A one-line progress bar on standard error, redrawn in place.
struct ProgressBar: Sendable {
    func show(_ fraction: Double) {
        let width = 40
        let filled = Int(fraction * Double(width))
        let line =
            "\rsimulating [" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] \(Int(fraction * 100))%"
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
}
