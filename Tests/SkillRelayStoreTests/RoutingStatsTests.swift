import Foundation
import GRDB
import SkillRelayDomain
import SkillRelayTestSupport
import Testing

@testable import SkillRelayStore

/// The learned routing's statistics: written in the transactions of the answers, passes, closes and ratings that
/// produce them, read back with the candidates, and still there after a restart.
@Suite struct RoutingStatsTests {
    /// `ann` asks; `s1`…`s3` hold `infra` at level 3. A database file, so that it can be opened again.
    func makeDatabase() async throws -> (path: String, clock: TestClock) {
        let path = ScratchSQLiteFile("routing-stats").path
        let clock = TestClock()
        let directory = SQLiteDirectoryStore(database: try AppDatabase.open(path: path), clock: clock)
        var employees = "handle,name,email,im_id,manager,admin,active\n"
        for person in ["ann", "s1", "s2", "s3"] { employees += "\(person),\(person),\(person)@example.org,,,false,true\n" }
        _ = try await directory.importDirectory(
            try ImportBatch.parse(files: [
                .employees: employees, .topics: "slug,name,parent,aliases,description\ninfra,Infrastructure,,,\n",
                .skills: "handle,topic,level\ns1,infra,3\ns2,infra,3\ns3,infra,3\n",
            ]), by: .cliOperator)
        return (path, clock)
    }

    func service(_ store: SQLiteQuestionStore, clock: TestClock) throws -> QuestionService {
        let presence = FakePresenceSource()
        for person in ["s1", "s2", "s3"] { presence.set(person, .available) }
        return try QuestionService(store: store, presence: presence, settings: QuestionSettings(), clock: clock, random: RoutingRandom(seed: 1))
    }

    func deliveries(_ store: SQLiteQuestionStore) async throws -> [String: String] {
        try await store.database.writer.read { db in
            Dictionary(
                uniqueKeysWithValues: try Row.fetchAll(
                    db, sql: "SELECT employee.handle, delivery.publicId FROM delivery JOIN employee ON employee.id = delivery.specialistId"
                ).map { ($0[0] as String, $0[1] as String) })
        }
    }

    @Test func answersPassesSilenceAndRatingsAreLearnedAndSurviveARestart() async throws {
        let (path, clock) = try await makeDatabase()
        defer { ScratchSQLiteFile.remove(path) }
        let learning = RoutingLearning(halfLife: 14 * 86_400, timelySeconds: 600)
        do {
            let store = SQLiteQuestionStore(database: try AppDatabase.open(path: path), clock: clock, learning: learning)
            let questions = try service(store, clock: clock)
            let asked = try await questions.ask(QuestionDraft(asker: .employee("ann"), topic: "infra", text: "How do I drain a node?"))
            #expect(asked.deliveredTo == 3)
            let held = try await deliveries(store)
            clock.advance(by: 60)
            _ = try await questions.answer(delivery: held["s1"]!, text: "kubectl drain", by: Caller(identity: .employee("s1")))
            try await questions.pass(delivery: held["s2"]!, by: Caller(identity: .employee("s2")))
            try await questions.rate(asked.id, rank: 1, helpful: true, by: Caller(identity: .employee("ann")))
            // s3 says nothing; eleven minutes after the delivery the question is cancelled: that is silence.
            clock.advance(by: 600)
            try await questions.cancel(asked.id, by: Caller(identity: .employee("ann")))
            // A changed rating moves the helpful count, not the number rated.
            try await questions.rate(asked.id, rank: 1, helpful: false, by: Caller(identity: .employee("ann")))
            try await questions.rate(asked.id, rank: 1, helpful: true, by: Caller(identity: .employee("ann")))
        }
        // Another process, later: the statistics are in the database.
        let store = SQLiteQuestionStore(database: try AppDatabase.open(path: path), clock: clock, learning: learning)
        let found = Dictionary(
            uniqueKeysWithValues: try await store.candidates(CandidateQuery(topic: "infra"), now: clock.now()).map { ($0.handle, $0.learned) })
        let s1 = try #require(found["s1"]).topic
        #expect(abs(s1.outcomes - 1) < 1e-3 && abs(s1.timely - 1) < 1e-3 && s1.passed == 0)
        #expect(abs(s1.rated - 1) < 1e-3 && abs(s1.helpful - 1) < 1e-3)
        let s2 = try #require(found["s2"]).topic
        #expect(abs(s2.outcomes - 1) < 1e-3 && s2.timely == 0 && abs(s2.passed - 1) < 1e-3)
        let s3 = try #require(found["s3"])
        #expect(abs(s3.topic.outcomes - 1) < 1e-3 && s3.topic.timely == 0 && s3.topic.passed == 0)
        // Overall and this hour of the week: the deliveries were made in the hour the clock still shows.
        #expect(abs(s3.overall.outcomes - 1) < 1e-3 && abs(s3.hour.outcomes - 1) < 1e-3)
        #expect(abs(try #require(found["s1"]).overall.timely - 1) < 1e-3)
        // A half-life later the same rows read half as much.
        let estimator = RoutingEstimator(halfLife: learning.halfLife, now: clock.now().addingTimeInterval(learning.halfLife))
        #expect(abs(s1.decayed(to: estimator.now, halfLife: learning.halfLife).timely - 0.5) < 1e-3)
    }

    @Test func someoneStillHoldingARecentQuestionWhenItClosesIsNotCountedSilent() async throws {
        let (path, clock) = try await makeDatabase()
        defer { ScratchSQLiteFile.remove(path) }
        let store = SQLiteQuestionStore(database: try AppDatabase.open(path: path), clock: clock)
        let questions = try service(store, clock: clock)
        let asked = try await questions.ask(QuestionDraft(asker: .employee("ann"), topic: "infra", text: "Which CNI?", maxAnswers: 1))
        let held = try await deliveries(store)
        clock.advance(by: 30)
        // The first answer closes the question (one wanted): the other two had half a minute, which proves nothing.
        _ = try await questions.answer(delivery: held["s1"]!, text: "Cilium", by: Caller(identity: .employee("s1")))
        let rows = try await store.database.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT employee.handle FROM routingStat JOIN employee ON employee.id = routingStat.employeeId")
                .map { $0[0] as String }
        }
        #expect(rows == ["s1"])
        _ = asked
    }

    @Test func aLaterWaveWaitsWhileThoseHoldingTheQuestionAreStillLikelyToAnswer() async throws {
        let file = ScratchSQLiteFile("routing-waves")
        defer { file.remove() }
        let path = file.path
        let clock = TestClock()
        let database = try AppDatabase.open(path: path)
        let people = (1...8).map { "s\($0)" }
        var employees = "handle,name,email,im_id,manager,admin,active\nann,ann,ann@example.org,,,false,true\n"
        for person in people { employees += "\(person),\(person),\(person)@example.org,,,false,true\n" }
        _ = try await SQLiteDirectoryStore(database: database, clock: clock).importDirectory(
            try ImportBatch.parse(files: [
                .employees: employees, .topics: "slug,name,parent,aliases,description\ninfra,Infrastructure,,,\n",
                .skills: "handle,topic,level\n" + people.map { "\($0),infra,3\n" }.joined(),
            ]), by: .cliOperator)
        let store = SQLiteQuestionStore(database: database, clock: clock, learning: RoutingLearning(halfLife: 14 * 86_400, timelySeconds: 600))
        let presence = FakePresenceSource()
        for person in people { presence.set(person, .available) }
        let questions = try QuestionService(
            store: store, presence: presence, settings: QuestionSettings(), clock: clock, random: RoutingRandom(seed: 1))
        // Nobody known yet (0.5 each): the first wave is the whole wave of five, each with its estimate kept.
        let asked = try await questions.ask(QuestionDraft(asker: .employee("ann"), topic: "infra", text: "How do I drain a node?"))
        #expect(asked.deliveredTo == 5)
        let kept = try await store.database.writer.read { db in try Double?.fetchAll(db, sql: "SELECT expectedTimely FROM delivery") }
        #expect(kept.count == 5 && kept.allSatisfy { abs(($0 ?? 0) - 0.5) < 1e-9 })
        // Say the estimates had been 0.95: two minutes of silence leave each still 94 % likely, so nobody more is asked,
        // and the wave is not spent.
        try await store.database.writer.write { db in try db.execute(sql: "UPDATE delivery SET expectedTimely = 0.95") }
        clock.advance(by: 120)
        #expect(try await questions.tick() == 1)
        #expect(try await deliveries(store).count == 5)
        #expect(try await store.waveContext(question: asked.id)?.waves == 1)
        // Past the window of an answer in time, silence says they will not: the second wave goes out.
        clock.advance(by: 600)
        #expect(try await questions.tick() == 1)
        #expect(try await deliveries(store).count == 8)
        #expect(try await store.waveContext(question: asked.id)?.waves == 2)
    }
}
