import GRDB
import SkillRelayDomain
import SkillRelayTestSupport
import Testing

@testable import SkillRelayStore

@Suite struct SpecialistQueryTests {
    @Test func theSpecialistQueryReadsSkillsFromTheCoveringIndexOnly() async throws {
        let store = try await makeSampleStore()
        let plan = try await store.database.writer.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + SQLiteDirectoryStore.specialistsSQL, arguments: [1, 3, 50])
                .map { $0["detail"] as String }
        }
        let skillSteps = plan.filter { $0.contains(" skill ") || $0.hasSuffix(" skill") }
        #expect(!skillSteps.isEmpty, "plan: \(plan)")
        #expect(skillSteps.allSatisfy { $0.contains("USING COVERING INDEX skillByTopicLevel") }, "plan: \(plan)")
        #expect(!plan.contains { $0.hasPrefix("SCAN skill") }, "plan: \(plan)")
    }

    @Test(arguments: StoreBackend.available) func specialistsOfAParentTopicIncludeItsSubtopicsBestFirst(backend: StoreBackend) async throws {
        try await withSample(backend) { (_, store) async throws in
            let kubernetes = try await store.specialists(for: "k8s", minimumLevel: 4, limit: 50)
            let infrastructure = try await store.specialists(for: "infrastructure", minimumLevel: 4, limit: 500)
            #expect(!kubernetes.isEmpty)
            #expect(kubernetes.allSatisfy { $0.level >= 4 })
            #expect(Set(kubernetes.map(\.handle)).isSubset(of: Set(infrastructure.map(\.handle))))
            #expect(infrastructure.map(\.level) == infrastructure.map(\.level).sorted(by: >))
            let capped = try await store.specialists(for: "python", minimumLevel: 1, limit: 5)
            #expect(capped.count == 5)
            await #expect(throws: DirectoryError.topicNotFound("astrology")) {
                try await store.specialists(for: "astrology", minimumLevel: 1, limit: 5)
            }
        }
    }

    @Test(arguments: StoreBackend.available) func inactiveEmployeesAreNoSpecialists(backend: StoreBackend) async throws {
        try await withSample(backend) { (_, store) async throws in
            // o.walsh is inactive in the sample data and tagged with crm at level 5.
            let crm = try await store.specialists(for: "crm", minimumLevel: 1, limit: 50)
            #expect(!crm.isEmpty && !crm.map(\.handle).contains("o.walsh"))
        }
    }

    /// Each person once, at their best level in the subtree; best level first, by handle within a level; cut at the
    /// limit wherever it falls, inside a level or between two. The rule is worked out here from the tags, for every
    /// topic of a three-deep subtree, every minimum level and several limits.
    @Test(arguments: StoreBackend.available) func specialistsAreEachPersonsBestLevelByHandleUpToTheLimit(backend: StoreBackend) async throws {
        let database = try await TestDatabase.empty(backend)
        // `ml` lies below `data`, `nlp` below `ml`. Handles run in a different order from employee ids, a tenth of the
        // people are inactive, and the levels are spread so that people hold different levels in different topics.
        let subtrees = ["data": ["data", "ml", "nlp"], "ml": ["ml", "nlp"], "nlp": ["nlp"]]
        struct Person {
            var handle: String
            var active: Bool
            var levels: [String: Int]
        }
        let people = (0..<60).map { index -> Person in
            let levels = ["data": index % 6, "ml": (index * 7 + 3) % 6, "nlp": (index * 11 + 1) % 6]
            return Person(
                handle: String(format: "p%02d", (index * 37) % 60), active: !index.isMultiple(of: 10), levels: levels.filter { $0.value > 0 })
        }
        var employees = "handle,name,email,im_id,manager,admin,active\nlead,lead,lead@example.org,@lead:localhost,,false,true\n"
        employees += people.map { "\($0.handle),\($0.handle),\($0.handle)@example.org,@\($0.handle):localhost,lead,false,\($0.active)\n" }.joined()
        let skills = "handle,topic,level\n" + people.flatMap { person in person.levels.map { "\(person.handle),\($0.key),\($0.value)\n" } }.joined()
        let store = try database.directoryStore()
        _ = try await store.importDirectory(
            try ImportBatch.parse(files: [
                .employees: employees,
                .topics: "slug,name,parent,aliases,description\ndata,Data,,,\nml,Machine learning,data,,\nnlp,Language,ml,,\n",
                .skills: skills,
            ]), by: .cliOperator)
        for (topic, subtree) in subtrees {
            let best = people.filter(\.active).compactMap { person -> Specialist? in
                subtree.compactMap { person.levels[$0] }.max().map { Specialist(handle: person.handle, level: $0) }
            }
            .sorted { ($0.level, $1.handle) > ($1.level, $0.handle) }
            for minimumLevel in DirectoryValidation.levels {
                for limit in [1, 4, 9, 25, 100] {
                    let expected = best.filter { $0.level >= minimumLevel }.prefix(limit).map { "\($0.handle):\($0.level)" }
                    let found = try await store.specialists(for: topic, minimumLevel: minimumLevel, limit: limit).map { "\($0.handle):\($0.level)" }
                    #expect(found == expected, "\(topic) at level \(minimumLevel) or above, at most \(limit)")
                }
            }
        }
        await database.close()
    }

    @Test(.enabled(if: TestPostgres.serverURL != nil)) func bothStoresFindTheSameSpecialistsInTheSameOrder() async throws {
        let sqlite = try await TestDatabase.sample(.sqlite)
        let postgres = try await TestDatabase.sample(.postgres)
        for topic in ["infrastructure", "k8s", "python", "data", "crm"] {
            for level in [1, 3, 5] {
                let one = try await sqlite.directoryStore().specialists(for: topic, minimumLevel: level, limit: 40)
                let other = try await postgres.directoryStore().specialists(for: topic, minimumLevel: level, limit: 40)
                #expect(one == other, "\(topic) \(level)")
            }
        }
        await postgres.close()
    }
}
