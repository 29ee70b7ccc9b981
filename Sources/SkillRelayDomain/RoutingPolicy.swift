import Synchronization

/// How the candidates for a question are ordered.
public enum RoutingPolicy: String, Sendable, Equatable, Codable, CaseIterable {
    /// By the tags alone: level, who vouched, least recently interrupted, then answer rate.
    case `static`
    /// By what SkillRelay has seen people do: the expected chance of a good answer in time, learned per person and
    /// topic from deliveries, answers, passes, silence and ratings, with exploration (see `RoutingEstimator`).
    case learned
}

/// The randomness routing draws on (exploration): seeded for a simulation or a test, so that a run can be repeated;
/// from the system's generator otherwise.
public final class RoutingRandom: Sendable {
    private let state: Mutex<SplitMix64>

    /// A generator that gives the same draws for the same seed.
    public init(seed: UInt64) { state = Mutex(SplitMix64(seed: seed)) }

    /// A generator seeded from the system's.
    public convenience init() {
        var system = SystemRandomNumberGenerator()
        self.init(seed: system.next())
    }

    /// A uniform value in [0, 1).
    public func unit() -> Double { state.withLock { $0.unit() } }

    /// Runs `body` with the generator held, for several draws in a row.
    public func withGenerator<T>(_ body: (inout SplitMix64) -> T) -> T { state.withLock { body(&$0) } }
}
