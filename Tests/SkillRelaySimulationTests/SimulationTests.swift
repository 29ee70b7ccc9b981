import Foundation
import GRDB
import SkillRelayDomain
import SkillRelaySimulation
import SkillRelayStore
import Synchronization
import Testing

@Suite struct SimulationTests {
    @Test func theSameSeedGivesTheSameReportByteForByteAndAnotherSeedAnother() async throws {
        let scenario = try ScenarioFixtures.scenario(ScenarioFixtures.small())
        let first = try await Simulation.run(scenario, options: SimulationOptions(days: 1, seed: 7))
        let again = try await Simulation.run(scenario, options: SimulationOptions(days: 1, seed: 7))
        let other = try await Simulation.run(scenario, options: SimulationOptions(days: 1, seed: 8))
        #expect(first.report.questions > 10)
        #expect(first.deliveries > 0)
        #expect(first.report.json() == again.report.json())
        #expect(first.report.json() != other.report.json())
    }

    @Test func oneExpertWhoAlwaysAnswersInAMinuteAnswersEverythingInAMinute() async throws {
        // Given two people who are each other's only candidate, always available, always answering helpfully in 60 s,
        // asking fewer questions than the daily budget lets the other take
        let scenario = try ScenarioFixtures.scenario(
            ScenarioFixtures.twoExperts.replacingOccurrences(of: "\"questionsPerPersonPerDay\": 3", with: "\"questionsPerPersonPerDay\": 1.5"))
        // When a day is simulated
        let outcome = try await Simulation.run(scenario, options: SimulationOptions(days: 1, seed: 3, routing: .static))
        let report = outcome.report
        // Then every question is answered by the other, once, in exactly a minute
        try #require(report.questions > 1)
        try #require(report.interruptionsPerSpecialistDayMax <= QuestionSettings().dailyBudget)
        #expect(report.answeredRatio == 1)
        #expect(report.answeredWithin10MinRatio == 1)
        #expect(report.firstAnswerMedianSeconds == 60)
        #expect(report.firstAnswerP90Seconds == 60)
        #expect(report.helpfulRatio == 1)
        #expect(report.wastedRatio == 0)
        #expect(report.expiredUnavailableRatio == 0)
        #expect(outcome.deliveries == report.questions)
        #expect(report.interruptionsPerSpecialistDayMean == Double(report.questions) / 2)
        #expect(report.routing == "static")
        #expect(report.seed == 3)
        #expect(report.days == 1)
    }

    @Test func nobodyIsAskedMoreOftenADayThanTheDailyBudget() async throws {
        // Given the two experts asking each other eight questions a day each
        let scenario = try ScenarioFixtures.scenario(
            ScenarioFixtures.twoExperts.replacingOccurrences(of: "\"questionsPerPersonPerDay\": 3", with: "\"questionsPerPersonPerDay\": 8"))
        for routing in [RoutingPolicy.static, .learned] {
            // When a day is simulated
            let outcome = try await Simulation.run(scenario, options: SimulationOptions(days: 1, seed: 3, routing: routing))
            let report = outcome.report
            // Then each receives four at most; the rest expire unanswered, though both were at their desks
            let budget = QuestionSettings().dailyBudget
            #expect(report.questions > 2 * budget)
            #expect(report.interruptionsPerSpecialistDayMax == budget)
            #expect(outcome.deliveries == 2 * budget)
            #expect(report.answeredRatio == (Double(2 * budget) / Double(report.questions) * 10_000).rounded() / 10_000)
            #expect(report.expiredUnavailableRatio == 0)
        }
    }

    @Test func questionsNobodyCouldTakeExpireAsUnavailable() async throws {
        // Given the two experts in meetings all day (busy: never interrupted)
        let json = ScenarioFixtures.twoExperts.replacingOccurrences(of: "\"meetingBusyShare\": 0,", with: "\"meetingBusyShare\": 1,")
        let outcome = try await Simulation.run(try ScenarioFixtures.scenario(json), options: SimulationOptions(days: 1, seed: 3))
        // Then nothing is delivered and every question expires with nobody ever available
        try #require(outcome.report.questions > 0)
        #expect(outcome.deliveries == 0)
        #expect(outcome.report.answeredRatio == 0)
        #expect(outcome.report.firstAnswerMedianSeconds == nil)
        #expect(outcome.report.helpfulRatio == nil)
        #expect(outcome.report.expiredUnavailableRatio == 1)
        #expect(outcome.report.interruptionsPerSpecialistDayMean == 0)
    }

    @Test func theJSONReportHasExactlyTheAgreedKeys() async throws {
        let scenario = try ScenarioFixtures.scenario(ScenarioFixtures.twoExperts)
        let report = try await Simulation.run(scenario, options: SimulationOptions(days: 1, seed: 1)).report
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any])
        #expect(
            Set(object.keys) == [
                "questions", "answeredRatio", "answeredWithin10MinRatio", "firstAnswerMedianSeconds", "firstAnswerP90Seconds", "helpfulRatio",
                "interruptionsPerSpecialistDayMean", "interruptionsPerSpecialistDayMax", "wastedRatio", "loadGini", "expiredUnavailableRatio",
                "routing", "seed", "days",
            ])
    }

    @Test func aRestartInTheMiddleOfTheDayChangesNothingTheStoreKeeps() async throws {
        let scenario = try ScenarioFixtures.scenario(ScenarioFixtures.small())
        let phases = Mutex<[SimulationOptions.RestartPhase]>([])
        let restartAt: TimeInterval = 13 * 3600  // Monday 13:00 UTC: mid-afternoon in Europe, morning in New York.
        let restarted = try await Simulation.run(
            scenario,
            options: SimulationOptions(
                days: 1, seed: 11, routing: .static, restartAt: restartAt,
                restartObserver: { phase, database in
                    // The database is open and readable on both sides of the restart.
                    _ = try await SQLiteQuestionStore(database: database).questionStats(since: nil, top: 1)
                    phases.withLock { $0.append(phase) }
                }))
        let straight = try await Simulation.run(scenario, options: SimulationOptions(days: 1, seed: 11, routing: .static))
        #expect(restarted.restarts == 1)
        #expect(phases.withLock { $0 } == [.beforeClose, .afterReopen])
        #expect(restarted.report.questions > 10)
        // Static routing keeps everything in the store, so a restart does not change a single figure.
        #expect(restarted.report.json() == straight.report.json())
    }

    @Test func aRestartMidDayKeepsTheLearnedStatistics() async throws {
        let scenario = try ScenarioFixtures.scenario(ScenarioFixtures.small())
        // Every learned row, as text, read on each side of the restart.
        let seen = Mutex<[(phase: SimulationOptions.RestartPhase, rows: [String])]>([])
        let outcome = try await Simulation.run(
            scenario,
            options: SimulationOptions(
                days: 1, seed: 5, routing: .learned, restartAt: 13 * 3600,
                restartObserver: { phase, database in
                    let rows = try await database.writer.read { db in
                        try Row.fetchAll(
                            db,
                            sql: """
                                SELECT employeeId || '/' || topicId || ':' || outcomes || ',' || timely || ',' || rated || ',' || helpful
                                FROM routingStat ORDER BY employeeId, topicId
                                """
                        ).map { $0[0] as String }
                            + Row.fetchAll(
                                db, sql: "SELECT employeeId || '/' || hourOfWeek || ':' || outcomes FROM routingHour ORDER BY employeeId, hourOfWeek"
                            ).map { $0[0] as String }
                    }
                    seen.withLock { $0.append((phase, rows)) }
                }))
        #expect(outcome.restarts == 1)
        let sides = seen.withLock { $0 }
        #expect(sides.map(\.phase) == [.beforeClose, .afterReopen])
        // By the afternoon the morning's questions have taught it something, and the new process reads all of it.
        #expect(!sides[0].rows.isEmpty)
        #expect(sides[1].rows == sides[0].rows)
    }

    @Test func theProgressGoesFromZeroToOne() async throws {
        let scenario = try ScenarioFixtures.scenario(ScenarioFixtures.twoExperts)
        let seen = Mutex<[Double]>([])
        _ = try await Simulation.run(scenario, options: SimulationOptions(days: 1, progress: { value in seen.withLock { $0.append(value) } }))
        let values = seen.withLock { $0 }
        #expect(values.last == 1)
        #expect(values == values.sorted())
    }

    @Test func badOptionsAreRefusedByName() async throws {
        let scenario = try ScenarioFixtures.scenario(ScenarioFixtures.twoExperts)
        await #expect(throws: SimulationError.option(name: "--days", "must be from 1 to 260")) {
            try await Simulation.run(scenario, options: SimulationOptions(days: 0))
        }
        await #expect(throws: SimulationError.option(name: "restartAt", "must be at least 0")) {
            try await Simulation.run(scenario, options: SimulationOptions(restartAt: -1))
        }
        for confidence in [0, 1, Double.nan] {
            await #expect(throws: SimulationError.option(name: "--wave-confidence", "must be more than 0 and at most 0.999")) {
                try await Simulation.run(scenario, options: SimulationOptions(waveConfidence: confidence))
            }
        }
    }

    @Test func theOracleSizesWavesByTheScenariosTruth() async throws {
        // Given the small company, routed by its ground truth with waves sized to a low and to a high confidence
        let scenario = try ScenarioFixtures.scenario(ScenarioFixtures.small())
        let low = try await Simulation.run(scenario, options: SimulationOptions(days: 1, seed: 7, oracle: true, waveConfidence: 0.5))
        let high = try await Simulation.run(scenario, options: SimulationOptions(days: 1, seed: 7, oracle: true, waveConfidence: 0.99))
        // Then both say they were the oracle's, and the low confidence interrupted fewer people for the same questions
        #expect(low.report.routing == "oracle")
        #expect(high.report.routing == "oracle")
        try #require(low.report.questions == high.report.questions)
        #expect(low.deliveries < high.deliveries)
    }

    @Test func theShippedScenariosAreValid() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Data/simulation")
        for name in ["default", "noisy-tags", "small-pool", "presence-off"] {
            let scenario = try Scenario.load(path: directory.appendingPathComponent("\(name).json").path)
            #expect(scenario.name == name)
            #expect((1000...2000).contains(scenario.people) || name == "small-pool")
        }
    }
}
