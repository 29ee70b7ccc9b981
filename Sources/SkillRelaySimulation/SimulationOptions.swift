import Foundation
import SkillRelayDomain
import SkillRelayStore

/// How to run a simulation.
public struct SimulationOptions: Sendable {
    /// Working days to simulate.
    public var days: Int
    /// The seed every random draw comes from: the same seed gives the same report.
    public var seed: UInt64
    /// The routing policy the service runs with; `nil` keeps the scenario's settings, or the server's default.
    public var routing: RoutingPolicy?
    /// Whether the routing knows the scenario's ground truth (`SimulatedTruth`): learned routing's rules with each
    /// candidate's true chances in place of the estimates. A measuring stick for what any routing could reach, not a
    /// routing a deployment can run.
    public var oracle: Bool
    /// The settings' `waveConfidence` for this run; `nil` keeps the scenario's, or the server's default.
    public var waveConfidence: Double?
    /// Seconds after the simulated Monday's 00:00 UTC at which the store and the service are closed and opened again,
    /// as a restarted server would; `nil` for no restart.
    public var restartAt: TimeInterval?
    /// Called just before the store closes for the restart and just after it opened again, with the database.
    public var restartObserver: (@Sendable (RestartPhase, AppDatabase) async throws -> Void)?
    /// Called with the share of the simulated time done (0 to 1), at most about a hundred times.
    public var progress: (@Sendable (Double) -> Void)?
    /// Where the temporary database and directory files go (removed afterwards).
    public var workDirectory: URL

    /// When the restart observer is called.
    public enum RestartPhase: Sendable, Equatable {
        case beforeClose, afterReopen
    }

    public init(
        days: Int = 5, seed: UInt64 = 42, routing: RoutingPolicy? = nil, restartAt: TimeInterval? = nil,
        restartObserver: (@Sendable (RestartPhase, AppDatabase) async throws -> Void)? = nil, progress: (@Sendable (Double) -> Void)? = nil,
        workDirectory: URL = FileManager.default.temporaryDirectory, oracle: Bool = false, waveConfidence: Double? = nil
    ) {
        self.oracle = oracle
        self.waveConfidence = waveConfidence
        self.days = days
        self.seed = seed
        self.routing = routing
        self.restartAt = restartAt
        self.restartObserver = restartObserver
        self.progress = progress
        self.workDirectory = workDirectory
    }

    func validate() throws(SimulationError) {
        guard (1...260).contains(days) else { throw .option(name: "--days", "must be from 1 to 260") }
        if let waveConfidence, !QuestionSettings.isWaveConfidence(waveConfidence) {
            throw .option(name: "--wave-confidence", QuestionSettings.waveConfidenceRule)
        }
        if let restartAt, !restartAt.isFinite || restartAt < 0 { throw .option(name: "restartAt", "must be at least 0") }
    }
}
