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
