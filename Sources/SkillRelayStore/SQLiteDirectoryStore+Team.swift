import Foundation
import GRDB
import SkillRelayDomain

// A team page reads at most a page and a bounded look-ahead: the people below a manager are an index range over
// `orgPath` (kept by the triggers of migration "v11 org paths"), never a walk of the org chart.
extension SQLiteDirectoryStore: TeamStore {
    public func teamPage(_ query: TeamQuery, by caller: Caller) async throws -> TeamPage {
        try DirectoryPolicy.authorize(caller, to: .readTeam)
        guard let handle = caller.handle else { throw DirectoryError.forbidden("My team is for managers: nobody reports to you.") }
        let scanLimit = teamScanLimit
        return try await database.read { db in
            let me = try Self.teamNode(db, handle: handle)
            var node = me
            // Someone not below the caller is "not found", exactly as someone who does not exist: the page tells nothing.
            if let under = query.under, under != handle {
                guard let found = try Self.teamNodeIfAny(db, handle: under), found.isActive, found.orgPath.hasPrefix(me.orgPath) else {
                    throw DirectoryError.employeeNotFound(under)
                }
                node = found
            }
            let topic = try query.topic.map { try Self.topicRecord(db, slugOrAlias: $0) }
            let listing = TeamListing(
                node: node, query: query, topic: topic, words: Self.searchWords(query.search), scanLimit: scanLimit,
                limit: max(1, min(query.limit, TeamQuery.maximumLimit)))
            let (rows, previous, next) = try listing.page(db)
            let skills = try Self.skills(db, of: rows.map(\.id) + [node.id])
            let hours = try Self.workingTimes(db, of: rows.map(\.id) + [node.id])
            func member(id: Int64, handle: String, name: String, peopleBelow: Int) -> TeamMember {
                TeamMember(
                    handle: handle, name: name, peopleBelow: peopleBelow, skills: skills[id] ?? [], timeZone: hours[id]?.timeZone,
                    workingHours: hours[id]?.workingHours)
            }
            return TeamPage(
                manager: member(id: node.id, handle: node.handle, name: node.name, peopleBelow: node.peopleBelow),
                breadcrumbs: try Self.breadcrumbs(db, from: me, to: node),
                topic: topic.map { TopicReference(slug: $0.slug, name: $0.name) },
                members: rows.map { member(id: $0.id, handle: $0.handle, name: $0.name, peopleBelow: $0.peopleBelow) },
                previous: previous, next: next)
        }
    }

    // MARK: - Reading the org chart

    /// An employee's place in the org chart.
    struct TeamNode {
        var id: Int64
        var handle: String
        var name: String
        var orgPath: String
        var peopleBelow: Int
        var isActive: Bool

        init(row: Row) {
            id = row["id"]
            handle = row["handle"]
            name = row["name"]
            orgPath = row["orgPath"]
            peopleBelow = row["peopleBelow"]
            isActive = row["isActive"]
        }
    }

    static func teamNodeIfAny(_ db: Database, handle: String) throws -> TeamNode? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT id, handle, name, orgPath, peopleBelow, isActive FROM employee WHERE handle = ?"), arguments: [handle]
        ).map(TeamNode.init(row:))
    }

    static func teamNode(_ db: Database, handle: String) throws -> TeamNode {
        guard let node = try teamNodeIfAny(db, handle: handle) else { throw DirectoryError.employeeNotFound(handle) }
        return node
    }

    /// The bounds of everyone strictly below the owner of `path`: `orgPath > '/1/17/' AND orgPath < '/1/170'` ('0' follows
    /// '/' in ASCII), an index range.
    static func subtreeRange(_ path: String) -> (lower: String, upper: String) {
        (path, String(path.dropLast()) + "0")
    }

    /// The people from `me` down to `node`'s manager, read by the ids on `node`'s path.
    static func breadcrumbs(_ db: Database, from me: TeamNode, to node: TeamNode) throws -> [TeamAncestor] {
        guard node.id != me.id else { return [] }
        let between = node.orgPath.dropFirst(me.orgPath.count).split(separator: "/").dropLast().compactMap { Int64($0) }
        let rows = try Row.fetchAll(
            db, sql: "SELECT id, handle, name FROM employee WHERE id IN (\(databaseQuestionMarks(count: max(between.count, 1))))",
            arguments: StatementArguments(between.isEmpty ? [-1] : between))
        let byID = Dictionary(rows.map { ($0["id"] as Int64, TeamAncestor(handle: $0["handle"], name: $0["name"])) }, uniquingKeysWith: { a, _ in a })
        return [TeamAncestor(handle: me.handle, name: me.name)] + between.compactMap { byID[$0] }
    }

    /// The time zones and working hours of a page of people who have either.
    static func workingTimes(_ db: Database, of ids: [Int64]) throws -> [Int64: (timeZone: String?, workingHours: WorkingHours?)] {
        guard !ids.isEmpty else { return [:] }
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT id, timeZone, workingHours FROM employee
                WHERE id IN (\(databaseQuestionMarks(count: ids.count))) AND (timeZone IS NOT NULL OR workingHours IS NOT NULL)
                """, arguments: StatementArguments(ids))
        return Dictionary(
            rows.map { ($0["id"] as Int64, (timeZone: $0["timeZone"] as String?, workingHours: WorkingHours(stored: $0["workingHours"]))) },
            uniquingKeysWith: { first, _ in first })
    }

    /// The skills of a page of people, each person's best first.
    static func skills(_ db: Database, of ids: [Int64]) throws -> [Int64: [Skill]] {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT skill.employeeId, topic.slug, topic.name, skill.level, skill.source, tagger.handle AS taggedBy, skill.taggedAt
                FROM skill
                JOIN topic ON topic.id = skill.topicId
                LEFT JOIN employee AS tagger ON tagger.id = skill.taggedById
                WHERE skill.employeeId IN (\(databaseQuestionMarks(count: ids.count)))
                """, arguments: StatementArguments(ids))
        return Dictionary(grouping: rows, by: { $0["employeeId"] as Int64 }).mapValues { rows in
            rows.map(skill(from:)).sorted { ($1.level, $0.topic.slug) < ($0.level, $1.topic.slug) }
        }
    }

    /// The words of a search, folded as the full-text index folds them; `nil` for no search.
    static func searchWords(_ text: String?) -> [String]? {
        guard let text else { return nil }
        let words = fold(text).split { !($0.isLetter || $0.isNumber) }.prefix(8).map(String.init)
        return words.isEmpty ? nil : words
    }

    static func fold(_ text: String) -> String {
        text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil).lowercased()
    }
}

/// One page of a team listing, read in a stable order from the cursor on. Which order depends on what is asked and how
/// many people are below:
/// - no search and no topic: the direct reports, by name (`employeeReportsByName`), or everyone below in org-chart
///   order (`employeeByOrgPath`);
/// - up to `scanLimit` people below: the subtree in org-chart order, filtered as it is read;
/// - more, with a topic: the topic's tags, best level first (`skillByTopicLevel`), keeping those below;
/// - more, with a search only: the full-text matches in id order (`employeeSearch`), keeping those below.
/// Each reads at most `scanLimit` rows, or the topic's tags or the search's matches until a page is full.
struct TeamListing {
    var node: SQLiteDirectoryStore.TeamNode
    var query: TeamQuery
    var topic: TopicRecord?
    var words: [String]?
    var scanLimit: Int
    var limit: Int

    enum Order: String {
        case directReports = "d"
        case subtree = "s"
        case topic = "t"
        case search = "f"
    }

    struct Listed {
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

    func page(_ db: Database) throws -> (rows: [Listed], previous: TeamCursor?, next: TeamCursor?) {
        let order = self.order
        let cursor = query.cursor.flatMap { cursor in Self.decode(cursor.key, order: order).map { (cursor.direction, $0) } }
        let forward = cursor?.0 != .before
        let sql = Self.sql(order, forward: forward, hasCursor: cursor != nil, topicInSQL: topic != nil)
        var arguments = StatementArguments()
        let (lower, upper) = SQLiteDirectoryStore.subtreeRange(node.orgPath)
        switch order {
        case .directReports:
            arguments += [node.id]
            if let key = cursor?.1 {
                let parts = key.split(separator: "\u{1F}", maxSplits: 1, omittingEmptySubsequences: false)
                arguments += [String(parts[0]), parts.count > 1 ? String(parts[1]) : ""]
            }
        case .subtree:
            let key = cursor?.1
            arguments += [forward ? max(lower, key ?? lower) : lower, forward ? upper : min(upper, key ?? upper)]
            if let topic { arguments += [topic.id!, query.minimumLevel] }
        case .topic:
            arguments += [topic!.id!, query.minimumLevel, lower, upper]
            if let key = cursor?.1 {
                let parts = key.split(separator: ":").compactMap { Int64($0) }
                arguments += [parts.first ?? 0, parts.count > 1 ? parts[1] : 0]
            }
        case .search:
            arguments += [words!.map { "\"\($0)\"*" }.joined(separator: " "), lower, upper]
            if let key = cursor?.1 { arguments += [Int64(key) ?? 0] }
        }
        let filterWords = order == .search ? nil : words
        let rows = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
        var listed: [Listed] = []
        var more = false
        while let row = try rows.next() {
            if let filterWords, !Self.matches(name: row["name"], handle: row["handle"], words: filterWords) { continue }
            if listed.count == limit {
                more = true
                break
            }
            listed.append(Listed(id: row["id"], handle: row["handle"], name: row["name"], peopleBelow: row["peopleBelow"], key: row["key"]))
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

    /// Each order's query; every one reads an index in the order it pages in (a test checks the plans).
    /// The indexes are named (`INDEXED BY`): with `isActive = 1` in every query, the planner would otherwise take the
    /// API's list index, `employeeByActiveName`, which leads with it, and sort the whole company.
    static func sql(_ order: Order, forward: Bool, hasCursor: Bool, topicInSQL: Bool) -> String {
        let columns = "employee.id, employee.handle, employee.name, employee.peopleBelow"
        let direction = forward ? "ASC" : "DESC"
        let compare = forward ? ">" : "<"
        switch order {
        case .directReports:
            return """
                SELECT \(columns), employee.name || char(31) || employee.handle AS key FROM employee INDEXED BY employeeReportsByName
                WHERE employee.managerId = ? AND employee.isActive = 1\(hasCursor ? " AND (employee.name, employee.handle) \(compare) (?, ?)" : "")
                ORDER BY employee.name \(direction), employee.handle \(direction)
                """
        case .subtree:
            let tagged =
                topicInSQL
                ? " AND EXISTS (SELECT 1 FROM skill WHERE skill.employeeId = employee.id AND skill.topicId = ? AND skill.level >= ?)" : ""
            return """
                SELECT \(columns), employee.orgPath AS key FROM employee INDEXED BY employeeByOrgPath
                WHERE employee.orgPath > ? AND employee.orgPath < ? AND employee.isActive = 1\(tagged)
                ORDER BY employee.orgPath \(direction)
                """
        case .topic:
            // Best first: forward is descending (level, id).
            let topicCompare = forward ? "<" : ">"
            let topicDirection = forward ? "DESC" : "ASC"
            return """
                SELECT \(columns), skill.level || ':' || skill.employeeId AS key
                FROM skill CROSS JOIN employee ON employee.id = skill.employeeId
                WHERE skill.topicId = ? AND skill.level >= ? AND employee.orgPath > ? AND employee.orgPath < ? AND employee.isActive = 1\(
                    hasCursor ? " AND (skill.level, skill.employeeId) \(topicCompare) (?, ?)" : "")
                ORDER BY skill.level \(topicDirection), skill.employeeId \(topicDirection)
                """
        case .search:
            return """
                SELECT \(columns), CAST(employee.id AS TEXT) AS key
                FROM employeeSearch CROSS JOIN employee ON employee.id = employeeSearch.rowid
                WHERE employeeSearch MATCH ? AND employee.orgPath > ? AND employee.orgPath < ? AND employee.isActive = 1\(
                    hasCursor ? " AND employeeSearch.rowid \(compare) ?" : "")
                ORDER BY employeeSearch.rowid \(direction)
                """
        }
    }

    /// Whether every word begins a word of the name or the handle.
    static func matches(name: String, handle: String, words: [String]) -> Bool {
        let tokens = SQLiteDirectoryStore.fold(name + " " + handle).split { !($0.isLetter || $0.isNumber) }
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
