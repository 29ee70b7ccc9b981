import GRDB
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

    @Test func specialistsOfAParentTopicIncludeItsSubtopicsBestFirst() async throws {
        let store = try await makeSampleStore()
        let kubernetes = try await store.specialists(for: "k8s", minimumLevel: 4, limit: 50)
        let infrastructure = try await store.specialists(for: "infrastructure", minimumLevel: 4, limit: 500)
        #expect(!kubernetes.isEmpty)
        #expect(kubernetes.allSatisfy { $0.level >= 4 })
        #expect(Set(kubernetes.map(\.handle)).isSubset(of: Set(infrastructure.map(\.handle))))
        #expect(infrastructure.map(\.level) == infrastructure.map(\.level).sorted(by: >))
        let capped = try await store.specialists(for: "python", minimumLevel: 1, limit: 5)
        #expect(capped.count == 5)
    }

    @Test func inactiveEmployeesAreNoSpecialists() async throws {
        let store = try await makeSampleStore()
        // o.walsh is inactive in the sample data and tagged with crm at level 5.
        let crm = try await store.specialists(for: "crm", minimumLevel: 1, limit: 50)
        #expect(!crm.map(\.handle).contains("o.walsh"))
    }
}
