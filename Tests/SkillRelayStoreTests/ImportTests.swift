import GRDB
import SkillRelayDomain
import SkillRelayTestSupport
import Testing

@testable import SkillRelayStore

@Suite struct ImportTests {
    @Test func theSampleCompanyImports() async throws {
        let store = try await makeSampleStore()
        let counts = try await store.database.writer.read { db in
            (
                try Int.fetchOne(db, sql: "SELECT count(*) FROM employee")!, try Int.fetchOne(db, sql: "SELECT count(*) FROM topic")!,
                try Int.fetchOne(db, sql: "SELECT count(*) FROM skill")!, try Int.fetchOne(db, sql: "SELECT count(*) FROM topicAlias")!
            )
        }
        #expect(counts.0 >= 140 && counts.1 >= 55 && counts.2 >= 550 && counts.3 > 20)
        let kubernetes = try await store.topic("kube")
        #expect(kubernetes.topic.slug == "kubernetes")
        #expect(kubernetes.parent?.slug == "infrastructure")
    }

    @Test func reimportingUpsertsInsteadOfDuplicating() async throws {
        let store = SQLiteDirectoryStore(database: try AppDatabase.inMemory(), clock: TestClock())
        let first = try batch([
            .employees: "handle,name,email,manager\nada,Ada,ada@example.org,\nbob,Bob,bob@example.org,ada\n",
            .topics: "slug,name,parent,aliases\ninfra,Infrastructure,,\nkubernetes,Kubernetes,infra,k8s\n",
            .skills: "handle,topic,level\nbob,k8s,3\n",
        ])
        _ = try await store.importDirectory(first, by: .cliOperator)
        let second = try batch([
            .employees: "handle,name,email,manager\nbob,Robert,bob@example.org,ada\n",
            .topics: "slug,name,parent,aliases\nkubernetes,Kubernetes,infra,kube\n",
            .skills: "handle,topic,level\nbob,kubernetes,5\n",
        ])
        _ = try await store.importDirectory(second, by: .cliOperator)
        let bob = try await store.employee("bob", by: .cliOperator)
        #expect(bob.employee.name == "Robert")
        #expect(bob.skills.map(\.level) == [5])
        #expect(bob.skills.first?.source == .imported)
        #expect(try await store.topic("kubernetes").topic.aliases == ["kube"])
        await #expect(throws: DirectoryError.topicNotFound("k8s")) { try await store.topic("k8s") }
    }

    @Test func aBadImportListsEveryProblemAndChangesNothing() async throws {
        let store = try await makeSampleStore()
        let before = try await snapshot(store)
        let bad = try batch([
            .employees: """
            handle,name,email,manager
            new.hire,New Hire,new.hire@example.org,nobody.here
            lena.weber,Lena Weber,lena.weber@northwind.example,new.person
            new.person,New Person,new.person@example.org,lena.weber
            """,
            .topics: """
            slug,name,parent,aliases
            quantum,Quantum,physics,
            kubernetes,Kubernetes,infrastructure,k8s;kube;py
            """,
            .skills: """
            handle,topic,level
            ghost,python,3
            lin.chen,astrology,2
            lin.chen,k8s,3
            lin.chen,kubernetes,4
            """,
        ])
        let failure = await #expect(throws: ImportFailure.self) { try await store.importDirectory(bad, by: .cliOperator) }
        let problems = try #require(failure).problems.map(\.description)
        #expect(problems.contains("employees.csv:2: unknown manager 'nobody.here'"))
        #expect(problems.contains { $0.hasPrefix("employees.csv:3: 'lena.weber' would be above themselves") })
        #expect(problems.contains { $0.hasPrefix("employees.csv:4: 'new.person' would be above themselves") })
        #expect(problems.contains("topics.csv:2: unknown parent topic 'physics'"))
        #expect(problems.contains { $0.hasPrefix("topics.csv:3: alias 'py' is already an alias of") })
        #expect(problems.contains("skills.csv:2: unknown employee 'ghost'"))
        #expect(problems.contains("skills.csv:3: unknown topic 'astrology'"))
        #expect(problems.contains("skills.csv:5: 'lin.chen' is tagged with 'kubernetes' twice (first on line 4)"))
        #expect(problems.count == 8)
        #expect(try await snapshot(store) == before)
    }

    @Test func anAliasThatIsAnotherTopicsSlugIsRefused() async throws {
        let store = try await makeSampleStore()
        let failure = await #expect(throws: ImportFailure.self) {
            try await store.importDirectory(try batch([.topics: "slug,name,aliases\nhelm,Helm,kubernetes\n"]), by: .cliOperator)
        }
        #expect(try #require(failure).problems.map(\.description) == ["topics.csv:2: alias 'kubernetes' is already the slug of a topic"])
    }

    /// Everything an import could touch, to compare before and after.
    private func snapshot(_ store: SQLiteDirectoryStore) async throws -> [String] {
        try await store.database.writer.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT 'e ' || handle || ' ' || name || ' ' || ifnull(managerId, '') FROM employee
                    UNION ALL SELECT 't ' || slug || ' ' || ifnull(parentId, '') FROM topic
                    UNION ALL SELECT 'a ' || alias || ' ' || topicId FROM topicAlias
                    UNION ALL SELECT 's ' || employeeId || ' ' || topicId || ' ' || level FROM skill
                    ORDER BY 1
                    """)
        }
    }
}
