import Foundation
import Testing

@testable import SkillRelayDomain

/// The learned routing's estimator: decay, the cold start, exploration, the hour of the week, and how a wave is sized.
/// Every draw comes from a seeded generator, so each test sees the same draws on every run.
@Suite struct RoutingEstimatorTests {
    /// Tuesday 1 December 2026, 10:00 UTC.
    let now = Date(timeIntervalSince1970: 1_796_119_200)
    let halfLife: TimeInterval = 14 * 86_400
    let settings = QuestionSettings()

    /// Someone with `outcomes` known outcomes on the topic, `timely` of them answers in time, and `helpful` of `rated`
    /// answers rated helpful, all as of now.
    func person(
        _ handle: String, level: Int = 3, outcomes: Double = 0, timely: Double = 0, rated: Double = 0, helpful: Double = 0,
        lastInterruptedAt: Date? = nil
    ) -> Candidate {
        let topic = OutcomeCounts(outcomes: outcomes, timely: timely, rated: rated, helpful: helpful, updatedAt: outcomes > 0 ? now : nil)
        let overall = OutcomeCounts(outcomes: outcomes, timely: timely, updatedAt: outcomes > 0 ? now : nil)
        return Candidate(
            handle: handle, level: level, lastInterruptedAt: lastInterruptedAt, learned: LearnedRecord(topic: topic, overall: overall))
    }

    /// How often each handle is among the first `places` over `rounds` rankings.
    func topPlaces(_ candidates: [Candidate], places: Int = 1, rounds: Int = 2000, seed: UInt64 = 7) -> [String: Int] {
        let random = RoutingRandom(seed: seed)
        var counts: [String: Int] = [:]
        for _ in 0..<rounds {
            let ranked = Matcher.rank(candidates, asker: .bot("helpdesk"), now: now, settings: settings, random: random)
            for candidate in ranked.prefix(places) { counts[candidate.handle, default: 0] += 1 }
        }
        return counts
    }

    @Test func countsHalveEveryHalfLife() {
        let counts = OutcomeCounts(outcomes: 8, timely: 4, passed: 2, rated: 2, helpful: 1, updatedAt: now)
        let later = counts.decayed(to: now.addingTimeInterval(halfLife), halfLife: halfLife)
        #expect(abs(later.outcomes - 4) < 1e-9 && abs(later.timely - 2) < 1e-9 && abs(later.helpful - 0.5) < 1e-9)
        #expect(later.updatedAt == now.addingTimeInterval(halfLife))
        let muchLater = counts.decayed(to: now.addingTimeInterval(3 * halfLife), halfLife: halfLife)
        #expect(abs(muchLater.outcomes - 1) < 1e-9)
        // Never grows going backwards, and no data stays no data.
        #expect(counts.decayed(to: now.addingTimeInterval(-60), halfLife: halfLife).outcomes == 8)
        #expect(OutcomeCounts().decayed(to: now, halfLife: halfLife) == OutcomeCounts())
    }

    @Test func aColdStartHasEvenOddsOfAnsweringAndATagBasedChanceOfHelping() {
        let estimator = RoutingEstimator(halfLife: halfLife, now: now)
        let expert = estimator.estimate(person("expert", level: 5))
        let novice = estimator.estimate(person("novice", level: 1))
        #expect(expert.timely.mean == 0.5 && novice.timely.mean == 0.5)
        #expect(expert.hourFactor == 1 && expert.rest == 1)
        #expect(expert.helpful.mean > novice.helpful.mean)
        var selfDeclared = person("self", level: 5)
        selfDeclared.source = .selfDeclared
        #expect(estimator.estimate(selfDeclared).helpful.mean < expert.helpful.mean)
    }

    @Test func evidenceMovesTheEstimateAndOldEvidenceCountsLess() {
        let estimator = RoutingEstimator(halfLife: halfLife, now: now)
        let reliable = estimator.estimate(person("reliable", outcomes: 20, timely: 19, rated: 10, helpful: 9))
        let silent = estimator.estimate(person("silent", outcomes: 20, timely: 1))
        #expect(reliable.timelyNow > 0.85 && reliable.helpful.mean > 0.75)
        #expect(silent.timelyNow < 0.15)
        // The same silence two months ago says much less now.
        var old = person("old", outcomes: 20, timely: 1)
        old.learned.topic.updatedAt = now.addingTimeInterval(-60 * 86_400)
        old.learned.overall.updatedAt = now.addingTimeInterval(-60 * 86_400)
        #expect(estimator.estimate(old).timelyNow > silent.timelyNow + 0.15)
    }

    @Test func thompsonSamplingExploresNewcomersButRarelyRetriesAProvenMisfit() {
        let proven = (1...3).map { person("proven\($0)", level: 4, outcomes: 30, timely: 24, rated: 15, helpful: 12) }
        let newcomer = person("newcomer", level: 2)
        let misfit = person("misfit", level: 5, outcomes: 30, timely: 2, rated: 2, helpful: 0)
        // Waves of three from these five, 2,000 times.
        let inWave = topPlaces(proven + [newcomer, misfit], places: 3)
        // The proven people make most waves; the newcomer gets a real share of trials (one wave in twenty or more);
        // the misfit almost none.
        #expect(proven.allSatisfy { inWave[$0.handle, default: 0] > 1400 })
        #expect((100...1000).contains(inWave["newcomer", default: 0]))
        #expect(inWave["misfit", default: 0] < 100)
    }

    @Test func theSameSeedGivesTheSameOrder() {
        let people = (1...12).map { person("p\($0)", level: 1 + $0 % 5, outcomes: Double($0), timely: Double($0 / 2)) }
        let a = Matcher.rank(people, asker: .bot("x"), now: now, settings: settings, random: RoutingRandom(seed: 99)).map(\.handle)
        let b = Matcher.rank(people.reversed(), asker: .bot("x"), now: now, settings: settings, random: RoutingRandom(seed: 99)).map(\.handle)
        #expect(a == b)
        let c = Matcher.rank(people, asker: .bot("x"), now: now, settings: settings, random: RoutingRandom(seed: 100)).map(\.handle)
        #expect(a != c)
    }

    @Test func theHardRulesHoldWhateverTheEstimates() {
        var paused = person("paused", outcomes: 40, timely: 40)
        paused.pausedUntil = now.addingTimeInterval(600)
        var spent = person("spent", outcomes: 40, timely: 40)
        spent.deliveriesLastHour = settings.hourlyBudget
        let low = person("low", level: 1)
        var strict = settings
        strict.minimumLevel = 2
        let ranked = Matcher.rank(
            [paused, spent, low, person("asker", outcomes: 40, timely: 40), person("ok")], asker: .employee("asker"), now: now, settings: strict)
        #expect(ranked.map(\.handle) == ["ok"])
    }

    @Test func anHourOfTheWeekWhenSomeoneNeverAnswersCountsAgainstThem() {
        let estimator = RoutingEstimator(halfLife: halfLife, now: now)
        var nightOwl = person("owl", outcomes: 30, timely: 24)
        nightOwl.learned.hour = OutcomeCounts(outcomes: 8, timely: 0, updatedAt: now)
        var dayPerson = person("day", outcomes: 30, timely: 24)
        dayPerson.learned.hour = OutcomeCounts(outcomes: 8, timely: 8, updatedAt: now)
        let owl = estimator.estimate(nightOwl)
        let day = estimator.estimate(dayPerson)
        #expect(owl.hourFactor < 0.5 && day.hourFactor > 1)
        #expect(owl.timelyNow < day.timelyNow)
    }

    @Test func aRecentInterruptionHoldsSomeoneBackForAFewHours() {
        let estimator = RoutingEstimator(halfLife: halfLife, now: now)
        let justAsked = estimator.estimate(person("a", lastInterruptedAt: now.addingTimeInterval(-60)))
        let askedThisMorning = estimator.estimate(person("b", lastInterruptedAt: now.addingTimeInterval(-5 * 3600)))
        #expect(justAsked.rest < 0.55 && askedThisMorning.rest > 0.9)
        // Every question of the past day halves the score: the fourth of a day weighs an eighth as much as the first.
        var busyDay = person("c", lastInterruptedAt: now.addingTimeInterval(-12 * 3600))
        busyDay.deliveriesLastDay = 3
        #expect(abs(estimator.estimate(busyDay).rest - 0.125 * (1 - 0.5 * exp(-4.0))) < 1e-9)
    }

    @Test func hoursOfTheWeekStartOnMondayUTC() {
        // Monday 30 November 2026 00:00 UTC, and Sunday 6 December 23:30.
        let monday: TimeInterval = 1_795_996_800
        #expect(LearnedRecord.hourOfWeek(Date(timeIntervalSince1970: monday)) == 0)
        #expect(LearnedRecord.hourOfWeek(Date(timeIntervalSince1970: monday + 6 * 86_400 + 23 * 3600 + 1800)) == 167)
        #expect(LearnedRecord.hourOfWeek(Date(timeIntervalSince1970: monday - 1)) == 167)
        #expect(LearnedRecord.hourOfWeek(now) == 34)
        // The epoch began on a Thursday.
        #expect(LearnedRecord.hourOfWeek(Date(timeIntervalSince1970: 0)) == 72)
    }

    @Test func aLearnedWaveStopsOnceAnAnswerInTimeIsLikelyEnough() {
        #expect(settings.waveConfidence == 0.99)
        // About 0.95 each: two give 99.7 % of an answer in time; about 0.8 each takes three (99.2 %).
        let reliable = (1...5).map { person("r\($0)", outcomes: 40, timely: 38) }
        #expect(Matcher.sized(reliable, needed: 3, now: now, settings: settings).count == 2)
        let good = (1...5).map { person("g\($0)", outcomes: 40, timely: 32) }
        #expect(Matcher.sized(good, needed: 1, now: now, settings: settings).count == 3)
        // Cold starts, 0.5 each: the whole wave goes.
        let cold = (1...5).map { person("c\($0)") }
        #expect(Matcher.sized(cold, needed: 1, now: now, settings: settings).count == 5)
        // A question that wants no more answers, and static routing, keep the wave as planned.
        #expect(Matcher.sized(reliable, needed: 0, now: now, settings: settings).count == 5)
        var fixed = settings
        fixed.routing = .static
        #expect(Matcher.sized(reliable, needed: 1, now: now, settings: fixed).count == 5)
        // Each one chosen carries the estimate the wave was sized by.
        let expected = RoutingEstimator(settings: settings, now: now).estimate(good[0]).timelyNow
        #expect(abs(expected - 0.8) < 0.01)
        #expect(Matcher.sized(good, needed: 1, now: now, settings: settings).allSatisfy { $0.expectedTimely == expected })
        // People already holding the question count towards the chance: at 0.97 already, one more is enough.
        #expect(Matcher.sized(good, needed: 1, now: now, settings: settings, alreadyLikely: 0.97).count == 1)
        // A deployment that would rather interrupt fewer people sets a lower confidence: at 0.9, two of 0.8 do (0.96).
        var sparing = settings
        sparing.waveConfidence = 0.9
        #expect(Matcher.sized(good, needed: 1, now: now, settings: sparing).count == 2)
        #expect(Matcher.sized(cold, needed: 1, now: now, settings: sparing).count == 4)
    }

    @Test func theWaveConfidenceIsAChanceBelowCertainty() throws {
        for bad in [0, -0.5, 1, 0.9995, Double.nan] {
            var settings = QuestionSettings()
            settings.waveConfidence = bad
            #expect(throws: DirectoryError.invalidField("waveConfidence", "must be more than 0 and at most 0.999")) {
                try settings.validated()
            }
        }
        var settings = QuestionSettings()
        settings.waveConfidence = 0.5
        #expect(try settings.validated().waveConfidence == 0.5)
        let decoded = try JSONDecoder().decode(QuestionSettings.self, from: Data(#"{"waveConfidence": 0.9}"#.utf8))
        #expect(decoded.waveConfidence == 0.9)
    }

    /// An oracle that knows each handle's true chances.
    struct KnownTruth: RoutingOracle {
        var truths: [String: RoutingTruth]
        func truth(about candidate: Candidate, topic: String, now: Date) -> RoutingTruth {
            truths[candidate.handle] ?? RoutingTruth(answersInTime: 0, helps: 0)
        }
    }

    @Test func anOracleRanksByTheTruthAndSizesTheWaveByIt() {
        // Given what was learned saying the opposite of the truth: "quick" looks hopeless, "slow" proven
        let quick = person("quick", outcomes: 40, timely: 2)
        let slow = person("slow", outcomes: 40, timely: 39)
        let unhelpful = person("unhelpful", outcomes: 40, timely: 39)
        let oracle = KnownTruth(
            truths: [
                "quick": RoutingTruth(answersInTime: 0.9, helps: 0.9), "slow": RoutingTruth(answersInTime: 0.3, helps: 0.9),
                "unhelpful": RoutingTruth(answersInTime: 0.95, helps: 0.2),
            ])
        // Then the order is by the true chance of a good answer in time (0.81, 0.27, 0.19), each carrying their truth
        let ranked = Matcher.rankedByTruth([slow, unhelpful, quick], topic: "swift", now: now, oracle: oracle)
        #expect(ranked.map(\.handle) == ["quick", "slow", "unhelpful"])
        #expect(ranked.map(\.expectedTimely) == [0.9, 0.3, 0.95])
        // And the wave stops once the true chance of an answer in time reaches the confidence: 0.9 then 0.93, then 0.9965 (at 0.85, 0.92 and 0.95)
        #expect(Matcher.sizedByTruth(ranked, alreadyLikely: 0, confidence: 0.95).map(\.handle) == ["quick", "slow", "unhelpful"])
        #expect(Matcher.sizedByTruth(ranked, alreadyLikely: 0, confidence: 0.92).map(\.handle) == ["quick", "slow"])
        #expect(Matcher.sizedByTruth(ranked, alreadyLikely: 0, confidence: 0.85).map(\.handle) == ["quick"])
        // Someone already holding the question counts: at 0.9 already, nobody more for 0.85
        #expect(Matcher.sizedByTruth(ranked, alreadyLikely: 0.9, confidence: 0.85).isEmpty)
    }

    @Test func theDailyBudgetIsAHardRule() {
        var tired = person("tired", outcomes: 40, timely: 40)
        tired.deliveriesLastDay = settings.dailyBudget
        var rested = person("rested")
        rested.deliveriesLastDay = settings.dailyBudget - 1
        for routing in [RoutingPolicy.static, .learned] {
            var chosen = settings
            chosen.routing = routing
            #expect(Matcher.rank([tired, rested], asker: .bot("x"), now: now, settings: chosen).map(\.handle) == ["rested"])
        }
    }

    @Test func answerDelaysStartUniformAndFollowWhatWasSeen() {
        let cold = AnswerDelays(window: 600, delays: [])
        #expect(cold.shareAnswered(within: 0) == 0 && cold.shareAnswered(within: 150) == 0.25 && cold.shareAnswered(within: 600) == 1)
        // Ninety answers within a minute (and some late ones, left out): the prior of ten answers barely counts.
        let quick = AnswerDelays(window: 600, delays: Array(repeating: 30, count: 90) + [900, 1200])
        #expect(quick.sorted.count == 90)
        #expect(abs(quick.shareAnswered(within: 60) - (90 + 10 * 0.1) / 100) < 1e-9)
        #expect(abs(quick.shareAnswered(within: 20) - (10 * 20.0 / 600) / 100) < 1e-9)
    }

    @Test func silenceMakesAnAnswerInTimeLessLikely() {
        let delays = AnswerDelays(window: 600, delays: [])
        // Nothing has happened yet: the estimate stands.
        #expect(abs(delays.stillAnswering(expected: 0.8, elapsed: 0) - 0.8) < 1e-9)
        // Halfway through a uniform window: 0.8 * 0.5 / (1 - 0.8 * 0.5) = 2/3.
        #expect(abs(delays.stillAnswering(expected: 0.8, elapsed: 300) - 2.0 / 3) < 1e-9)
        // Past the window, nothing more in time.
        #expect(delays.stillAnswering(expected: 0.8, elapsed: 600) == 0)
        let sent = now.addingTimeInterval(-300)
        let pending = [PendingDelivery(deliveredAt: sent, expectedTimely: 0.8), PendingDelivery(deliveredAt: sent, expectedTimely: nil)]
        // The second, without an estimate, is taken at 0.5: 0.5 * 0.5 / 0.75 = 1/3.
        #expect(abs(delays.anyStillAnswering(pending, now: now) - (1 - (1.0 / 3) * (2.0 / 3))) < 1e-9)
        #expect(delays.anyStillAnswering([], now: now) == 0)
    }

    @Test func betaDrawsHaveTheRightMean() {
        var generator = SplitMix64(seed: 3)
        for (alpha, beta) in [(2.0, 6.0), (0.5, 0.5), (30.0, 3.0)] {
            let draws = (0..<20_000).map { _ in RoutingEstimator.sampleBeta(.init(alpha: alpha, beta: beta), using: &generator) }
            let mean = draws.reduce(0, +) / Double(draws.count)
            #expect(abs(mean - alpha / (alpha + beta)) < 0.01)
            #expect(draws.allSatisfy { (0...1).contains($0) })
        }
    }
}
