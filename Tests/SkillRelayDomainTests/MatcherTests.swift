import Foundation
import Testing

@testable import SkillRelayDomain

@Suite struct MatcherTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    /// Today's order by tags alone; the learned order has its own tests (`RoutingEstimatorTests`).
    let settings: QuestionSettings = {
        var settings = QuestionSettings()
        settings.routing = .static
        return settings
    }()

    @Test func ranksByLevelThenVouchedThenLeastRecentlyInterruptedThenAnswerRate() {
        let candidates = [
            Candidate(handle: "self-declared-5", level: 5, source: .selfDeclared),
            Candidate(handle: "level-4", level: 4),
            Candidate(handle: "vouched-5-busy-lately", level: 5, lastInterruptedAt: now.addingTimeInterval(-60)),
            Candidate(handle: "vouched-5-rested", level: 5, lastInterruptedAt: now.addingTimeInterval(-7200)),
            Candidate(handle: "vouched-5-never-asked", level: 5, source: .imported),
            Candidate(
                handle: "vouched-5-rested-good-record", level: 5, lastInterruptedAt: now.addingTimeInterval(-7200),
                record: AnswerRecord(delivered: 10, answered: 9)),
        ]
        let ranked = Matcher.rank(candidates, asker: .bot("helpdesk"), now: now, settings: settings).map(\.handle)
        #expect(
            ranked == [
                "vouched-5-never-asked", "vouched-5-rested-good-record", "vouched-5-rested", "vouched-5-busy-lately", "self-declared-5", "level-4",
            ])
    }

    @Test func leavesOutTheAskerTheInactiveThePausedAndThoseOverBudget() {
        let candidates = [
            Candidate(handle: "asker", level: 5),
            Candidate(handle: "inactive", level: 5, isActive: false),
            Candidate(handle: "paused", level: 5, pausedUntil: now.addingTimeInterval(600)),
            Candidate(handle: "pause-over", level: 5, pausedUntil: now.addingTimeInterval(-1)),
            Candidate(handle: "over-budget", level: 5, deliveriesLastHour: 4),
            Candidate(handle: "within-budget", level: 5, deliveriesLastHour: 3),
        ]
        let ranked = Matcher.rank(candidates, asker: .employee("asker"), now: now, settings: settings).map(\.handle)
        #expect(ranked == ["pause-over", "within-budget"])
    }

    @Test func theFirstWaveGoesOnlyToAvailablePeopleNeverToBusyOfflineOrUnknown() {
        let ranked = ["a", "b", "c", "d", "e"].map { Candidate(handle: $0, level: 3) }
        let presence: [String: Presence] = ["a": .away, "b": .available, "c": .busy, "d": .offline]
        var allowAway = settings
        allowAway.allowAwayInLaterWaves = true
        #expect(Matcher.planWave(ranked: ranked, presence: presence, alreadyAsked: [], wave: 1, settings: allowAway).map(\.handle) == ["b"])
        #expect(Matcher.planWave(ranked: ranked, presence: presence, alreadyAsked: [], wave: 2, settings: settings).map(\.handle) == ["b"])
        #expect(Matcher.planWave(ranked: ranked, presence: presence, alreadyAsked: [], wave: 2, settings: allowAway).map(\.handle) == ["b", "a"])
        #expect(Matcher.planWave(ranked: ranked, presence: presence, alreadyAsked: ["b"], wave: 2, settings: allowAway).map(\.handle) == ["a"])
    }

    @Test func aWaveHoldsAtMostWaveSizePeopleInRankOrder() {
        var small = settings
        small.waveSize = 2
        let ranked = ["a", "b", "c", "d"].map { Candidate(handle: $0, level: 3) }
        let presence = Dictionary(uniqueKeysWithValues: ranked.map { ($0.handle, Presence.available) })
        #expect(Matcher.planWave(ranked: ranked, presence: presence, alreadyAsked: ["a"], wave: 2, settings: small).map(\.handle) == ["b", "c"])
        #expect(Matcher.presencePool(ranked: ranked, alreadyAsked: ["b"], poolSize: 2).map(\.handle) == ["a", "c"])
    }

    @Test func answerRateGivesNewcomersTheBenefitOfTheDoubtAndCountsRatings() {
        #expect(AnswerRecord().answerRate == 0.5)
        #expect(AnswerRecord(delivered: 4, answered: 2).answerRate == 0.5)
        #expect(AnswerRecord(delivered: 4, answered: 2, helpful: 2).answerRate == 0.75)
        #expect(AnswerRecord(delivered: 4, answered: 1, unhelpful: 1).answerRate == 0.125)
    }
}

@Suite struct TopicResolutionTests {
    let kubernetes = TopicReference(slug: "kubernetes", name: "Kubernetes")
    let docker = TopicReference(slug: "docker", name: "Docker")

    @Test func aSlugOrAliasInTheTextWins() throws {
        #expect(try TopicResolution.choose(exact: [kubernetes], hits: [TopicHit(topic: docker, score: -9)]) == kubernetes)
    }

    @Test func twoNamedTopicsAreAmbiguous() {
        #expect(throws: DirectoryError.ambiguousTopic([docker, kubernetes])) { try TopicResolution.choose(exact: [docker, kubernetes], hits: []) }
    }

    @Test func aClearLeaderWinsAndCloseRunnersUpAreAmbiguous() throws {
        #expect(
            try TopicResolution.choose(exact: [], hits: [TopicHit(topic: kubernetes, score: -8), TopicHit(topic: docker, score: -3)]) == kubernetes)
        #expect(throws: DirectoryError.ambiguousTopic([kubernetes, docker])) {
            try TopicResolution.choose(exact: [], hits: [TopicHit(topic: kubernetes, score: -8), TopicHit(topic: docker, score: -6)])
        }
        #expect(throws: DirectoryError.unknownTopic(nil)) { try TopicResolution.choose(exact: [], hits: []) }
    }
}

@Suite struct ContentPolicyTests {
    let policy = try! ContentPolicy(rules: ContentRule.defaults)

    @Test(arguments: [
        "my card is 4111 1111 1111 1111", "5500-0000-0000-0004 please", "-----BEGIN RSA PRIVATE KEY-----\nMIIE", "-----BEGIN PRIVATE KEY-----",
    ])
    func refusesCardNumbersAndPrivateKeys(_ text: String) {
        #expect(policy.violation(in: text) != nil)
    }

    @Test(arguments: ["How do I drain a node?", "Ticket 123456 is blocked", "call 0171 1234567", "-----BEGIN PUBLIC KEY-----"])
    func letsOrdinaryTextThrough(_ text: String) {
        #expect(policy.violation(in: text) == nil)
    }

    @Test func aBrokenPatternIsRefusedByName() {
        #expect(throws: DirectoryError.invalidField("contentRules.broken", "is not a valid regular expression")) {
            try ContentPolicy(rules: [ContentRule(name: "broken", pattern: "([a-z")])
        }
    }
}

@Suite struct RateLimiterTests {
    @Test func allowsTheLimitPerWindowThenSaysWhenToComeBack() throws {
        let limiter = RateLimiter(limit: 2, window: 60)
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        try limiter.acquire("bot:a", now: start)
        try limiter.acquire("bot:a", now: start.addingTimeInterval(10))
        #expect(throws: DirectoryError.rateLimited(retryAfterSeconds: 40)) { try limiter.acquire("bot:a", now: start.addingTimeInterval(20)) }
        try limiter.acquire("bot:b", now: start.addingTimeInterval(20))
        try limiter.acquire("bot:a", now: start.addingTimeInterval(60))
    }
}

@Suite struct QuestionSettingsTests {
    @Test func aConfigFileOverridesOnlyWhatItNames() throws {
        let settings = try JSONDecoder().decode(QuestionSettings.self, from: Data(#"{"waveSize": 2, "allowAwayInLaterWaves": true}"#.utf8))
        var expected = QuestionSettings()
        expected.waveSize = 2
        expected.allowAwayInLaterWaves = true
        #expect(settings == expected)
    }

    @Test func nonsenseIsRefused() {
        var settings = QuestionSettings()
        settings.maxWaves = 0
        #expect(throws: DirectoryError.invalidField("maxWaves", "must be at least 1")) { try settings.validated() }
    }
}
