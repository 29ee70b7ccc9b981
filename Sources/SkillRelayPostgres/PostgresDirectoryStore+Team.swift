import Foundation
import PostgresNIO
import SkillRelayDomain

// A team page reads at most a page and a bounded look-ahead: the people below a manager are a range of `orgPath`
// (kept by the org-path triggers), never a walk of the org chart.
extension PostgresDirectoryStore: TeamStore {
    public func teamPage(_ query: TeamQuery, by caller: Caller) async throws -> TeamPage {
        try DirectoryPolicy.authorize(caller, to: .readTeam)
        guard let handle = caller.handle else { throw DirectoryError.forbidden("My team is for managers: nobody reports to you.") }
        let scanLimit = teamScanLimit
        return try await database.reading { db in
            let under = query.under.flatMap { $0 == handle ? nil : $0 }
            let nodes = try await Self.teamNodes(db, handles: [handle] + (under.map { [$0] } ?? []))
            guard let me = nodes[handle] else { throw DirectoryError.employeeNotFound(handle) }
            var node = me
            // Someone not below the caller is "not found", exactly as someone who does not exist: the page tells nothing.
            if let under {
                guard let found = nodes[under], found.isActive, found.orgPath.hasPrefix(me.orgPath) else {
                    throw DirectoryError.employeeNotFound(under)
                }
                node = found
            }
            var topic: TopicRow?
            if let slug = query.topic { topic = try await Self.topicRow(db, slugOrAlias: slug) }
            let listing = PostgresTeamListing(
                node: node, query: query, topic: topic, words: Self.teamSearchWords(query.search), scanLimit: scanLimit,
                limit: max(1, min(query.limit, TeamQuery.maximumLimit)))
            let (rows, previous, next) = try await listing.page(db)
            let details = try await Self.memberDetails(db, of: rows.map(\.id) + [node.id], between: me, and: node)
            func member(id: Int64, handle: String, name: String, peopleBelow: Int) -> TeamMember {
                TeamMember(
                    handle: handle, name: name, peopleBelow: peopleBelow, skills: details.skills[id] ?? [],
                    timeZone: details.hours[id]?.timeZone, workingHours: details.hours[id]?.workingHours)
            }
            return TeamPage(
                manager: member(id: node.id, handle: node.handle, name: node.name, peopleBelow: node.peopleBelow),
                breadcrumbs: details.breadcrumbs,
                topic: topic.map { TopicReference(slug: $0.slug, name: $0.name) },
                members: rows.map { member(id: $0.id, handle: $0.handle, name: $0.name, peopleBelow: $0.peopleBelow) },
                previous: previous, next: next)
        }
    }

    // MARK: - Reading the org chart

    /// An employee's place in the org chart.
    struct TeamNode: Sendable {
        static let columns = "id, handle, name, orgPath, peopleBelow, isActive"

        var id: Int64
        var handle: String
        var name: String
        var orgPath: String
        var peopleBelow: Int
        var isActive: Bool

        init(_ row: PostgresRow) throws {
            (id, handle, name, orgPath, peopleBelow, isActive) = try row.decode((Int64, String, String, String, Int, Bool).self)
        }
    }

    static func teamNodeIfAny(_ db: PostgresStatements, handle: String) async throws -> TeamNode? {
        try await db.row("SELECT \(unescaped: TeamNode.columns) FROM employee WHERE handle = \(handle)", TeamNode.init)
    }

    /// The places of several people at once, by handle (those who exist).
    static func teamNodes(_ db: PostgresStatements, handles: [String]) async throws -> [String: TeamNode] {
        let nodes = try await db.rows("SELECT \(unescaped: TeamNode.columns) FROM employee WHERE handle = ANY(\(handles)::text[])", TeamNode.init)
        return Dictionary(nodes.map { ($0.handle, $0) }, uniquingKeysWith: { first, _ in first })
    }

    static func teamNode(_ db: PostgresStatements, handle: String) async throws -> TeamNode {
        guard let node = try await teamNodeIfAny(db, handle: handle) else { throw DirectoryError.employeeNotFound(handle) }
        return node
    }

    /// The bounds of everyone strictly below the owner of `path`: `orgPath > '/1/17/' AND orgPath < '/1/170'` ('0' follows
    /// '/' in ASCII), a range of the org paths compared bytewise.
    static func subtreeRange(_ path: String) -> (lower: String, upper: String) {
        (path, String(path.dropLast()) + "0")
    }

    /// What a team page shows beside its list, in one statement: the skills of a page of people (each person's best
    /// first) and their time zones and working hours, and the people from `me` down to `node`'s manager (read by the
    /// ids on `node`'s path) for its breadcrumbs.
    static func memberDetails(_ db: PostgresStatements, of ids: [Int64], between me: TeamNode, and node: TeamNode) async throws -> (
        skills: [Int64: [Skill]], hours: [Int64: (timeZone: String?, workingHours: WorkingHours?)], breadcrumbs: [TeamAncestor]
    ) {
        let between = node.id == me.id ? [] : node.orgPath.dropFirst(me.orgPath.count).split(separator: "/").dropLast().compactMap { Int64($0) }
        let rows = try await db.connection.rows(
            PreparedQuery<TeamMemberDetails> {
                $0.append(ids)
                $0.append(Array(between))
            }
        ).map { try $0.decode((String, Int64, String?, String?, Int?, String?, String?, Date?).self) }
        var skills: [Int64: [Skill]] = [:]
        var hours: [Int64: (timeZone: String?, workingHours: WorkingHours?)] = [:]
        var crumbs: [Int64: TeamAncestor] = [:]
        for (kind, id, first, second, level, source, taggedBy, taggedAt) in rows {
            switch kind {
            case "skill":
                guard let slug = first, let name = second, let level, let source, let taggedAt else { continue }
                skills[id, default: []].append(
                    Skill(
                        topic: TopicReference(slug: slug, name: name), level: level, source: SkillSource(rawValue: source) ?? .manager,
                        taggedBy: taggedBy, taggedAt: taggedAt))
            case "hours": hours[id] = (timeZone: first, workingHours: WorkingHours(stored: second))
            default: if let handle = first, let name = second { crumbs[id] = TeamAncestor(handle: handle, name: name) }
            }
        }
        return (
            skills.mapValues { $0.sorted { ($1.level, $0.topic.slug) < ($0.level, $1.topic.slug) } }, hours,
            node.id == me.id ? [] : [TeamAncestor(handle: me.handle, name: me.name)] + between.compactMap { crumbs[$0] }
        )
    }

    /// The words of a team search, folded as the full-text index folds them; `nil` for no search.
    static func teamSearchWords(_ text: String?) -> [String]? {
        guard let text else { return nil }
        let words = fold(text).split { !($0.isLetter || $0.isNumber) }.prefix(8).map(String.init)
        return words.isEmpty ? nil : words
    }

    static func fold(_ text: String) -> String {
        text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil).lowercased()
    }
}

/// `memberDetails`' statement, prepared: planning its three parts for a page's ids cost about as much as running them.
enum TeamMemberDetails: PreparedSQL {
    static let name = "skillrelay_team_member_details_v1"
    static let sql = """
        SELECT 'skill', skill.employeeId, topic.slug, topic.name, skill.level, skill.source, tagger.handle, skill.taggedAt
        FROM skill
        JOIN topic ON topic.id = skill.topicId
        LEFT JOIN employee AS tagger ON tagger.id = skill.taggedById
        WHERE skill.employeeId = ANY($1::bigint[])
        UNION ALL
        SELECT 'hours', id, timeZone, workingHours, NULL, NULL, NULL, NULL FROM employee
        WHERE id = ANY($1::bigint[]) AND (timeZone IS NOT NULL OR workingHours IS NOT NULL)
        UNION ALL
        SELECT 'crumb', id, handle, name, NULL, NULL, NULL, NULL FROM employee WHERE id = ANY($2::bigint[])
        """
}

/// One page of a team listing, read in a stable order from the cursor on: SQLite's `TeamListing`, order for order.
/// - no search and no topic: the direct reports, by name, or everyone below in org-chart order;
/// - up to `scanLimit` people below: the subtree in org-chart order, filtered as it is read;
/// - more, with a topic: the topic's tags, best level first, keeping those below;
/// - more, with a search only: the full-text matches in id order, keeping those below.
struct PostgresTeamListing {
    var node: PostgresDirectoryStore.TeamNode
    var query: TeamQuery
    var topic: TopicRow?
    var words: [String]?
    var scanLimit: Int
    var limit: Int

    enum Order: String {
        case directReports = "d"
        case subtree = "s"
        case topic = "t"
        case search = "f"
    }

    struct Listed: Sendable {
        var id: Int64
        var handle: String
        var name: String
        var peopleBelow: Int
        var key: String
    }

    var order: Order {
        if topic == nil && words == nil { return query.everyone ? .subtree : .directReports }
        if node.peopleBelow <= scanLimit { return .subtree }
        return topic != nil ? .topic : .search
    }

    func page(_ db: PostgresStatements) async throws -> (rows: [Listed], previous: TeamCursor?, next: TeamCursor?) {
        let order = self.order
        let cursor = query.cursor.flatMap { cursor in Self.decode(cursor.key, order: order).map { (cursor.direction, $0) } }
        let forward = cursor?.0 != .before
        let filterWords = order == .search ? nil : words
        let sql = statement(order, forward: forward, key: cursor?.1, readAll: filterWords != nil)
        let rows = try await db.rows(sql.query) { row in
            let (id, handle, name, peopleBelow, key) = try row.decode((Int64, String, String, Int, String).self)
            return Listed(id: id, handle: handle, name: name, peopleBelow: peopleBelow, key: key)
        }
        var listed: [Listed] = []
        var more = false
        for row in rows {
            if let filterWords, !Self.matches(name: row.name, handle: row.handle, words: filterWords) { continue }
            if listed.count == limit {
                more = true
                break
            }
            listed.append(row)
        }
        if !forward { listed.reverse() }
        let edgeKey = { (row: Listed?) in row.map { Self.encode($0.key, order: order) } ?? query.cursor?.key }
        var previous: TeamCursor?
        var next: TeamCursor?
        if forward {
            if more, let last = listed.last { next = TeamCursor(.after, key: Self.encode(last.key, order: order)) }
            if cursor != nil, let key = edgeKey(listed.first) { previous = TeamCursor(.before, key: key) }
        } else {
            if more, let first = listed.first { previous = TeamCursor(.before, key: Self.encode(first.key, order: order)) }
            if let key = edgeKey(listed.last) { next = TeamCursor(.after, key: key) }
        }
        return (listed, previous, next)
    }

    /// Each order's query. Without a filter in Swift it reads one row beyond the page (`LIMIT`); with one, the subtree
    /// it reads is at most `scanLimit` people.
    func statement(_ order: Order, forward: Bool, key: String?, readAll: Bool) -> DynamicSQL {
        let columns = "employee.id, employee.handle, employee.name, employee.peopleBelow"
        let direction = forward ? "ASC" : "DESC"
        let compare = forward ? ">" : "<"
        let (lower, upper) = PostgresDirectoryStore.subtreeRange(node.orgPath)
        var sql = DynamicSQL()
        let text: String
        switch order {
        case .directReports:
            let manager = sql.bind(node.id)
            var after = ""
            if let key {
                let parts = key.split(separator: "\u{1F}", maxSplits: 1, omittingEmptySubsequences: false)
                let name = sql.bind(String(parts[0]))
                let handle = sql.bind(parts.count > 1 ? String(parts[1]) : "")
                after =
                    " AND (employee.name COLLATE \"C\", employee.handle COLLATE \"C\") \(compare) (\(name) COLLATE \"C\", \(handle) COLLATE \"C\")"
            }
            text = """
                SELECT \(columns), employee.name || chr(31) || employee.handle FROM employee
                WHERE employee.managerId = \(manager) AND employee.isActive\(after)
                ORDER BY employee.name COLLATE "C" \(direction), employee.handle COLLATE "C" \(direction)
                """
        case .subtree:
            let from = sql.bind(forward ? max(lower, key ?? lower) : lower)
            let to = sql.bind(forward ? upper : min(upper, key ?? upper))
            var tagged = ""
            if let topic {
                let topicID = sql.bind(topic.id)
                let level = sql.bind(query.minimumLevel)
                tagged =
                    " AND EXISTS (SELECT 1 FROM skill WHERE skill.employeeId = employee.id AND skill.topicId = \(topicID) AND skill.level >= \(level))"
            }
            text = """
                SELECT \(columns), employee.orgPath FROM employee
                WHERE employee.orgPath COLLATE "C" > \(from) AND employee.orgPath COLLATE "C" < \(to) AND employee.isActive\(tagged)
                ORDER BY employee.orgPath COLLATE "C" \(direction)
                """
        case .topic:
            // Best first: forward is descending (level, id).
            let topicCompare = forward ? "<" : ">"
            let topicDirection = forward ? "DESC" : "ASC"
            let topicID = sql.bind(topic?.id ?? 0)
            let level = sql.bind(query.minimumLevel)
            let from = sql.bind(lower)
            let to = sql.bind(upper)
            var after = ""
            if let key {
                let parts = key.split(separator: ":").compactMap { Int64($0) }
                let afterLevel = sql.bind(parts.first ?? 0)
                let afterID = sql.bind(parts.count > 1 ? parts[1] : 0)
                after = " AND (skill.level, skill.employeeId) \(topicCompare) (\(afterLevel), \(afterID))"
            }
            text = """
                SELECT \(columns), skill.level::text || ':' || skill.employeeId::text
                FROM skill JOIN employee ON employee.id = skill.employeeId
                WHERE skill.topicId = \(topicID) AND skill.level >= \(level) AND employee.orgPath COLLATE "C" > \(from)
                    AND employee.orgPath COLLATE "C" < \(to) AND employee.isActive\(after)
                ORDER BY skill.level \(topicDirection), skill.employeeId \(topicDirection)
                """
        case .search:
            let match = PostgresDirectoryStore.searchQuery(&sql, words: words ?? [])
            let from = sql.bind(lower)
            let to = sql.bind(upper)
            var after = ""
            if let key { after = " AND employee.id \(compare) \(sql.bind(Int64(key) ?? 0))" }
            text = """
                SELECT \(columns), employee.id::text FROM employee
                WHERE employee.search @@ \(match) AND employee.orgPath COLLATE "C" > \(from) AND employee.orgPath COLLATE "C" < \(to)
                    AND employee.isActive\(after)
                ORDER BY employee.id \(direction)
                """
        }
        sql.append(text)
        if !readAll { sql.append(" LIMIT \(limit + 1)") }
        return sql
    }

    /// Whether every word begins a word of the name or the handle.
    static func matches(name: String, handle: String, words: [String]) -> Bool {
        let tokens = PostgresDirectoryStore.fold(name + " " + handle).split { !($0.isLetter || $0.isNumber) }
        return words.allSatisfy { word in tokens.contains { $0.hasPrefix(word) } }
    }

    /// A cursor's key as the page shows it: the order it belongs to and the row's sort key, base64url. A cursor from
    /// another order (the search changed, or the team grew past `scanLimit`) starts the listing over.
    static func encode(_ key: String, order: Order) -> String {
        Data((order.rawValue + key).utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: String, order: Order) -> String? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let key = String(data: data, encoding: .utf8), key.hasPrefix(order.rawValue) else { return nil }
        return String(key.dropFirst(order.rawValue.count))
    }
}
