import Foundation
import SkillRelayDomain
import SkillRelayStore

/// `skillrelay simulate`: the real `QuestionService`, matcher and SQLite store on a virtual clock, with simulated
/// people asking, answering, passing, ignoring and rating from their scenario alone. A discrete-event simulation, one
/// event at a time and each awaited, so that the same seed gives the same report.
public enum Simulation {
    /// What a run produced: the report, and what the lead's tests look at beside it.
    public struct Outcome: Sendable {
        public var report: SimulationReport
        /// How often the store and the service were closed and opened again.
        public var restarts: Int
        /// Deliveries in all.
        public var deliveries: Int
    }

    /// Runs the scenario; the temporary database and CSV files are removed afterwards.
    public static func run(_ scenario: Scenario, options: SimulationOptions) async throws -> Outcome {
        try scenario.validate()
        try options.validate()
        let directory = options.workDirectory.appendingPathComponent("skillrelay-simulation-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let company = SimulatedCompany(scenario: scenario, seed: options.seed)
        try company.writeDirectory(to: directory.appendingPathComponent("directory"))
        let path = directory.appendingPathComponent("simulation.sqlite").path
        do {
            // The directory goes in through the real import, as a deployment's would.
            let database = try AppDatabase.openScratch(path: path)
            let directoryStore = SQLiteDirectoryStore(database: database)
            _ = try await directoryStore.importDirectory(
                try ImportFiles.read(directory: directory.appendingPathComponent("directory").path), by: .cliOperator)
        }
        let run = try SimulationRun(scenario: scenario, company: company, options: options, databasePath: path)
        return try await run.run()
    }
}
