import Foundation
import SkillRelayDomain
import SkillRelayTestSupport
import Testing

/// The directory's side of suggested skills, on both stores: which open suggestions a manager sees, and what accepting
/// or dismissing one does. The suggestions are written here as rows, as the question store leaves them (its own
/// tests, SuggestionStoreTests, cover how they arise).
@Suite struct SuggestionDecisionTests {
    /// `boss` > `m` > (`sub`, `tagged`); `boss` > `x` > `xr`. Topics `infra` > `kubernetes`; `sub` has kubernetes 4,
    /// `tagged` infra 3. Open: `sg_sub` (suggest infra for sub, evidence 2), then `sg_tagged` (tagged's infra looks
    /// stale), then `sg_xr` (suggest kubernetes for xr).
    static func withCompany(_ backend: StoreBackend, _ body: (TestDatabase, any DirectoryStores) async throws -> Void) async throws {
        try await withEmpty(backend) { (database, store) async throws in
            let people = [("boss", ""), ("m", "boss"), ("x", "boss"), ("sub", "m"), ("tagged", "m"), ("xr", "x")]
            _ = try await store.importDirectory(
                try ImportBatch.parse(files: [
                    .employees: "handle,name,email,manager\n" + people.map { "\($0.0),\($0.0.capitalized),\($0.0)@example.org,\($0.1)\n" }.joined(),
                    .topics: "slug,name,parent,aliases\ninfra,Infrastructure,,\nkubernetes,Kubernetes,infra,k8s\n",
                    .skills: "handle,topic,level\nsub,kubernetes,4\ntagged,infra,3\n",
                ]), by: .cliOperator)
            for (id, handle, topic, kind) in [
                ("sg_sub", "sub", "infra", "suggested"), ("sg_tagged", "tagged", "infra", "stale"), ("sg_xr", "xr", "kubernetes", "suggested"),
            ] {
                try await database.execute(
                    """
                    INSERT INTO skillSuggestion (publicId, employeeId, topicId, kind, status, evidence, deliveries, createdAt, updatedAt)
                    SELECT '\(id)', employee.id, topic.id, '\(kind)', 'open', 2, 3, employee.createdAt, employee.createdAt
                    FROM employee, topic WHERE employee.handle = '\(handle)' AND topic.slug = '\(topic)'
                    """)
            }
            try await body(database, store)
        }
    }

    static func manager(_ handle: String) -> Caller { Caller(identity: .employee(handle), isManager: true) }

    @Test(arguments: StoreBackend.available) func aManagerSeesTheOpenSuggestionsBelowThemNewestFirst(backend: StoreBackend) async throws {
        try await Self.withCompany(backend) { (_, store) async throws in
            func open(_ caller: Caller, below handle: String? = nil) async throws -> [String] {
                try await store.suggestions(below: handle, by: caller, page: PageRequest()).items.map(\.id)
            }
            #expect(try await open(Self.manager("m")) == ["sg_tagged", "sg_sub"])
            #expect(try await open(Self.manager("x")) == ["sg_xr"])
            #expect(try await open(Self.manager("boss")) == ["sg_xr", "sg_tagged", "sg_sub"])
            #expect(try await open(.cliOperator) == ["sg_xr", "sg_tagged", "sg_sub"])
            #expect(try await open(Self.manager("boss"), below: "x") == ["sg_xr"])
            let suggestion = try #require(try await store.suggestions(below: nil, by: Self.manager("m"), page: PageRequest()).items.last)
            #expect(suggestion.kind == .suggested && suggestion.handle == "sub" && suggestion.name == "Sub" && suggestion.topic.slug == "infra")
            #expect(suggestion.evidence == 2 && suggestion.deliveries == 3 && suggestion.currentLevel == nil)
            // Pages by key; a cursor naming no suggestion is refused.
            let first = try await store.suggestions(below: nil, by: Self.manager("boss"), page: PageRequest(limit: 2))
            #expect(first.items.map(\.id) == ["sg_xr", "sg_tagged"])
            let second = try await store.suggestions(below: nil, by: Self.manager("boss"), page: PageRequest(limit: 2, after: first.next))
            #expect(second.items.map(\.id) == ["sg_sub"] && second.next == nil)
            await #expect(throws: InvalidCursor.self) {
                try await store.suggestions(
                    below: nil, by: Self.manager("m"), page: PageRequest(after: PageCursor(list: .suggestions, keys: ["sg_no"])))
            }
            // Not below the caller: not found, as someone who does not exist; not a manager: refused.
            await #expect(throws: DirectoryError.employeeNotFound("x")) { try await open(Self.manager("m"), below: "x") }
            await #expect(throws: DirectoryError.employeeNotFound("nobody")) { try await open(Self.manager("m"), below: "nobody") }
            await #expect(throws: DirectoryError.self) { try await open(Caller(identity: .employee("sub"))) }
            // A suggestion that no longer applies is not listed: the topic tagged since, or the stale tag gone.
            _ = try await store.setSkill(of: "sub", topic: "infra", level: 2, by: Self.manager("m"))
            try await store.removeSkill(of: "tagged", topic: "infra", by: Self.manager("m"))
            #expect(try await open(Self.manager("m")).isEmpty)
        }
    }

    @Test(arguments: StoreBackend.available) func acceptingTagsThroughTheTaggingPathOnceAndIsAudited(backend: StoreBackend) async throws {
        try await Self.withCompany(backend) { (database, store) async throws in
            let m = Self.manager("m")
            await #expect(throws: DirectoryError.suggestionNotFound("sg_sub")) {
                try await store.decide(suggestion: "sg_sub", .accept(level: 4), by: Self.manager("x"))
            }
            await #expect(throws: DirectoryError.suggestionNotFound("sg_nope")) { try await store.decide(suggestion: "sg_nope", .dismiss, by: m) }
            await #expect(throws: DirectoryError.self) { try await store.decide(suggestion: "sg_sub", .accept(level: nil), by: m) }
            await #expect(throws: DirectoryError.self) { try await store.decide(suggestion: "sg_sub", .accept(level: 9), by: m) }
            let decided = try await store.decide(suggestion: "sg_sub", .accept(level: 4), by: m)
            #expect(decided.status == .accepted && decided.currentLevel == 4)
            let skill = try #require(try await store.employee("sub", by: .cliOperator).skills.first { $0.topic.slug == "infra" })
            #expect(skill.level == 4 && skill.source == .manager && skill.taggedBy == "m")
            await #expect(throws: DirectoryError.suggestionDecided("sg_sub")) { try await store.decide(suggestion: "sg_sub", .dismiss, by: m) }
            let audit = try await database.rows(
                "SELECT entity, entityKey, action, actor, after FROM auditEntry WHERE entity <> 'directory' ORDER BY id")
            #expect(
                audit == [
                    ["skill", "sub/infra", "create", "employee:m", #"{"level":"4","source":"manager"}"#],
                    ["suggestion", "sub/infra", "accept", "employee:m", #"{"kind":"suggested","level":"4","status":"accepted"}"#],
                ])
            #expect(try await database.texts("SELECT decidedBy FROM skillSuggestion WHERE publicId = 'sg_sub'") == ["employee:m"])
        }
    }

    @Test(arguments: StoreBackend.available) func acceptingAStaleFlagRemovesTheTagAndDismissingKeepsIt(backend: StoreBackend) async throws {
        try await Self.withCompany(backend) { (database, store) async throws in
            await #expect(throws: DirectoryError.self) { try await store.decide(suggestion: "sg_tagged", .accept(level: 2), by: Self.manager("m")) }
            let removed = try await store.decide(suggestion: "sg_tagged", .accept(level: nil), by: Self.manager("boss"))
            #expect(removed.status == .accepted && removed.currentLevel == nil)
            #expect(try await store.employee("tagged", by: .cliOperator).skills.isEmpty)
            let dismissed = try await store.decide(suggestion: "sg_xr", .dismiss, by: .cliOperator)
            #expect(dismissed.status == .dismissed && dismissed.kind == .suggested)
            #expect(try await store.employee("xr", by: .cliOperator).skills.isEmpty)
            #expect(try await database.texts("SELECT status FROM skillSuggestion ORDER BY id") == ["open", "accepted", "dismissed"])
        }
    }
}
