import Foundation
import SkillRelayDomain

/// The scenario's ground truth as a routing oracle (`skillrelay simulate --oracle`): each candidate's true chance of
/// answering in time, from their true skill and the scenario's behaviour (their load today and their last interruption,
/// as the store counts them), and of their answer helping. No deployment has this; it measures what perfect knowledge
/// would reach on a scenario, so the learned routing can be judged against it rather than against static alone.
struct SimulatedTruth: RoutingOracle {
    let company: SimulatedCompany
    let behaviour: Scenario.Behaviour
    let topics: [String: Int]
    /// The share of answers that come within the timely window (the answer delay's log-normal distribution).
    let inTimeShare: Double

    init(company: SimulatedCompany, behaviour: Scenario.Behaviour, timelyAnswerSeconds: Int) {
        self.company = company
        self.behaviour = behaviour
        topics = Dictionary(company.topics.enumerated().map { ($1.slug, $0) }, uniquingKeysWith: { first, _ in first })
        let z = log(Double(timelyAnswerSeconds) / behaviour.answerDelayMedianSeconds) / max(behaviour.answerDelaySpread, .leastNonzeroMagnitude)
        inTimeShare = 0.5 * erfc(-z / 2.0.squareRoot())
    }

    func truth(about candidate: Candidate, topic: String, now: Date) -> RoutingTruth {
        guard let person = SimulatedPresenceSource.index(of: candidate.handle), person < company.people.count, let topic = topics[topic] else {
            return RoutingTruth(answersInTime: 0, helps: 0)
        }
        let skill = company.skill(of: person, in: topic)
        var chance = behaviour.answerProbabilityBySkill[skill] * max(0, 1 - behaviour.loadPenaltyPerDelivery * Double(candidate.deliveriesLastDay))
        if let last = candidate.lastInterruptedAt, now.timeIntervalSince(last) < behaviour.recentInterruptionMinutes * 60 {
            chance *= 1 - behaviour.recentInterruptionPenalty
        }
        return RoutingTruth(answersInTime: chance * inTimeShare, helps: behaviour.helpfulProbabilityBySkill[skill])
    }
}
