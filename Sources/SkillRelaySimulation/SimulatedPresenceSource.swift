import SkillRelayDomain

/// The simulation's presence source: what an IM server would report for each simulated person at the virtual now,
/// or offline for everyone when the scenario's presence is `off` (as a Synapse with presence disabled answers).
struct SimulatedPresenceSource: PresenceSource {
    let calendar: SimulatedCalendar
    let reporting: Scenario.PresenceReporting
    let clock: SimulationClock

    func presence(of people: [PresenceQuery]) async -> [String: Presence] {
        var result: [String: Presence] = [:]
        result.reserveCapacity(people.count)
        let now = clock.now().timeIntervalSince1970
        for query in people {
            guard reporting == .reported, let index = SimulatedPresenceSource.index(of: query.handle), index < calendar.company.people.count else {
                result[query.handle] = reporting == .off ? .offline : .unknown
                continue
            }
            result[query.handle] =
                switch calendar.truePresence(of: index, at: now) {
                case .available: .available
                case .away: .away
                case .inMeeting: .busy
                case .offline: .offline
                }
        }
        return result
    }

    /// What a bot that sets itself online and reads itself back finds: itself online where presence is reported,
    /// offline where the server has presence switched off.
    func probePresenceReporting() async -> PresenceReporting {
        reporting == .reported ? .reported : .notReported
    }

    /// The person's index from a simulated handle (`sim-0042` is 41).
    static func index(of handle: String) -> Int? {
        guard handle.hasPrefix("sim-"), let number = Int(handle.dropFirst(4)), number >= 1 else { return nil }
        return number - 1
    }
}
