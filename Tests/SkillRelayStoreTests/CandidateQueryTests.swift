import Foundation
import GRDB
import SkillRelayDomain
import SkillRelayTestSupport
import Synchronization
import Testing

@testable import SkillRelayStore

/// The ask path's candidate query: best levels first, everyone once, nobody who may not be interrupted, and a rotating
/// slice where a level holds more people than asked for.
@Suite struct CandidateQueryTests {
    /// `boss` and forty experts `e01`…`e40` tagged with `infra` (self-declared, by import) at level 5; `sub` has
    /// `kubernetes` (below `infra`) at 5 and `infra` at 2; `low` has `infra` at 2; `gone` is inactive at level 5.
    static func importCompany(into database: TestDatabase, clock: TestClock) async throws {
        let experts = (1...40).map { String(format: "e%02d", $0) }
        let people = ["boss"] + experts + ["sub", "low", "gone"]
        var employees = "handle,name,email,im_id,manager,admin,active\n"
        for person in people {
            employees +=
                "\(person),\(person),\(person)@example.org,@\(person):localhost,\(person == "boss" ? "" : "boss"),false,\(person != "gone")\n"
        }
        var skills = "handle,topic,level\n" + experts.map { "\($0),infra,5\n" }.joined()
        skills += "sub,kubernetes,5\nsub,infra,2\nlow,infra,2\ngone,infra,5\n"
        _ = try await database.directoryStore(clock: clock).importDirectory(
            try ImportBatch.parse(files: [
                .employees: employees, .topics: "slug,name,parent,aliases,description\ninfra,Infrastructure,,,\nkubernetes,Kubernetes,infra,k8s,\n",
                .skills: skills,
            ]), by: .cliOperator)
    }

    func makeStore(_ backend: StoreBackend) async throws -> (any QuestionStore & StatsStore, TestDatabase, TestClock) {
        let clock = TestClock()
        let database = try await TestDatabase.empty(backend)
        try await Self.importCompany(into: database, clock: clock)
        return (database.questionStore(clock: clock), database, clock)
    }

    /// Delivers a bot's question to `handle` at `at`, through the store as the ask path does (the delivery and the
    /// specialist's record in one transaction).
    static func deliver(_ store: any QuestionStore & StatsStore, number: Int, to handle: String, at: Date) async throws {
        let question = NewQuestion(
            id: "q\(number)", asker: .bot("bot"), topic: TopicReference(slug: "infra", name: "Infrastructure"), text: "text", maxAnswers: 3,
            idempotencyKey: nil, callbackURL: nil, channel: .api, createdAt: at, expiresAt: at.addingTimeInterval(1800))
        _ = try await store.createQuestion(question, firstWave: [Candidate(handle: handle, level: 5)], nextActionAt: at.addingTimeInterval(1800))
    }

    @Test(arguments: StoreBackend.available)
    func bestLevelsFirstEachPersonOnceAtTheirBestLevel(backend: StoreBackend) async throws {
        let (store, database, clock) = try await makeStore(backend)
        let found = try await store.candidates(CandidateQuery(topic: "infra"), now: clock.now())
        #expect(found.count == 42)
        #expect(Set(found.map(\.handle)).count == found.count)
        #expect(found.map(\.level) == found.map(\.level).sorted(by: >))
        #expect(found.first { $0.handle == "sub" }?.level == 5)
        #expect(found.last?.handle == "low")
        #expect(!found.contains { $0.handle == "gone" })
        // A subtopic alone holds only its own people; an alias names the same topic.
        #expect(try await store.candidates(CandidateQuery(topic: "k8s"), now: clock.now()).map(\.handle) == ["sub"])
        #expect(try await store.candidates(CandidateQuery(topic: "infra", minimumLevel: 3), now: clock.now()).count == 41)
        #expect(try await store.candidates(CandidateQuery(topic: "nowhere"), now: clock.now()).isEmpty)
        await database.close()
    }

    @Test(arguments: StoreBackend.available)
    func theAskerThePausedAndTheOverBudgetAreLeftOut(backend: StoreBackend) async throws {
        let (store, database, clock) = try await makeStore(backend)
        try await store.setPause(of: "e01", until: clock.now().addingTimeInterval(600), now: clock.now())
        // e02 received two questions in the past hour, e03 one an hour and a minute ago.
        for (handle, minutesAgo, number) in [("e03", 61.0, 3), ("e02", 20.0, 1), ("e02", 10.0, 2)] {
            try await Self.deliver(store, number: number, to: handle, at: clock.now().addingTimeInterval(-60 * minutesAgo))
        }
        let query = CandidateQuery(topic: "infra", minimumLevel: 5, hourlyBudget: 2, excluding: "e04")
        let handles = Set(try await store.candidates(query, now: clock.now()).map(\.handle))
        #expect(handles.isDisjoint(with: ["e01", "e02", "e04", "gone"]))
        #expect(handles.isSuperset(of: ["e03", "e05", "sub"]))
        #expect(handles.count == 38)
        // The pause ends, and the budget counts only the past hour.
        let later = clock.now().addingTimeInterval(3600)
        #expect(Set(try await store.candidates(query, now: later).map(\.handle)).isSuperset(of: ["e01", "e02"]))
        // Everybody busy still has specialists; nobody tagged has none.
        #expect(try await store.hasSpecialists(query))
        #expect(try await !store.hasSpecialists(CandidateQuery(topic: "kubernetes", excluding: "sub")))
        #expect(try await store.hasSpecialists(CandidateQuery(topic: "kubernetes")))
        // By an alias, in any case; an unknown topic has nobody.
        #expect(try await store.hasSpecialists(CandidateQuery(topic: "K8s", minimumLevel: 5)))
        #expect(try await !store.hasSpecialists(CandidateQuery(topic: "nowhere")))
        await database.close()
    }

    @Test(arguments: StoreBackend.available)
    func theDailyBudgetCountsTheLast24Hours(backend: StoreBackend) async throws {
        let (store, database, clock) = try await makeStore(backend)
        // e05 received three questions within the past day and one 25 hours ago.
        for (hoursAgo, number) in [(25.0, 1), (20.0, 2), (5.0, 3), (2.0, 4)] {
            try await Self.deliver(store, number: number, to: "e05", at: clock.now().addingTimeInterval(-3600 * hoursAgo))
        }
        func handles(dailyBudget: Int, at now: Date) async throws -> Set<String> {
            Set(try await store.candidates(CandidateQuery(topic: "infra", minimumLevel: 5, dailyBudget: dailyBudget), now: now).map(\.handle))
        }
        #expect(try await !handles(dailyBudget: 3, at: clock.now()).contains("e05"))
        #expect(try await handles(dailyBudget: 4, at: clock.now()).contains("e05"))
        // Four hours on, the question of 20 hours ago has left the day.
        #expect(try await handles(dailyBudget: 3, at: clock.now().addingTimeInterval(4.5 * 3600)).contains("e05"))
        let found = try await store.candidates(CandidateQuery(topic: "infra", minimumLevel: 5), now: clock.now())
        #expect(found.first { $0.handle == "e05" }?.deliveriesLastDay == 3)
        await database.close()
    }

    @Test(arguments: StoreBackend.available)
    func aLevelLargerThanTheLimitIsTakenFromAStartThatMovesEveryMinute(backend: StoreBackend) async throws {
        let (store, database, clock) = try await makeStore(backend)
        let query = CandidateQuery(topic: "infra", minimumLevel: 5, limit: 10)
        var seen: Set<String> = []
        var slices: Set<[String]> = []
        for minute in 0..<60 {
            let now = clock.now().addingTimeInterval(Double(minute) * 60)
            let slice = try await store.candidates(query, now: now).map(\.handle)
            #expect(slice.count == 10)
            // Within the minute, the same people: the presence cache serves them.
            #expect(try await store.candidates(query, now: now.addingTimeInterval(30)).map(\.handle) == slice)
            seen.formUnion(slice)
            slices.insert(slice)
        }
        // 41 people at level 5, ten at a time: over an hour the slices move and everyone had their turn.
        #expect(slices.count > 1)
        #expect(seen.count == 41)
        await database.close()
    }

    /// Where a level of a subtree holds more people than asked for, which of them are taken: the topics one after another
    /// in id order, each from the minute's start in employee order, then the same again from the first employee up to
    /// the start. Both stores take the same people, whichever store a deployment runs on.
    @Test(arguments: StoreBackend.available)
    func aSubtreesTopicsAreReadOneAfterAnotherFromTheStart(backend: StoreBackend) async throws {
        let clock = TestClock()
        let database = try await TestDatabase.empty(backend)
        // `lead` (employee 1), then p01…p20 (employees 2…21): the odd ones tagged with `data`, the even ones with `ml`
        // (below `data`), so that the two topics' people alternate in employee order.
        let people = (1...20).map { (id: Int64($0 + 1), handle: String(format: "p%02d", $0), topic: $0.isMultiple(of: 2) ? "ml" : "data") }
        var employees = "handle,name,email,im_id,manager,admin,active\nlead,lead,lead@example.org,@lead:localhost,,false,true\n"
        employees += people.map { "\($0.handle),\($0.handle),\($0.handle)@example.org,@\($0.handle):localhost,lead,false,true\n" }.joined()
        let skills = "handle,topic,level\n" + people.map { "\($0.handle),\($0.topic),5\n" }.joined()
        _ = try await database.directoryStore(clock: clock).importDirectory(
            try ImportBatch.parse(files: [
                .employees: employees, .topics: "slug,name,parent,aliases,description\ndata,Data,,,\nml,Machine learning,data,,\n",
                .skills: skills,
            ]), by: .cliOperator)
        let store = database.questionStore(clock: clock)
        // The people whose employee id passes `range`, `data`'s first, then `ml`'s.
        func topicByTopic(_ range: (Int64) -> Bool) -> [String] {
            ["data", "ml"].flatMap { topic in people.filter { $0.topic == topic && range($0.id) }.map(\.handle) }
        }
        var starts: Set<Int64> = []
        for minute in 0..<30 {
            let now = clock.now().addingTimeInterval(Double(minute) * 60)
            let start = SQLiteQuestionStore.pivot(topic: 1, now: now, maxID: 21)
            starts.insert(start)
            let expected = Array((topicByTopic { $0 >= start } + topicByTopic { $0 < start }).prefix(6))
            let found = try await store.candidates(CandidateQuery(topic: "data", minimumLevel: 5, limit: 6), now: now).map(\.handle)
            #expect(found == expected, "minute \(minute), start at employee \(start)")
        }
        // The start moved, so both the topics' order and the wrap were tried from several places.
        #expect(starts.count > 5)
        await database.close()
    }

    /// Someone outside their working hours is read, then left out: they take a place in their slice's limit, and the
    /// places left go to the slices after it. Both stores leave out the same people and go on from the same slice, on
    /// PostgreSQL by calling its scan again where it stopped to let the store judge the hours.
    @Test(arguments: StoreBackend.available)
    func peopleOutsideTheirHoursTakePlacesInTheirSliceAndTheNextSlicesFillTheRest(backend: StoreBackend) async throws {
        let clock = TestClock()
        let database = try await TestDatabase.empty(backend)
        // `lead` (employee 1), then p01…p12 (employees 2…13). At level 5, p01, p03 and p05 work only at weekends, and
        // the test clock stands on a Friday; p02 works every weekday all day; p04 and p06 have no hours. At level 4,
        // p07…p12, with no hours.
        let weekendOnly: Set = ["p01", "p03", "p05"]
        let people = (1...12).map { (id: Int64($0 + 1), handle: String(format: "p%02d", $0), level: $0 <= 6 ? 5 : 4) }
        func hours(_ handle: String) -> String {
            weekendOnly.contains(handle) ? "Sat-Sun 09:00-17:00" : handle == "p02" ? "Mon-Fri 00:00-23:59" : ""
        }
        var employees = "handle,name,email,im_id,manager,timezone,working_hours\nlead,lead,lead@example.org,@lead:x,,,\n"
        employees += people.map { "\($0.handle),\($0.handle),\($0.handle)@example.org,@\($0.handle):x,lead,UTC,\(hours($0.handle))\n" }.joined()
        let skills = "handle,topic,level\n" + people.map { "\($0.handle),infra,\($0.level)\n" }.joined()
        _ = try await database.directoryStore(clock: clock).importDirectory(
            try ImportBatch.parse(files: [.employees: employees, .topics: "slug,name\ninfra,Infrastructure\n", .skills: skills]),
            by: .cliOperator)
        let store = database.questionStore(clock: clock)
        var starts: Set<Int64> = []
        for minute in 0..<30 {
            let now = clock.now().addingTimeInterval(Double(minute) * 60)
            let start = SQLiteQuestionStore.pivot(topic: 1, now: now, maxID: 13)
            starts.insert(start)
            // The slices as the stores take them: each level from the start on, then up to it, each read no further
            // than the places left, and only those within their hours kept.
            var expected: [String] = []
            for level in [5, 4] {
                for range in [{ (id: Int64) in id >= start }, { (id: Int64) in id < start }] {
                    let read = people.filter { $0.level == level && range($0.id) }.prefix(max(0, 4 - expected.count))
                    expected += read.map(\.handle).filter { !weekendOnly.contains($0) }
                }
            }
            let found = try await store.candidates(CandidateQuery(topic: "infra", limit: 4), now: now).map(\.handle)
            #expect(found == expected, "minute \(minute), start at employee \(start)")
        }
        #expect(starts.count > 5)
        await database.close()
    }

    /// SQLite's query plan (SQLite only).
    @Test func theScanReadsSkillsFromTheCoveringIndex() async throws {
        let clock = TestClock()
        let appDatabase = try AppDatabase.inMemory()
        try await Self.importCompany(into: .sqlite(appDatabase), clock: clock)
        let plan = try await appDatabase.writer.read { db in
            // The statement for a subtree of two topics.
            try Row.fetchAll(
                db, sql: "EXPLAIN QUERY PLAN " + SQLiteQuestionStore.candidateSQL(topics: 2),
                arguments: StatementArguments(Array(repeating: 1, count: 18))
            ).map { $0["detail"] as String }
        }
        // The skill rows by index range (the row itself only for `source`), everything else by key.
        #expect(plan.first == "SEARCH skill USING INDEX skillByTopicLevel (topicId=? AND level=? AND employeeId>? AND employeeId<?)", "plan: \(plan)")
        #expect(plan.contains("SEARCH employee USING INTEGER PRIMARY KEY (rowid=?)"), "plan: \(plan)")
        #expect(plan.contains("SEARCH delivery USING COVERING INDEX deliveryBySpecialist (specialistId=? AND deliveredAt>?)"), "plan: \(plan)")
        // The learned statistics by key: one row for the topic, one for this hour of the week, one for every hour.
        #expect(plan.contains { $0.hasPrefix("SEARCH learned USING PRIMARY KEY (employeeId=? AND topicId=?)") }, "plan: \(plan)")
        #expect(
            plan.filter { $0.hasPrefix("SEARCH hour USING PRIMARY KEY") || $0.hasPrefix("SEARCH overall USING PRIMARY KEY") }.count == 2,
            "plan: \(plan)")
        #expect(!plan.contains { ["SCAN skill", "SCAN employee", "SCAN delivery", "SCAN record"].contains(where: $0.hasPrefix) }, "plan: \(plan)")
    }
}

/// Blocking reads (the ask path) beside GRDB's async reads on one file database, many at once: they must never wait
/// for each other's connections (a deadlock seen under load when both shared one reader pool).
@Suite struct BlockingReadTests {
    @Test func blockingAndAsyncReadsTogetherUnderLoadAllFinish() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("skillrelay-blocking-\(UUID().uuidString).sqlite").path
        defer {
            ScratchSQLiteFile.remove(path)
        }
        let store = SQLiteQuestionStore(database: try AppDatabase.open(path: path))
        // The watchdog is a thread of its own: a deadlock takes every cooperative thread, so a task could not fire.
        let finished = Flag()
        Thread {
            Thread.sleep(forTimeInterval: 120)
            if !finished.value.withLock({ $0 }) { fatalError("blocking and async reads deadlocked") }
        }.start()
        try await withThrowingTaskGroup(of: Void.self) { readers in
            for index in 0..<400 {
                readers.addTask {
                    if index.isMultiple(of: 2) {
                        _ = try await store.resolveTopic("nowhere")
                    } else {
                        _ = try await store.dueQuestions(now: Date(), limit: 10)
                    }
                }
            }
            try await readers.waitForAll()
        }
        finished.value.withLock { $0 = true }
    }
}

final class Flag: Sendable {
    let value = Mutex(false)
}
