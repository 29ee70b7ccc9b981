import Foundation
import Testing

@testable import SkillRelayDomain

@Suite struct AvailabilityTests {
    /// Monday 2026-11-02 14:30 UTC: 15:30 in Berlin, 09:30 in New York.
    let now = Date(timeIntervalSince1970: 1_793_629_800)
    /// Ranked by tags alone, so that the order the test expects is the tags' (the learned order draws at random).
    let settings: QuestionSettings = {
        var settings = QuestionSettings()
        settings.routing = .static
        return settings
    }()

    func candidate(_ handle: String, hours: String? = nil, zone: String? = nil, lastActive: TimeInterval? = nil) throws -> Candidate {
        Candidate(
            handle: handle, level: 5, timeZone: zone.flatMap(TimeZone.init(identifier:)),
            workingHours: try hours.map { try WorkingHours(parsing: $0) },
            lastActiveAt: lastActive.map { now.addingTimeInterval(-$0) })
    }

    @Test func reportedPresenceDecidesWithinWorkingHours() throws {
        let atWork = try candidate("berlin", hours: "Mon-Fri 09:00-17:30", zone: "Europe/Berlin")
        for presence in Presence.allCases {
            #expect(Availability.effective(presence: presence, reporting: .reported, candidate: atWork, now: now) == presence)
        }
        #expect(Availability.effective(presence: nil, reporting: .reported, candidate: atWork, now: now) == .unknown)
    }

    @Test func nobodyIsAvailableOutsideTheirWorkingHoursWhateverThePresence() throws {
        // 09:30 in New York: before a 10:00 start. Recent activity does not change that.
        let early = try candidate("new-york", hours: "Mon-Fri 10:00-18:00", zone: "America/New_York", lastActive: 60)
        for reporting in PresenceReporting.allCases {
            #expect(Availability.effective(presence: .available, reporting: reporting, candidate: early, now: now) == .offline)
        }
        // Without a time zone the same hours are read in UTC, where it is 14:30: within them.
        let utc = try candidate("utc", hours: "Mon-Fri 10:00-18:00")
        #expect(Availability.effective(presence: .available, reporting: .reported, candidate: utc, now: now) == .available)
    }

    @Test func withoutReportedPresenceWorkingHoursDecide() throws {
        let atWork = try candidate("berlin", hours: "Mon-Fri 09:00-17:30", zone: "Europe/Berlin")
        let noHours = try candidate("anytime")
        for reporting in [PresenceReporting.notReported, .unknown] {
            // A server without presence calls everyone offline: that is no evidence, so working hours decide.
            #expect(Availability.effective(presence: .offline, reporting: reporting, candidate: atWork, now: now) == .available)
            #expect(Availability.effective(presence: .offline, reporting: reporting, candidate: noHours, now: now) == .available)
            #expect(Availability.effective(presence: .away, reporting: reporting, candidate: atWork, now: now) == .available)
            // Someone the IM adapter cannot reach stays out of reach; do-not-disturb stays respected.
            #expect(Availability.effective(presence: .unknown, reporting: reporting, candidate: atWork, now: now) == .unknown)
            #expect(Availability.effective(presence: .busy, reporting: reporting, candidate: atWork, now: now) == .busy)
        }
    }

    @Test func planWaveReachesPeopleWithinHoursOnAServerWithoutPresence() throws {
        let candidates = [
            try candidate("a-outside", hours: "Mon-Fri 10:00-18:00", zone: "America/New_York"),
            try candidate("b-within", hours: "Mon-Fri 09:00-17:30", zone: "Europe/Berlin"),
            try candidate("c-no-hours"),
            try candidate("d-unreachable"),
        ]
        let ranked = Matcher.rank(candidates, asker: .bot("helpdesk"), now: now, settings: settings)
        // The hard rule: nobody outside their working hours is even ranked.
        #expect(ranked.map(\.handle) == ["b-within", "c-no-hours", "d-unreachable"])
        let said: [String: Presence] = ["b-within": .offline, "c-no-hours": .offline, "d-unreachable": .unknown]
        let effective = Availability.effective(presence: said, reporting: .notReported, candidates: ranked, now: now)
        let wave = Matcher.planWave(ranked: ranked, presence: effective, alreadyAsked: [], wave: 1, settings: settings)
        #expect(wave.map(\.handle) == ["b-within", "c-no-hours"])
        // The same answers from a server that reports presence: everyone offline, nobody asked.
        let reported = Availability.effective(presence: said, reporting: .reported, candidates: ranked, now: now)
        #expect(Matcher.planWave(ranked: ranked, presence: reported, alreadyAsked: [], wave: 1, settings: settings).isEmpty)
    }

    @Test func recentlyActivePeopleComeFirstEachGroupInRankOrder() throws {
        let ranked = [
            try candidate("a-seen-yesterday", lastActive: 86_400), try candidate("b-never-seen"), try candidate("c-seen-now", lastActive: 60),
            try candidate("d-seen-29-minutes-ago", lastActive: 29 * 60),
        ]
        #expect(
            Availability.recentlyActiveFirst(ranked, now: now).map(\.handle) == [
                "c-seen-now", "d-seen-29-minutes-ago", "a-seen-yesterday", "b-never-seen",
            ])
        #expect(Availability.recentlyActiveFirst(Array(ranked.prefix(2)), now: now).map(\.handle) == ["a-seen-yesterday", "b-never-seen"])
    }

    @Test func theReportingStateCountsEachChangeOnce() {
        let state = PresenceReportingState()
        #expect(state.current == .unknown)
        let start = Date(timeIntervalSince1970: 1_000)
        #expect(state.record(.notReported, at: start) == .some(nil))
        #expect(state.record(.notReported, at: start.addingTimeInterval(300)) == nil)
        #expect(state.snapshot == .init(reporting: .notReported, checkedAt: start.addingTimeInterval(300), since: start))
        #expect(state.record(.reported, at: start.addingTimeInterval(600)) == .some(.notReported))
        #expect(state.current == .reported)
    }
}
