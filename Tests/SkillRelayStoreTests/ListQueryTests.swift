import Foundation
import GRDB
import SkillRelayDomain
import SkillRelayTestSupport
import Testing

@testable import SkillRelayStore

/// Every list pages by key: each person once, in order, whatever is added meanwhile; filters and roles hold on every
/// page; and each query reads an index range, never the whole table sorted.
@Suite struct ListQueryTests {
    static let admin = Caller(identity: .employee("lakshmi.gupta"), isAdmin: true)
    static let lin = Caller(identity: .employee("lin.chen"), isManager: true)

    /// Everyone below `handle`, as a range of org paths.
    static func below(_ db: Database, _ handle: String) throws -> (lower: String, upper: String) {
        SQLiteDirectoryStore.subtreeRange(try String.fetchOne(db, sql: "SELECT orgPath FROM employee WHERE handle = ?", arguments: [handle]) ?? "")
    }

    /// Reads every page of a list, `limit` at a time.
    static func all<Item: Sendable>(limit: Int, _ read: (PageRequest) async throws -> ListPage<Item>) async throws -> (items: [Item], pages: Int) {
        var items: [Item] = []
        var request = PageRequest(limit: limit)
        var pages = 0
        repeat {
            let page = try await read(request)
            #expect(page.items.count <= limit)
            items += page.items
            pages += 1
            request.after = page.next
        } while request.after != nil && pages < 1000
        return (items, pages)
    }

    /// (name case-insensitively, handle): the order every employee list promises.
    static func inOrder(_ people: [EmployeeSummary]) -> Bool {
        let keys = people.map { ($0.employee.name.lowercased(), $0.employee.handle) }
        return zip(keys, keys.dropFirst()).allSatisfy { $0 < $1 }
    }

    @Test(arguments: StoreBackend.available) func anAdminPagesThroughEveryoneOnceInOrder(backend: StoreBackend) async throws {
        try await withSample(backend) { (database, store) async throws in
            let (people, pages) = try await Self.all(limit: 7) { try await store.employees(EmployeeFilter(), by: Self.admin, page: $0) }
            let expected = Set(try await database.texts("SELECT handle FROM employee WHERE isActive"))
            #expect(people.count == expected.count && Set(people.map(\.employee.handle)) == expected)
            #expect(Self.inOrder(people))
            #expect(pages == (expected.count + 6) / 7)
            // Deactivated people only when asked for.
            let inactive = try await store.employees(EmployeeFilter(isActive: false), by: Self.admin, page: PageRequest())
            #expect(inactive.items.count == 3 && inactive.items.allSatisfy { !$0.employee.isActive } && inactive.next == nil)
        }
    }

    @Test(arguments: StoreBackend.available) func namesSortAsSQLitesNocaseWhateverTheCollation(backend: StoreBackend) async throws {
        try await withEmpty(backend) { (_, store) async throws in
            // NOCASE folds A to Z only, then compares bytes: "Émile" and "émile" stay apart, after every ASCII letter, and
            // punctuation counts ("B-y" before "b.x" before "bx").
            let people = [
                ("e1", "émile"), ("e2", "Émile"), ("a1", "alex"), ("a2", "Alex"), ("z1", "Zoe"), ("b1", "b.x"), ("b2", "bx"), ("b3", "B-y"),
            ]
            let admin = Employee(handle: "root", name: "Root", email: "root@example.org", isAdmin: true)
            _ = try await store.createEmployee(admin, by: .cliOperator)
            for (handle, name) in people {
                _ = try await store.createEmployee(Employee(handle: handle, name: name, email: "\(handle)@example.org"), by: .cliOperator)
            }
            let (listed, _) = try await Self.all(limit: 3) { try await store.employees(EmployeeFilter(), by: .cliOperator, page: $0) }
            #expect(listed.map(\.employee.name) == ["alex", "Alex", "B-y", "b.x", "bx", "Root", "Zoe", "Émile", "émile"])
        }
    }

    @Test(arguments: StoreBackend.available) func aManagerSeesOnlyThePeopleBelowThemInEitherPlan(backend: StoreBackend) async throws {
        try await withSample(backend) { (database, store) async throws in
            let below = Set(
                try await database.texts(
                    """
                    WITH RECURSIVE below(id) AS (
                        SELECT id FROM employee WHERE managerId = (SELECT id FROM employee WHERE handle = 'lin.chen')
                        UNION SELECT employee.id FROM employee JOIN below ON employee.managerId = below.id
                    ) SELECT handle FROM employee WHERE id IN (SELECT id FROM below) AND isActive
                    """))
            #expect(below.count > 3)
            let (people, _) = try await Self.all(limit: 2) { try await store.employees(EmployeeFilter(), by: Self.lin, page: $0) }
            #expect(Set(people.map(\.employee.handle)) == below && people.count == below.count && Self.inOrder(people))
            // SQLite: the same people whether the team drives the page (a small set) or the name index is walked (a large one).
            if case .sqlite(let sqlite) = database {
                for smallSet in [1, 10_000] {
                    let walked = try await sqlite.writer.read { db in
                        try Row.fetchAll(
                            db,
                            try EmployeeQuery(active: true, below: try Self.below(db, "lin.chen"), limit: 500, smallSet: smallSet)
                                .request(db)
                        ).map { $0["handle"] as String }
                    }
                    #expect(walked == people.map(\.employee.handle), "smallSet \(smallSet)")
                }
            }
            // Someone who manages nobody may not list; a manager may not list a peer's team.
            await #expect(throws: DirectoryError.self) {
                try await store.employees(EmployeeFilter(), by: Caller(identity: .employee("ji-woo.kang")), page: PageRequest())
            }
            await #expect(throws: DirectoryError.self) {
                try await store.employees(EmployeeFilter(managerHandle: "lakshmi.gupta"), by: Self.lin, page: PageRequest())
            }
        }
    }

    @Test(arguments: StoreBackend.available) func filtersNarrowOnEveryPage(backend: StoreBackend) async throws {
        try await withSample(backend) { (database, store) async throws in
            // q: a prefix of the name, any case, or of the handle.
            let byName = try await store.employees(EmployeeFilter(query: "LIN C"), by: Self.admin, page: PageRequest())
            #expect(byName.items.map(\.employee.handle) == ["lin.chen"])
            let byHandle = try await store.employees(EmployeeFilter(query: "ji-woo."), by: Self.admin, page: PageRequest())
            #expect(byHandle.items.map(\.employee.handle) == ["ji-woo.kang"])
            // topic and minLevel: people with the topic or a subtopic at that level or above, compared with SQL.
            let expected = Set(
                try await database.texts(
                    """
                    WITH RECURSIVE sub(id) AS (
                        SELECT id FROM topic WHERE slug = 'kubernetes' UNION SELECT topic.id FROM topic JOIN sub ON topic.parentId = sub.id
                    )
                    SELECT DISTINCT employee.handle FROM skill JOIN employee ON employee.id = skill.employeeId
                    WHERE skill.topicId IN (SELECT id FROM sub) AND skill.level >= 3 AND employee.isActive
                    """))
            #expect(!expected.isEmpty)
            if case .sqlite(let sqlite) = database {
                for smallSet in [1, 10_000] {
                    let walked = try await sqlite.writer.read { db in
                        let topic = try SQLiteDirectoryStore.topicRecord(db, slugOrAlias: "k8s").id!
                        return try Row.fetchAll(db, try EmployeeQuery(active: true, topic: (topic, 3), limit: 500, smallSet: smallSet).request(db))
                            .map { $0["handle"] as String }
                    }
                    #expect(Set(walked) == expected, "smallSet \(smallSet)")
                }
            }
            let (tagged, _) = try await Self.all(limit: 3) {
                try await store.employees(EmployeeFilter(topic: "k8s", minimumLevel: 3), by: Self.admin, page: $0)
            }
            #expect(Set(tagged.map(\.employee.handle)) == expected && tagged.count == expected.count && Self.inOrder(tagged))
            // Filters combine with the caller's reach.
            let linsKubernetes = try await store.employees(EmployeeFilter(topic: "kubernetes"), by: Self.lin, page: PageRequest(limit: 200))
            let linsTeam = try await store.employees(EmployeeFilter(), by: Self.lin, page: PageRequest(limit: 200))
            #expect(!linsKubernetes.items.isEmpty)
            #expect(Set(linsKubernetes.items.map(\.employee.handle)).isSubset(of: Set(linsTeam.items.map(\.employee.handle))))
            await #expect(throws: DirectoryError.topicNotFound("nowhere")) {
                try await store.employees(EmployeeFilter(topic: "nowhere"), by: Self.admin, page: PageRequest())
            }
        }
    }

    @Test(arguments: StoreBackend.available) func pagesStayStableWhenPeopleAreAdded(backend: StoreBackend) async throws {
        try await withSample(backend) { (_, store) async throws in
            let first = try await store.employees(EmployeeFilter(), by: Self.admin, page: PageRequest(limit: 10))
            // Someone who sorts before the cursor and someone after it are added between the two pages.
            for (handle, name) in [("aaron.first", "Aaaron First"), ("zed.last", "Zzed Last")] {
                _ = try await store.createEmployee(Employee(handle: handle, name: name, email: "\(handle)@example.org"), by: Self.admin)
            }
            let second = try await store.employees(EmployeeFilter(), by: Self.admin, page: PageRequest(limit: 10, after: first.next))
            let firstKeys = first.items.map { ($0.employee.name.lowercased(), $0.employee.handle) }
            #expect(second.items.count == 10)
            #expect(second.items.allSatisfy { ($0.employee.name.lowercased(), $0.employee.handle) > firstKeys.last! })
            #expect(!second.items.contains { $0.employee.handle == "aaron.first" })
            #expect(Set(first.items.map(\.employee.handle)).isDisjoint(with: second.items.map(\.employee.handle)))
        }
    }

    @Test(arguments: StoreBackend.available) func directReportsComeWithHowManyAreBelowThem(backend: StoreBackend) async throws {
        try await withSample(backend) { (_, store) async throws in
            let (reports, _) = try await Self.all(limit: 1) {
                try await store.reports(of: "aiko.yamamoto", isActive: true, by: Self.admin, page: $0)
            }
            #expect(reports.contains { $0.employee.handle == "lin.chen" })
            #expect(reports.allSatisfy { $0.employee.managerHandle == "aiko.yamamoto" } && Self.inOrder(reports))
            let linsTeam = try await store.employees(EmployeeFilter(), by: Self.lin, page: PageRequest(limit: 200)).items.count
            #expect(reports.first { $0.employee.handle == "lin.chen" }?.belowCount == linsTeam)
            // Lin may read their own reports, not their manager's.
            #expect(try await !store.reports(of: "lin.chen", isActive: true, by: Self.lin, page: PageRequest()).items.isEmpty)
            await #expect(throws: DirectoryError.self) {
                try await store.reports(of: "aiko.yamamoto", isActive: true, by: Self.lin, page: PageRequest())
            }
        }
    }

    @Test(arguments: StoreBackend.available) func topicsAndTokensPageByKey(backend: StoreBackend) async throws {
        try await withSample(backend) { (database, store) async throws in
            let (topics, _) = try await Self.all(limit: 8) { try await store.topicPage(matching: nil, page: $0) }
            let count = try await database.count("SELECT count(*) FROM topic")
            #expect(topics.map(\.slug) == topics.map(\.slug).sorted { Array($0.utf8).lexicographicallyPrecedes($1.utf8) } && topics.count == count)
            let (found, _) = try await Self.all(limit: 1) { try await store.topicPage(matching: "k8s", page: $0) }
            #expect(found.map(\.slug) == ["kubernetes"])
            let (several, _) = try await Self.all(limit: 2) { try await store.topicPage(matching: "data", page: $0) }
            #expect(several.count > 2 && several.map(\.slug) == several.map(\.slug).sorted())
            #expect(Set(several.map(\.slug)) == Set(try await store.topics(matching: "data", limit: 100, offset: 0).topics.map(\.slug)))
            let employees = try await store.tokens(by: .cliOperator, page: PageRequest(limit: 500)).items
            let first = try await store.createToken(for: .employee("lena.weber"), by: .cliOperator).token
            for index in 0..<5 { _ = try await store.createToken(for: .bot("bot-\(index)"), by: .cliOperator) }
            let (tokens, pages) = try await Self.all(limit: 2) { try await store.tokens(by: .cliOperator, page: $0) }
            #expect(
                tokens.map(\.owner) == (0..<5).reversed().map { APIToken.Owner.bot("bot-\($0)") } + [.employee("lena.weber")] + employees.map(\.owner)
            )
            #expect(pages == (tokens.count + 1) / 2)
            // Past the oldest token: an empty page, not an error.
            let oldest = try #require(tokens.last)
            #expect(try await store.tokens(by: .cliOperator, page: PageRequest(after: PageCursor(list: .tokens, keys: [oldest.id]))).items.isEmpty)
            #expect(tokens.contains(first))
            // A cursor naming a token that does not exist is refused, not a crash.
            await #expect(throws: InvalidCursor.self) {
                try await store.tokens(by: .cliOperator, page: PageRequest(after: PageCursor(list: .tokens, keys: ["tok_nothing"])))
            }
        }
    }

    @Test func cursorsThatAreNotOursAreRefused() throws {
        let cursor = PageCursor(list: .employees, keys: ["Lin Chen", "lin.chen"])
        #expect(try PageCursor(decoding: cursor.encoded, for: .employees) == cursor)
        for text in ["", "x", "!!!", cursor.encoded + "A", String(cursor.encoded.dropLast(3)), String(repeating: "A", count: 3000)] {
            #expect(throws: InvalidCursor.self, "\(text)") { try PageCursor(decoding: text, for: .employees) }
        }
        // Another list's cursor, or one with the wrong keys.
        #expect(throws: InvalidCursor.self) { try PageCursor(decoding: cursor.encoded, for: .reports) }
        #expect(throws: InvalidCursor.self) { try PageCursor(decoding: PageCursor(list: .employees, keys: ["x"]).encoded, for: .employees) }
    }

    // MARK: - Plans

    /// The plan of a statement, one detail a line.
    static func plan(_ db: Database, _ request: SQLRequest<Row>) throws -> [String] {
        let statement = try request.makePreparedRequest(db).statement
        return try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + statement.sql, arguments: statement.arguments).map { $0["detail"] as String }
    }

    static func plan(_ db: Database, _ sql: String, _ arguments: StatementArguments) throws -> [String] {
        try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] as String }
    }

    /// No full scan of a big table, and no sort of a whole result.
    static func expectBounded(_ plan: [String], allowSort: Bool = false, _ what: String) {
        let scans = plan.filter { line in ["SCAN employee", "SCAN skill", "SCAN delivery", "SCAN question"].contains { line.hasPrefix($0) } }
        #expect(scans.isEmpty, "\(what): \(plan)")
        if !allowSort { #expect(!plan.contains { $0.contains("USE TEMP B-TREE FOR ORDER BY") }, "\(what): \(plan)") }
    }

    @Test func everyListQueryReadsAnIndexRange() async throws {
        let store = try await makeSampleStore()
        try await store.writer.read { db in
            let lin = try SQLiteDirectoryStore.employeeRecord(db, handle: "lin.chen").id!
            let linBelow = try Self.below(db, "lin.chen")
            let topic = try SQLiteDirectoryStore.topicRecord(db, slugOrAlias: "kubernetes").id!
            let after = (name: "Lin Chen", handle: "lin.chen")
            // Everyone, a first and a later page: a range of the name index.
            for position in [nil, after] {
                let plan = try Self.plan(db, try EmployeeQuery(active: true, after: position, limit: 50).request(db))
                Self.expectBounded(plan, "everyone")
                #expect(plan.contains { $0.hasPrefix("SEARCH employee USING INDEX employeeByActiveName (isActive=?") }, "\(plan)")
            }
            #expect(
                try Self.plan(db, try EmployeeQuery(active: true, after: after, limit: 50).request(db)).contains {
                    $0.contains("employeeByActiveName (isActive=? AND name>?)")
                })
            // Large filter sets: the name index walked, each filter checked by key.
            for query in [
                EmployeeQuery(active: true, below: linBelow, after: after, limit: 50, smallSet: 1),
                EmployeeQuery(active: true, prefix: EmployeeQuery.Prefix("li"), after: after, limit: 50, smallSet: 1),
                EmployeeQuery(active: true, topic: (topic, 2), after: after, limit: 50, smallSet: 1),
                EmployeeQuery(active: true, below: linBelow, prefix: EmployeeQuery.Prefix("a"), topic: (topic, 2), limit: 50, smallSet: 1),
            ] {
                let plan = try Self.plan(db, try query.request(db))
                Self.expectBounded(plan, "walk")
                #expect(plan.contains { $0.hasPrefix("SEARCH employee USING INDEX employeeByActiveName") }, "\(plan)")
            }
            // Small filter sets: read by index and key, and the fewer than `smallSet` rows sorted (the one sort allowed).
            for query in [
                EmployeeQuery(active: true, below: linBelow, after: after, limit: 50),
                EmployeeQuery(active: true, prefix: EmployeeQuery.Prefix("li"), limit: 50),
                EmployeeQuery(active: true, topic: (topic, 2), limit: 50),
            ] {
                Self.expectBounded(try Self.plan(db, try query.request(db)), allowSort: true, "small set")
            }
            // A manager's direct reports: a range of the manager index, `below` read from the row (v11).
            let reports = try Self.plan(db, SQLiteDirectoryStore.reportsRequest(of: lin, active: true, after: after, limit: 50))
            Self.expectBounded(reports, "reports")
            #expect(reports.contains { $0.contains("employeeByManagerName (managerId=? AND isActive=? AND name>?)") }, "\(reports)")
            // Topics, tokens, the inbox and an asker's questions: each a range of an index or of the table's key.
            let topics = try Self.plan(db, SQLiteDirectoryStore.topicPageSQL, ["kubernetes", 51])
            #expect(topics.contains { $0.contains("(slug>?)") } && !topics.contains { $0.contains("TEMP B-TREE") }, "\(topics)")
            let search = try Self.plan(db, SQLiteDirectoryStore.topicPageMatchingSQL, ["kubernetes", "\"kube\"*", 51])
            #expect(search.contains { $0.contains("(slug>?)") } && !search.contains { $0.contains("TEMP B-TREE") }, "\(search)")
            let tokens = try Self.plan(db, SQLiteDirectoryStore.tokensSQL, [Int64.max, 51])
            #expect(tokens.contains { $0.contains("INTEGER PRIMARY KEY (rowid<?)") } && !tokens.contains { $0.contains("TEMP B-TREE") }, "\(tokens)")
            let inbox = try Self.plan(db, SQLiteQuestionStore.inboxSQL, [1, Date(), Int64.max, 51])
            Self.expectBounded(inbox, "inbox")
            #expect(inbox.contains { $0.contains("deliveryBySpecialist (specialistId=? AND deliveredAt<?)") }, "\(inbox)")
            let asked = try Self.plan(db, SQLiteQuestionStore.askedQuestionsSQL, ["employee:1", Int64.max, 51])
            Self.expectBounded(asked, "questions")
            #expect(asked.contains { $0.contains("questionByAsker (askerKey=? AND id<?)") }, "\(asked)")
        }
    }
}
