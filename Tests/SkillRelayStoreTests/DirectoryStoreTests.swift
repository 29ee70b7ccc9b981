import Foundation
import GRDB
import SkillRelayDomain
import SkillRelayTestSupport
import Testing

@testable import SkillRelayStore

@Suite struct DirectoryStoreTests {
    // MARK: - Topics

    @Test func fullTextSearchFindsTopicsByPrefixAliasAndDescription() async throws {
        let store = try await makeSampleStore()
        #expect(try await store.topics(matching: "kube", limit: 10, offset: 0).topics.first?.slug == "kubernetes")
        #expect(try await store.topics(matching: "k8s", limit: 10, offset: 0).topics.map(\.slug) == ["kubernetes"])
        #expect(try await store.topics(matching: "helm operators", limit: 10, offset: 0).topics.map(\.slug) == ["kubernetes"])
        #expect(try await store.topics(matching: "\"; DROP TABLE topic; --", limit: 10, offset: 0).total == 0)
        #expect(try await store.topics(matching: "***", limit: 10, offset: 0).total == 0)
    }

    @Test func theSearchIndexFollowsAliasesAndRenames() async throws {
        let store = try await makeSampleStore()
        _ = try await store.addAlias("kates", to: "kubernetes", by: .cliOperator)
        #expect(try await store.topics(matching: "kates", limit: 10, offset: 0).topics.map(\.slug) == ["kubernetes"])
        _ = try await store.removeAlias("kates", from: "kubernetes", by: .cliOperator)
        #expect(try await store.topics(matching: "kates", limit: 10, offset: 0).total == 0)
        _ = try await store.updateTopic("kubernetes", with: TopicPatch(name: "Kubernetes and OpenShift"), by: .cliOperator)
        #expect(try await store.topics(matching: "openshift", limit: 10, offset: 0).topics.map(\.slug) == ["kubernetes"])
    }

    @Test func listingPagesInSlugOrder() async throws {
        let store = try await makeSampleStore()
        let first = try await store.topics(matching: nil, limit: 10, offset: 0)
        let second = try await store.topics(matching: nil, limit: 10, offset: 10)
        #expect(first.topics.count == 10 && second.topics.count == 10)
        let slugs = (first.topics + second.topics).map(\.slug)
        #expect(slugs == slugs.sorted())
        #expect(first.total == second.total && first.total >= 55)
    }

    @Test func topicCyclesAndTakenAliasesAreRefused() async throws {
        let store = try await makeSampleStore()
        await #expect(throws: DirectoryError.topicCycle("infrastructure")) {
            try await store.updateTopic("infrastructure", with: TopicPatch(parentSlug: "kubernetes"), by: .cliOperator)
        }
        await #expect(throws: DirectoryError.aliasTaken("py")) { try await store.addAlias("py", to: "kubernetes", by: .cliOperator) }
        await #expect(throws: DirectoryError.aliasTaken("python")) { try await store.addAlias("python", to: "kubernetes", by: .cliOperator) }
        await #expect(throws: DirectoryError.slugTaken("k8s")) {
            try await store.createTopic(Topic(slug: "k8s", name: "K8s"), by: .cliOperator)
        }
    }

    // MARK: - Employees and skills

    @Test func managerCyclesAreRefused() async throws {
        let store = try await makeSampleStore()
        // lin.chen manages ji-woo.kang: making lin.chen report to ji-woo.kang would close a loop.
        await #expect(throws: DirectoryError.managerCycle("lin.chen")) {
            try await store.updateEmployee("lin.chen", with: EmployeePatch(managerHandle: "ji-woo.kang"), by: .cliOperator)
        }
        await #expect(throws: DirectoryError.managerCycle("lena.weber")) {
            try await store.updateEmployee("lena.weber", with: EmployeePatch(managerHandle: "ji-woo.kang"), by: .cliOperator)
        }
    }

    @Test func theLastActiveAdminStays() async throws {
        let store = SQLiteDirectoryStore(database: try AppDatabase.inMemory(), clock: TestClock())
        _ = try await store.createEmployee(Employee(handle: "root", name: "Root", email: "root@example.org", isAdmin: true), by: .cliOperator)
        await #expect(throws: DirectoryError.lastAdmin("root")) {
            try await store.updateEmployee("root", with: EmployeePatch(isActive: false), by: .cliOperator)
        }
    }

    @Test func everySkillChangeIsAudited() async throws {
        let clock = TestClock()
        let store = try await makeSampleStore(clock: clock)
        let manager = Caller(identity: .employee("lin.chen"), isManager: true)
        _ = try await store.setSkill(of: "ji-woo.kang", topic: "terraform", level: 2, by: manager)
        clock.advance(by: 60)
        _ = try await store.setSkill(of: "ji-woo.kang", topic: "tf", level: 4, by: manager)
        try await store.removeSkill(of: "ji-woo.kang", topic: "terraform", by: manager)
        let entries = try await store.database.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT actor, entityKey, action, before, after FROM auditEntry WHERE entity = 'skill' ORDER BY id")
        }
        #expect(entries.map { $0["action"] as String } == ["create", "update", "delete"])
        #expect(entries.allSatisfy { ($0["actor"] as String) == "employee:lin.chen" && ($0["entityKey"] as String) == "ji-woo.kang/terraform" })
        #expect(entries[1]["before"] as String? == #"{"level":"2","source":"manager"}"#)
        #expect(entries[1]["after"] as String? == #"{"level":"4","source":"manager"}"#)
        #expect(entries[2]["after"] as String? == nil)
    }

    // MARK: - Tokens

    @Test func tokensAreStoredOnlyAsHashesAndStopWorkingWhenRevoked() async throws {
        let store = try await makeSampleStore()
        let issued = try await store.createToken(for: .employee("lin.chen"), by: .cliOperator)
        #expect(issued.secret.hasPrefix("sr_") && issued.secret.count == 46)
        let stored = try await store.database.writer.read { db in try Row.fetchAll(db, sql: "SELECT * FROM apiToken") }
        for row in stored {
            for column in row.columnNames {
                let value = row[column] as DatabaseValue
                #expect(!"\(value)".contains(issued.secret.dropFirst(3)))
            }
        }
        let caller = try #require(try await store.authenticate(secret: issued.secret))
        #expect(caller == Caller(identity: .employee("lin.chen"), isAdmin: false, isManager: true))
        #expect(try await store.authenticate(secret: issued.secret + "x") == nil)
        _ = try await store.revokeToken(issued.token.id, by: .cliOperator)
        #expect(try await store.authenticate(secret: issued.secret) == nil)
    }

    @Test func aDeactivatedEmployeesTokenNoLongerAuthenticates() async throws {
        let store = try await makeSampleStore()
        let issued = try await store.createToken(for: .employee("ji-woo.kang"), by: .cliOperator)
        #expect(try await store.authenticate(secret: issued.secret) != nil)
        _ = try await store.updateEmployee("ji-woo.kang", with: EmployeePatch(isActive: false), by: .cliOperator)
        #expect(try await store.authenticate(secret: issued.secret) == nil)
    }

    @Test func lastUsedIsRecordedAtMostOnceAMinute() async throws {
        let clock = TestClock()
        let store = try await makeSampleStore(clock: clock)
        let issued = try await store.createToken(for: .bot("ci-bot"), by: .cliOperator)
        #expect(try await store.authenticate(secret: issued.secret) == Caller(identity: .bot("ci-bot")))
        let firstUse = try await store.tokens(by: .cliOperator, page: PageRequest()).items.first?.lastUsedAt
        clock.advance(by: 30)
        _ = try await store.authenticate(secret: issued.secret)
        #expect(try await store.tokens(by: .cliOperator, page: PageRequest()).items.first?.lastUsedAt == firstUse)
        clock.advance(by: 31)
        _ = try await store.authenticate(secret: issued.secret)
        #expect(try await store.tokens(by: .cliOperator, page: PageRequest()).items.first?.lastUsedAt == clock.now())
    }
}
