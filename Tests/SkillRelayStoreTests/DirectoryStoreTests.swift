import Foundation
import SkillRelayDomain
import SkillRelaySecrets
import SkillRelayTestSupport
import Testing

@testable import SkillRelayPostgres
@testable import SkillRelayStore

@Suite struct DirectoryStoreTests {
    // MARK: - Topics

    @Test(arguments: StoreBackend.available) func fullTextSearchFindsTopicsByPrefixAliasAndDescription(backend: StoreBackend) async throws {
        try await withSample(backend) { (database, store) async throws in
            #expect(try await store.topics(matching: "kube", limit: 10, offset: 0).topics.first?.slug == "kubernetes")
            #expect(try await store.topics(matching: "k8s", limit: 10, offset: 0).topics.map(\.slug) == ["kubernetes"])
            #expect(try await store.topics(matching: "helm operators", limit: 10, offset: 0).topics.map(\.slug) == ["kubernetes"])
            #expect(try await store.topics(matching: "\"; DROP TABLE topic; --", limit: 10, offset: 0).total == 0)
            #expect(try await store.topics(matching: "***", limit: 10, offset: 0).total == 0)
        }
    }

    /// The same topics in the same order from both stores' full-text search: PostgreSQL's words and BM25 are FTS5's.
    @Test(.enabled(if: TestPostgres.serverURL != nil)) func bothStoresFindAndRankTopicsAlike() async throws {
        let sqlite = try await TestDatabase.sample(.sqlite)
        let postgres = try await TestDatabase.sample(.postgres)
        let queries = [
            "kube", "k8s", "data", "python", "sql", "helm operators", "postgres replication", "machine learning models", "the", "a", "e",
            "security", "cloud", "api design", "Ärzte", "node.js", "c++", "ci cd pipelines", "dbt", "2",
        ]
        for query in queries {
            let one = try await sqlite.directoryStore().topics(matching: query, limit: 50, offset: 0)
            let other = try await postgres.directoryStore().topics(matching: query, limit: 50, offset: 0)
            #expect(one.total == other.total, "\(query)")
            #expect(one.topics.map(\.slug) == other.topics.map(\.slug), "\(query)")
            // A page in the middle and a page past the last say how many there are in all, as the first does.
            for offset in [2, 500] {
                let page = try await postgres.directoryStore().topics(matching: query, limit: 3, offset: offset)
                #expect(page.total == one.total, "\(query) from \(offset)")
                #expect(page.topics.map(\.slug) == Array(one.topics.dropFirst(offset).prefix(3).map(\.slug)), "\(query) from \(offset)")
            }
        }
        await postgres.close()
    }

    /// A question's text finds the same topics with the same BM25 scores on both stores, so `TopicResolution` picks,
    /// or refuses to guess, alike.
    @Test(.enabled(if: TestPostgres.serverURL != nil)) func aQuestionsWordsScoreTopicsAlikeOnBothStores() async throws {
        let sqlite = try await TestDatabase.sample(.sqlite)
        let postgres = try await TestDatabase.sample(.postgres)
        guard case .sqlite(let sqliteDatabase) = sqlite, case .postgres(let postgresDatabase) = postgres else { return }
        let questions = SQLiteQuestionStore(database: sqliteDatabase, clock: TestClock())
        let texts = [
            "How do I roll back a helm release on our kubernetes cluster?", "Which postgres replication setup do we use?",
            "Is there a style guide for python type hints?", "Who knows about data warehousing and dbt models?", "machine learning",
            "security", "ok",
        ]
        // A topic's size in words follows its aliases and description on PostgreSQL, as FTS5's does.
        for store in [try await sqlite.directoryStore(), try await postgres.directoryStore()] {
            _ = try await store.addAlias("helm-charts", to: "kubernetes", by: .cliOperator)
            _ = try await store.updateTopic(
                "postgresql", with: TopicPatch(description: "Replication, backups, vacuum and the planner"), by: .cliOperator)
        }
        for text in texts {
            let expected = try await questions.topicMatches(forText: text).hits
            #expect(expected.isEmpty == (text == "ok"), "\(text)")
            let words = SQLiteQuestionStore.words(of: text)
            let found = try await postgresDatabase.reading { db in try await PostgresDirectoryStore.topicHits(db, words: words) }
            #expect(found.map(\.topic) == expected.map(\.topic), "\(text)")
            #expect(zip(found, expected).allSatisfy { abs($0.score - $1.score) < 1e-9 }, "\(text): \(found) \(expected)")
        }
        await postgres.close()
    }

    @Test(arguments: StoreBackend.available) func theSearchIndexFollowsAliasesAndRenames(backend: StoreBackend) async throws {
        try await withSample(backend) { (database, store) async throws in
            _ = try await store.addAlias("kates", to: "kubernetes", by: .cliOperator)
            #expect(try await store.topics(matching: "kates", limit: 10, offset: 0).topics.map(\.slug) == ["kubernetes"])
            _ = try await store.removeAlias("kates", from: "kubernetes", by: .cliOperator)
            #expect(try await store.topics(matching: "kates", limit: 10, offset: 0).total == 0)
            _ = try await store.updateTopic("kubernetes", with: TopicPatch(name: "Kubernetes and OpenShift"), by: .cliOperator)
            #expect(try await store.topics(matching: "openshift", limit: 10, offset: 0).topics.map(\.slug) == ["kubernetes"])
        }
    }

    @Test(arguments: StoreBackend.available) func listingPagesInSlugOrder(backend: StoreBackend) async throws {
        try await withSample(backend) { (database, store) async throws in
            let first = try await store.topics(matching: nil, limit: 10, offset: 0)
            let second = try await store.topics(matching: nil, limit: 10, offset: 10)
            #expect(first.topics.count == 10 && second.topics.count == 10)
            let slugs = (first.topics + second.topics).map(\.slug)
            #expect(slugs == slugs.sorted())
            #expect(first.total == second.total && first.total >= 55)
        }
    }

    @Test(arguments: StoreBackend.available) func topicCyclesAndTakenAliasesAreRefused(backend: StoreBackend) async throws {
        try await withSample(backend) { (database, store) async throws in
            await #expect(throws: DirectoryError.topicCycle("infrastructure")) {
                try await store.updateTopic("infrastructure", with: TopicPatch(parentSlug: "kubernetes"), by: .cliOperator)
            }
            await #expect(throws: DirectoryError.aliasTaken("py")) { try await store.addAlias("py", to: "kubernetes", by: .cliOperator) }
            await #expect(throws: DirectoryError.aliasTaken("python")) { try await store.addAlias("python", to: "kubernetes", by: .cliOperator) }
            await #expect(throws: DirectoryError.slugTaken("k8s")) {
                try await store.createTopic(Topic(slug: "k8s", name: "K8s"), by: .cliOperator)
            }
        }
    }

    // MARK: - Employees and skills

    @Test(arguments: StoreBackend.available) func managerCyclesAreRefused(backend: StoreBackend) async throws {
        try await withSample(backend) { (database, store) async throws in
            // lin.chen manages ji-woo.kang: making lin.chen report to ji-woo.kang would close a loop.
            await #expect(throws: DirectoryError.managerCycle("lin.chen")) {
                try await store.updateEmployee("lin.chen", with: EmployeePatch(managerHandle: "ji-woo.kang"), by: .cliOperator)
            }
            await #expect(throws: DirectoryError.managerCycle("lena.weber")) {
                try await store.updateEmployee("lena.weber", with: EmployeePatch(managerHandle: "ji-woo.kang"), by: .cliOperator)
            }
        }
    }

    @Test(arguments: StoreBackend.available) func theLastActiveAdminStays(backend: StoreBackend) async throws {
        try await withEmpty(backend) { (database, store) async throws in
            _ = try await store.createEmployee(Employee(handle: "root", name: "Root", email: "root@example.org", isAdmin: true), by: .cliOperator)
            await #expect(throws: DirectoryError.lastAdmin("root")) {
                try await store.updateEmployee("root", with: EmployeePatch(isActive: false), by: .cliOperator)
            }
        }
    }

    @Test(arguments: StoreBackend.available) func everySkillChangeIsAudited(backend: StoreBackend) async throws {
        let clock = TestClock()
        try await withSample(backend, clock: clock) { (database, store) async throws in
            let manager = Caller(identity: .employee("lin.chen"), isManager: true)
            _ = try await store.setSkill(of: "ji-woo.kang", topic: "terraform", level: 2, by: manager)
            clock.advance(by: 60)
            _ = try await store.setSkill(of: "ji-woo.kang", topic: "tf", level: 4, by: manager)
            try await store.removeSkill(of: "ji-woo.kang", topic: "terraform", by: manager)
            let entries = try await database.rows("SELECT actor, entityKey, action, before, after FROM auditEntry WHERE entity = 'skill' ORDER BY id")
            #expect(entries.map { $0[2] } == ["create", "update", "delete"])
            #expect(entries.allSatisfy { $0[0] == "employee:lin.chen" && $0[1] == "ji-woo.kang/terraform" })
            #expect(entries[1][3] == #"{"level":"2","source":"manager"}"#)
            #expect(entries[1][4] == #"{"level":"4","source":"manager"}"#)
            #expect(entries[2][4] == nil)
        }
    }

    // MARK: - Tokens

    @Test(arguments: StoreBackend.available) func tokensAreStoredOnlyAsHashesAndStopWorkingWhenRevoked(backend: StoreBackend) async throws {
        try await withSample(backend) { (database, store) async throws in
            let issued = try await store.createToken(for: .employee("lin.chen"), by: .cliOperator)
            #expect(issued.secret.hasPrefix("sr_") && issued.secret.count == 46)
            // Every column as text (the hash in hex): the secret is nowhere.
            let hex = database.backend == .sqlite ? "lower(hex(secretHash))" : "encode(secretHash, 'hex')"
            let stored = try await database.rows(
                "SELECT id, publicId, \(hex), employeeId, botName, CAST(createdAt AS TEXT), CAST(revokedAt AS TEXT) FROM apiToken")
            #expect(stored.count == 1)
            for row in stored {
                for value in row { #expect(!(value ?? "").contains(issued.secret.dropFirst(3))) }
            }
            #expect(stored.first?[2] == TokenSecret.hash(issued.secret).map { String(format: "%02x", $0) }.joined())
            let caller = try #require(try await store.authenticate(secret: issued.secret))
            #expect(caller == Caller(identity: .employee("lin.chen"), isAdmin: false, isManager: true))
            #expect(try await store.authenticate(secret: issued.secret + "x") == nil)
            _ = try await store.revokeToken(issued.token.id, by: .cliOperator)
            #expect(try await store.authenticate(secret: issued.secret) == nil)
        }
    }

    @Test(arguments: StoreBackend.available) func aDeactivatedEmployeesTokenNoLongerAuthenticates(backend: StoreBackend) async throws {
        try await withSample(backend) { (database, store) async throws in
            let issued = try await store.createToken(for: .employee("ji-woo.kang"), by: .cliOperator)
            #expect(try await store.authenticate(secret: issued.secret) != nil)
            _ = try await store.updateEmployee("ji-woo.kang", with: EmployeePatch(isActive: false), by: .cliOperator)
            #expect(try await store.authenticate(secret: issued.secret) == nil)
        }
    }

    @Test(arguments: StoreBackend.available) func lastUsedIsRecordedAtMostOnceAMinute(backend: StoreBackend) async throws {
        let clock = TestClock()
        try await withSample(backend, clock: clock) { (database, store) async throws in
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
}
