import Foundation

/// What a simulation knows and a deployment never does: each candidate's true chance of answering a question on a topic
/// in time, and of that answer helping. Only `skillrelay simulate --oracle` supplies one, as a measuring stick: the
/// same service, waves (sized to `waveConfidence`) and hard rules, with the learned estimates replaced by the truth,
/// shows what any routing could reach on a scenario, and so how far the learned routing is from it.
public protocol RoutingOracle: Sendable {
    /// The candidate's true chances now, on a question about `topic` (its slug).
    func truth(about candidate: Candidate, topic: String, now: Date) -> RoutingTruth
}

/// One candidate's true chances, as an oracle knows them.
public struct RoutingTruth: Sendable, Equatable {
    public var answersInTime: Double
    public var helps: Double

    public init(answersInTime: Double, helps: Double) {
        self.answersInTime = answersInTime
        self.helps = helps
    }
}

extension Matcher {
    /// With an oracle: the candidates (already through the hard rules) by their true chance of a good answer in time,
    /// best first, each carrying their true chance of an answer in time as `expectedTimely`.
    public static func rankedByTruth(_ allowed: [Candidate], topic: String, now: Date, oracle: any RoutingOracle) -> [Candidate] {
        let scored = allowed.map { candidate in
            var candidate = candidate
            let truth = oracle.truth(about: candidate, topic: topic, now: now)
            candidate.expectedTimely = truth.answersInTime
            return (candidate, truth.answersInTime * truth.helps)
        }
        return scored.enumerated().sorted { a, b in
            a.element.1 != b.element.1 ? a.element.1 > b.element.1 : a.offset < b.offset
        }.map(\.element.0)
    }

    /// With an oracle: the wave's first candidates, as many as it takes for the true chance of at least one answer in
    /// time, together with `alreadyLikely`, to reach `confidence`.
    public static func sizedByTruth(_ wave: [Candidate], alreadyLikely: Double, confidence: Double) -> [Candidate] {
        firstReaching(confidence, alreadyLikely: alreadyLikely, of: wave) { $0.expectedTimely ?? 0 }
    }
}
