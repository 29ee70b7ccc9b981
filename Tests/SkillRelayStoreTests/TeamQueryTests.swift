import Foundation
import GRDB
import SkillRelayDomain
import SkillRelayTestSupport
import Testing

@testable import SkillRelayStore

/// The team pages' queries: the org path and counts kept by the database whatever changes the chart, pages that list
/// everyone once in a stable order either way, a manager kept inside their own subtree, and plans that read indexes.
@Suite struct TeamQueryTests {
    /// `ceo` > `vp1`…`vp3` > two directors each (`d11`, `d12`, `d21` …) > thirty people each (`p11-01` …), named
    /// "Person 11 01"; every third person has `kubernetes`, at levels 1 to 5 in turn.
    static func company() throws -> ImportBatch {
        var employees = "handle,name,email,manager\nceo,Chief Exec,ceo@example.org,\n"
        var skills = "handle,topic,level\n"
        for vp in 1...3 {
            employees += "vp\(vp),Vice President \(vp),vp\(vp)@example.org,ceo\n"
            for director in 1...2 {
                let d = "d\(vp)\(director)"
                employees += "\(d),Director \(vp)\(director),\(d)@example.org,vp\(vp)\n"
                for person in 1...30 {
                    let handle = String(format: "p%d%d-%02d", vp, director, person)
                    employees += "\(handle),Person \(vp)\(director) \(String(format: "%02d", person)),\(handle)@example.org,\(d)\n"
                    if person % 3 == 0 { skills += "\(handle),kubernetes,\(person / 3 % 5 + 1)\n" }
                }
            }
        }
        employees += "ayse,Ayşe Demir,ayse@example.org,d11\n"
        return try ImportBatch.parse(files: [
            .employees: employees, .topics: "slug,name,parent,aliases,description\ninfra,Infrastructure,,,\nkubernetes,Kubernetes,infra,k8s,\n",
            .skills: skills,
        ])
    }

    /// The company on a backend, closed after `body`.
    static func withCompany(
        _ backend: StoreBackend, scanLimit: Int = 2000, _ body: (TestDatabase, any DirectoryStores) async throws -> Void
    ) async throws {
        try await withEmpty(backend, teamScanLimit: scanLimit) { (database, store) async throws in
            _ = try await store.importDirectory(try company(), by: .cliOperator)
            try await body(database, store)
        }
    }

    /// The company in SQLite, for the checks of SQLite's own plans.
    static func makeSQLiteStore() async throws -> SQLiteDirectoryStore {
        let store = SQLiteDirectoryStore(database: try AppDatabase.inMemory(), clock: TestClock())
        _ = try await store.importDirectory(try company(), by: .cliOperator)
        return store
    }

    static func manager(_ handle: String) -> Caller { Caller(identity: .employee(handle), isManager: true) }

    /// Every employee's path and count as worked out from the manager column, against what the database keeps.
    static func expectOrgPathsRight(_ database: TestDatabase, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let rows = try await database.rows(
            "SELECT id, managerId, CASE WHEN isActive THEN 1 ELSE 0 END, orgPath, peopleBelow FROM employee"
        ).map { row in
            (id: Int64(row[0]!)!, managerId: row[1].flatMap { Int64($0) }, isActive: row[2] == "1", orgPath: row[3]!, peopleBelow: Int(row[4]!)!)
        }
        #expect(!rows.isEmpty, sourceLocation: sourceLocation)
        var managerOf: [Int64: Int64] = [:]
        var active: [Int64: Bool] = [:]
        for row in rows {
            active[row.id] = row.isActive
            if let manager = row.managerId { managerOf[row.id] = manager }
        }
        func path(_ id: Int64) -> [Int64] {
            var ids = [id]
            while let manager = managerOf[ids.last!] { ids.append(manager) }
            return ids.reversed()
        }
        var below: [Int64: Int] = [:]
        for (id, isActive) in active where isActive { for ancestor in path(id).dropLast() { below[ancestor, default: 0] += 1 } }
        for row in rows {
            let (id, orgPath, peopleBelow) = (row.id, row.orgPath, row.peopleBelow)
            let expected = "/" + path(id).map(String.init).joined(separator: "/") + "/"
            #expect(orgPath == expected, "employee \(id)", sourceLocation: sourceLocation)
            #expect(peopleBelow == below[id] ?? 0, "employee \(id)", sourceLocation: sourceLocation)
        }
    }

    /// Every page of a listing forwards by `next`, then backwards from the last page by `previous`.
    static func pageThrough(_ store: any DirectoryStores, _ query: TeamQuery, by caller: Caller) async throws -> (
        forward: [String], backward: [String]
    ) {
        var query = query
        var forward: [String] = []
        var page = try await store.teamPage(query, by: caller)
        forward += page.members.map(\.handle)
        #expect(page.previous == nil)
        while let next = page.next {
            query.cursor = next
            page = try await store.teamPage(query, by: caller)
            forward += page.members.map(\.handle)
            #expect(forward.count < 1000)
        }
        var backward = page.members.map(\.handle)
        while let previous = page.previous {
            query.cursor = previous
            page = try await store.teamPage(query, by: caller)
            backward = page.members.map(\.handle) + backward
            #expect(backward.count < 1000)
        }
        return (forward, backward)
    }

    // MARK: - The org path

    @Test(arguments: StoreBackend.available) func theOrgPathAndCountsFollowEveryChangeToTheChart(backend: StoreBackend) async throws {
        try await Self.withCompany(backend) { (database, store) async throws in
            try await Self.expectOrgPathsRight(database)
            #expect(try await store.teamPage(TeamQuery(), by: Self.manager("ceo")).manager.peopleBelow == 190)
            // A director moves, with their thirty people, to another VP (PATCH employee).
            _ = try await store.updateEmployee("d11", with: EmployeePatch(managerHandle: .some("vp2")), by: .cliOperator)
            try await Self.expectOrgPathsRight(database)
            #expect(try await store.teamPage(TeamQuery(), by: Self.manager("vp2")).manager.peopleBelow == 94)
            // Someone leaves and comes back; a new hire is created under a director.
            _ = try await store.updateEmployee("p11-01", with: EmployeePatch(isActive: false), by: .cliOperator)
            try await Self.expectOrgPathsRight(database)
            _ = try await store.createEmployee(
                Employee(handle: "new.hire", name: "New Hire", email: "n@example.org", managerHandle: "d11"), by: .cliOperator)
            try await Self.expectOrgPathsRight(database)
            // An import moves a VP to the top, moves a director back and makes someone inactive while moving them.
            _ = try await store.importDirectory(
                try ImportBatch.parse(files: [
                    .employees: """
                    handle,name,email,manager,active
                    vp3,Vice President 3,vp3@example.org,,true
                    d11,Director 11,d11@example.org,vp1,true
                    p12-02,Person 12 02,p12-02@example.org,d21,false
                    p11-01,Person 11 01,p11-01@example.org,d11,true
                    late,Late Joiner,late@example.org,p12-03,true

                    """
                ]), by: .cliOperator)
            try await Self.expectOrgPathsRight(database)
            #expect(try await store.teamPage(TeamQuery(), by: Self.manager("ceo")).manager.peopleBelow == 128)
            // A refused import (a cycle) leaves the paths as they were.
            await #expect(throws: ImportFailure.self) {
                _ = try await store.importDirectory(
                    try ImportBatch.parse(files: [.employees: "handle,name,email,manager\nvp1,Vice President 1,vp1@example.org,p11-05\n"]),
                    by: .cliOperator)
            }
            try await Self.expectOrgPathsRight(database)
        }
    }

    /// Six levels under one person, three reports each; every seventh person inactive, managers among them.
    static func deepCompany() -> [Employee] {
        (0..<400).map { index in
            Employee(
                handle: Self.deepHandle(index), name: "Person \(index)", email: "\(Self.deepHandle(index))@example.org",
                managerHandle: index == 0 ? nil : Self.deepHandle((index - 1) / 3), isActive: index % 7 != 3)
        }
    }

    static func deepHandle(_ index: Int) -> String { String(format: "e%03d", index) }

    static func employeesFile(_ people: [Employee]) throws -> ImportBatch {
        var csv = "handle,name,email,manager,active\n"
        for person in people { csv += "\(person.handle),\(person.name),\(person.email),\(person.managerHandle ?? ""),\(person.isActive)\n" }
        return try ImportBatch.parse(files: [.employees: csv])
    }

    /// Every employee's path (as handles, since ids differ between databases) and count below, by handle.
    static func orgChart(_ database: TestDatabase) async throws -> [String: String] {
        let rows = try await database.rows("SELECT id, handle, orgPath, peopleBelow FROM employee")
        let handles = Dictionary(uniqueKeysWithValues: rows.map { ($0[0]!, $0[1]!) })
        return Dictionary(
            uniqueKeysWithValues: rows.map { row in
                let path = row[2]!.split(separator: "/").map { handles[String($0)] ?? "?" }.joined(separator: "/")
                return (row[1]!, "\(path) \(row[3]!)")
            })
    }

    @Test(arguments: StoreBackend.available) func anImportKeepsThePathsAndCountsThatEditsPersonByPersonKeep(backend: StoreBackend) async throws {
        let people = Self.deepCompany()
        try await withEmpty(backend) { (imported, importing) async throws in
            // Given the company imported with every person listed before their manager…
            _ = try await importing.importDirectory(try Self.employeesFile(people.reversed()), by: .cliOperator)
            try await Self.expectOrgPathsRight(imported)
            try await withEmpty(backend) { (edited, editing) async throws in
                // …and the same company created one person at a time, through the triggers of each insert:
                for person in people { _ = try await editing.createEmployee(person, by: .cliOperator) }
                #expect(try await Self.orgChart(imported) == Self.orgChart(edited))
                // When a re-import moves a manager deeper into another branch, one to the top, an inactive manager back to
                // work under someone else, an active one out of work under someone else, and one person across…
                let moves: [(handle: String, manager: String?, isActive: Bool)] = [
                    ("e002", "e040", true), ("e013", nil, true), ("e010", "e005", true), ("e031", "e067", false), ("e100", "e002", true),
                ]
                let moved = moves.map { move in
                    var person = people[Int(move.handle.dropFirst())!]
                    person.managerHandle = move.manager
                    person.isActive = move.isActive
                    return person
                }
                _ = try await importing.importDirectory(try Self.employeesFile(moved), by: .cliOperator)
                for move in moves {
                    _ = try await editing.updateEmployee(
                        move.handle, with: EmployeePatch(managerHandle: .some(move.manager), isActive: move.isActive), by: .cliOperator)
                }
                // Then both hold the paths and counts worked out from the managers.
                try await Self.expectOrgPathsRight(imported)
                try await Self.expectOrgPathsRight(edited)
                #expect(try await Self.orgChart(imported) == Self.orgChart(edited))
            }
        }
    }

    @Test func aDatabaseFromBeforeOrgPathsGetsThemOnUpgrade() async throws {
        let queue = try DatabaseQueue()
        try AppDatabase.migrator.migrate(queue, upTo: "v9 im keys")
        try await queue.write { db in
            for (id, manager, active) in [(1, nil, true), (2, 1, true), (3, 2, true), (4, 2, false), (5, 1, true), (6, 4, true)]
                as [(Int, Int?, Bool)]
            {
                try db.execute(
                    sql: """
                        INSERT INTO employee (id, handle, name, email, managerId, isActive, createdAt, updatedAt)
                        VALUES (?, ?, ?, ?, ?, ?, '2026-01-01', '2026-01-01')
                        """, arguments: [id, "e\(id)", "E \(id)", "e\(id)@example.org", manager, active])
            }
        }
        try AppDatabase.migrator.migrate(queue)
        let rows = try await queue.read { db in try Row.fetchAll(db, sql: "SELECT orgPath, peopleBelow FROM employee ORDER BY id") }
        #expect(rows.map { $0["orgPath"] as String } == ["/1/", "/1/2/", "/1/2/3/", "/1/2/4/", "/1/5/", "/1/2/4/6/"])
        #expect(rows.map { $0["peopleBelow"] as Int } == [4, 2, 0, 1, 0, 0])
        let found = try await queue.read { db in try Int64.fetchAll(db, sql: "SELECT rowid FROM employeeSearch WHERE employeeSearch MATCH 'e'") }
        #expect(found.count == 6)
    }

    // MARK: - Pages

    @Test(arguments: StoreBackend.available) func directReportsComeFirstWithTheCountBelowEach(backend: StoreBackend) async throws {
        try await Self.withCompany(backend) { (database, store) async throws in
            let top = try await store.teamPage(TeamQuery(), by: Self.manager("ceo"))
            #expect(top.members.map(\.handle) == ["vp1", "vp2", "vp3"])
            #expect(top.members.map(\.peopleBelow) == [63, 62, 62])
            #expect(top.breadcrumbs.isEmpty && top.next == nil && top.previous == nil)
            // Drilled down two levels: the way back up starts at the caller.
            let director = try await store.teamPage(TeamQuery(under: "d11", limit: 7), by: Self.manager("ceo"))
            #expect(director.manager.handle == "d11" && director.manager.peopleBelow == 31)
            #expect(director.breadcrumbs.map(\.handle) == ["ceo", "vp1"])
            #expect(director.members.map(\.handle) == ["ayse", "p11-01", "p11-02", "p11-03", "p11-04", "p11-05", "p11-06"])
            #expect(director.members[3].skills.map(\.topic.slug) == ["kubernetes"])
            #expect(director.breadcrumbs.map(\.name) == ["Chief Exec", "Vice President 1"])
            // Beside the list: each person's time zone and working hours, and the manager's own.
            let hours = try WorkingHours(parsing: "Mon-Fri 09:00-17:30")
            for handle in ["p11-02", "d11"] {
                _ = try await store.updateEmployee(
                    handle, with: EmployeePatch(timeZone: "Europe/Paris", workingHours: hours), by: .cliOperator)
            }
            let again = try await store.teamPage(TeamQuery(under: "d11", limit: 7), by: Self.manager("ceo"))
            #expect(again.members.map(\.timeZone) == [nil, nil, "Europe/Paris", nil, nil, nil, nil])
            #expect(again.members[2].workingHours == hours && again.members[1].workingHours == nil)
            #expect(again.manager.timeZone == "Europe/Paris" && again.manager.workingHours == hours)
            let all = try await Self.pageThrough(store, TeamQuery(under: "d11", limit: 7), by: Self.manager("vp1"))
            #expect(all.forward.count == 31 && Set(all.forward).count == 31)
            #expect(all.backward == all.forward)
            // Everyone below, in org-chart order: a manager before the people below them.
            let everyone = try await Self.pageThrough(store, TeamQuery(everyone: true), by: Self.manager("ceo"))
            #expect(everyone.forward.count == 190 && Set(everyone.forward).count == 190 && everyone.backward == everyone.forward)
            let position = Dictionary(uniqueKeysWithValues: everyone.forward.enumerated().map { ($1, $0) })
            #expect(everyone.forward.first?.hasPrefix("vp") == true)
            #expect(position.allSatisfy { handle, index in !handle.hasPrefix("p") || position["d" + handle.dropFirst().prefix(2)]! < index })
        }
    }

    @Test(arguments: StoreBackend.available, [0, 2000]) func aSearchOrATopicListsEveryoneBelowOnceEitherWay(backend: StoreBackend, scanLimit: Int)
        async throws
    {
        try await Self.withCompany(backend, scanLimit: scanLimit) { (database, store) async throws in
            let vp1 = Self.manager("vp1")
            let people = try await Self.pageThrough(store, TeamQuery(search: "person", limit: 7), by: vp1)
            #expect(people.forward.count == 60 && Set(people.forward).count == 60)
            #expect(people.backward == people.forward)
            #expect(people.forward.allSatisfy { $0.hasPrefix("p1") })
            // Word prefixes of the name or the handle, all of them, without regard to case or accents.
            #expect(try await store.teamPage(TeamQuery(search: "PERSON 12 0"), by: vp1).members.count == 9)
            #expect(try await store.teamPage(TeamQuery(search: "ayse"), by: vp1).members.map(\.handle) == ["ayse"])
            #expect(try await store.teamPage(TeamQuery(search: "dem ay"), by: vp1).members.map(\.handle) == ["ayse"])
            #expect(try await store.teamPage(TeamQuery(search: "ayse"), by: Self.manager("vp2")).members.isEmpty)
            // A topic, by alias, at a minimum level; with a search too.
            let tagged = try await Self.pageThrough(store, TeamQuery(topic: "k8s", limit: 3), by: vp1)
            #expect(tagged.forward.count == 20 && Set(tagged.forward).count == 20)
            #expect(tagged.backward == tagged.forward)
            let expert = try await store.teamPage(TeamQuery(topic: "kubernetes", minimumLevel: 5), by: vp1)
            #expect(Set(expert.members.map(\.handle)) == ["p11-12", "p11-27", "p12-12", "p12-27"])
            #expect(expert.topic?.slug == "kubernetes")
            let both = try await store.teamPage(TeamQuery(under: "d12", search: "person", topic: "kubernetes", minimumLevel: 4), by: vp1)
            #expect(Set(both.members.map(\.handle)) == ["p12-09", "p12-12", "p12-24", "p12-27"])
        }
    }

    @Test(arguments: StoreBackend.available) func aManagerSeesNothingOutsideTheirOwnSubtree(backend: StoreBackend) async throws {
        try await Self.withCompany(backend) { (database, store) async throws in
            let vp1 = Self.manager("vp1")
            for outside in ["d21", "vp2", "ceo", "nobody", "p21-01"] {
                await #expect(throws: DirectoryError.employeeNotFound(outside)) { _ = try await store.teamPage(TeamQuery(under: outside), by: vp1) }
            }
            // Oneself is the top of one's own team; someone inactive is not found.
            #expect(try await store.teamPage(TeamQuery(under: "vp1"), by: vp1).breadcrumbs.isEmpty)
            _ = try await store.updateEmployee("d12", with: EmployeePatch(isActive: false), by: .cliOperator)
            await #expect(throws: DirectoryError.employeeNotFound("d12")) { _ = try await store.teamPage(TeamQuery(under: "d12"), by: vp1) }
            // A search from below someone stays below them.
            #expect(try await store.teamPage(TeamQuery(under: "d11", search: "person 12 0"), by: vp1).members.isEmpty)
            await #expect(throws: DirectoryError.self) { _ = try await store.teamPage(TeamQuery(), by: Caller(identity: .employee("p11-01"))) }
        }
    }

    @Test(arguments: StoreBackend.available) func aCursorFromAnotherListingStartsItOver(backend: StoreBackend) async throws {
        try await Self.withCompany(backend) { (database, store) async throws in
            let vp1 = Self.manager("vp1")
            let first = try await store.teamPage(TeamQuery(search: "person", limit: 5), by: vp1)
            let next = try #require(first.next)
            let directs = try await store.teamPage(TeamQuery(cursor: next), by: vp1)
            #expect(directs.members.map(\.handle) == ["d11", "d12"])
            let garbage = try await store.teamPage(TeamQuery(search: "person", cursor: TeamCursor(.after, key: "%%%"), limit: 5), by: vp1)
            #expect(garbage.members == first.members)
        }
    }

    // MARK: - Plans

    @Test func everyPageQueryReadsAnIndexInTheOrderItPages() async throws {
        let store = try await Self.makeSQLiteStore()
        for order in [TeamListing.Order.directReports, .subtree, .topic, .search] {
            for forward in [true, false] {
                for hasCursor in [false, true] {
                    for topicInSQL in order == .subtree ? [false, true] : [order == .topic] {
                        let sql = TeamListing.sql(order, forward: forward, hasCursor: hasCursor, topicInSQL: topicInSQL)
                        let placeholders = sql.count { $0 == "?" }
                        let plan = try await store.database.writer.read { db in
                            let arguments = StatementArguments(Array(repeating: "1", count: placeholders))
                            return try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map {
                                $0["detail"] as String
                            }
                        }
                        let label = "\(order) forward: \(forward) cursor: \(hasCursor) topic: \(topicInSQL): \(plan)"
                        #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(label)")
                        #expect(!plan.contains { $0 == "SCAN employee" || $0.hasPrefix("SCAN employee ") || $0.hasPrefix("SCAN skill") }, "\(label)")
                        let expected =
                            switch order {
                            case .directReports: "SEARCH employee USING INDEX employeeReportsByName (managerId=? AND isActive=?"
                            case .subtree: "SEARCH employee USING INDEX employeeByOrgPath (orgPath>? AND orgPath<?)"
                            case .topic: "SEARCH skill USING COVERING INDEX skillByTopicLevel (topicId=? AND level>?"
                            case .search: "SCAN employeeSearch VIRTUAL TABLE INDEX"
                            }
                        #expect(plan.first?.hasPrefix(expected) == true, "\(label)")
                    }
                }
            }
        }
        let branch = try await store.database.writer.read { db in
            try Row.fetchAll(
                db, sql: "EXPLAIN QUERY PLAN SELECT id FROM topic WHERE parentId IS ? ORDER BY name, slug LIMIT ? OFFSET ?", arguments: [1, 50, 0]
            )
            .map { $0["detail"] as String }
        }
        #expect(branch == ["SEARCH topic USING COVERING INDEX topicByParentName (parentId=?)"], "\(branch)")
    }

    @Test(arguments: StoreBackend.available) func theTopicTreeComesABranchAtATime(backend: StoreBackend) async throws {
        try await Self.withCompany(backend) { (database, store) async throws in
            let top = try await store.topicBranch(under: nil, matching: nil, limit: 50, offset: 0)
            #expect(top.topics.map(\.topic.slug) == ["infra"] && top.topics[0].childCount == 1 && top.path.isEmpty)
            let infra = try await store.topicBranch(under: "infra", matching: nil, limit: 50, offset: 0)
            #expect(infra.topics.map(\.topic.slug) == ["kubernetes"] && infra.topics[0].topic.aliases == ["k8s"])
            #expect(infra.path.map(\.slug) == ["infra"])
            let found = try await store.topicBranch(under: nil, matching: "k8s", limit: 50, offset: 0)
            #expect(found.topics.map(\.topic.slug) == ["kubernetes"] && found.total == 1)
            await #expect(throws: DirectoryError.topicNotFound("nowhere")) {
                _ = try await store.topicBranch(under: "nowhere", matching: nil, limit: 5, offset: 0)
            }
        }
    }
}
