import SkillRelayDomain
import SkillRelayTestSupport
import Testing

@testable import SkillRelayStore

@Suite struct ImportTests {
    @Test(arguments: StoreBackend.available) func theSampleCompanyImports(backend: StoreBackend) async throws {
        try await withSample(backend) { (database, store) async throws in
            let employees = try await database.count("SELECT count(*) FROM employee")
            let topics = try await database.count("SELECT count(*) FROM topic")
            let skills = try await database.count("SELECT count(*) FROM skill")
            let aliases = try await database.count("SELECT count(*) FROM topicAlias")
            #expect(employees >= 140 && topics >= 55 && skills >= 550 && aliases > 20)
            let kubernetes = try await store.topic("kube")
            #expect(kubernetes.topic.slug == "kubernetes")
            #expect(kubernetes.parent?.slug == "infrastructure")
            let audit = try await database.rows("SELECT actor, entity, entityKey, action, after FROM auditEntry")
            #expect(
                audit == [["cli", "directory", "import", "import", #"{"employees":"\#(employees)","skills":"\#(skills)","topics":"\#(topics)"}"#]])
        }
    }

    // The planner knows what an import loaded as soon as it commits: a table never analyzed has no row count
    // (`reltuples` -1) and no column statistics, and autovacuum may take minutes to come round.
    @Test(.enabled(if: TestPostgres.serverURL != nil)) func anImportOnPostgreSQLLeavesThePlannerItsStatistics() async throws {
        try await withSample(.postgres) { (database, _) async throws in
            for table in ["employee", "topic", "topicalias", "skill"] {
                let counted = try await database.count("SELECT count(*) FROM \(table)")
                let known = try await database.count("SELECT reltuples::bigint FROM pg_class WHERE relname = '\(table)'")
                #expect(known == counted, "\(table)")
                let columns = try await database.count("SELECT count(*) FROM pg_stats WHERE tablename = '\(table)'")
                #expect(columns > 0, "\(table)")
            }
        }
    }

    @Test(arguments: StoreBackend.available) func reimportingUpsertsInsteadOfDuplicating(backend: StoreBackend) async throws {
        try await withEmpty(backend) { (_, store) async throws in
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
            #expect(bob.employee.managerHandle == "ada")
            #expect(bob.skills.map(\.level) == [5])
            #expect(bob.skills.first?.source == .imported)
            #expect(try await store.topic("kubernetes").topic.aliases == ["kube"])
            await #expect(throws: DirectoryError.topicNotFound("k8s")) { try await store.topic("k8s") }
        }
    }

    @Test(arguments: StoreBackend.available) func aBadImportListsEveryProblemAndChangesNothing(backend: StoreBackend) async throws {
        try await withSample(backend) { (database, store) async throws in
            let before = try await snapshot(database)
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
            #expect(try await snapshot(database) == before)
        }
    }

    @Test(arguments: StoreBackend.available) func anIMIDAlreadyTakenIsAProblemOfItsLine(backend: StoreBackend) async throws {
        try await withEmpty(backend) { (database, store) async throws in
            _ = try await store.importDirectory(
                try batch([.employees: "handle,name,email,im_id\nada,Ada,ada@example.org,@ada:example.org\n"]), by: .cliOperator)
            let failure = await #expect(throws: ImportFailure.self) {
                try await store.importDirectory(
                    try batch([.employees: "handle,name,email,im_id\nbob,Bob,bob@example.org,@ada:example.org\n"]), by: .cliOperator)
            }
            #expect(try #require(failure).problems.map(\.description) == ["employees.csv:2: IM id '@ada:example.org' already belongs to 'ada'"])
            #expect(try await database.texts("SELECT handle FROM employee") == ["ada"])
        }
    }

    @Test(arguments: StoreBackend.available) func anAliasThatIsAnotherTopicsSlugIsRefused(backend: StoreBackend) async throws {
        try await withSample(backend) { (_, store) async throws in
            let failure = await #expect(throws: ImportFailure.self) {
                try await store.importDirectory(try batch([.topics: "slug,name,aliases\nhelm,Helm,kubernetes\n"]), by: .cliOperator)
            }
            #expect(try #require(failure).problems.map(\.description) == ["topics.csv:2: alias 'kubernetes' is already the slug of a topic"])
        }
    }

    /// Everything an import could touch, to compare before and after.
    private func snapshot(_ database: TestDatabase) async throws -> [String] {
        try await database.texts(
            """
            SELECT 'e ' || handle || ' ' || name || ' ' || coalesce(CAST(managerId AS TEXT), '') FROM employee
            UNION ALL SELECT 't ' || slug || ' ' || coalesce(CAST(parentId AS TEXT), '') FROM topic
            UNION ALL SELECT 'a ' || alias || ' ' || CAST(topicId AS TEXT) FROM topicAlias
            UNION ALL SELECT 's ' || CAST(employeeId AS TEXT) || ' ' || CAST(topicId AS TEXT) || ' ' || CAST(level AS TEXT) FROM skill
            ORDER BY 1
            """)
    }
}
