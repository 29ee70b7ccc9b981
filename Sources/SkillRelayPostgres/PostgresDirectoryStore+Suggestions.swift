import Foundation
import PostgresNIO
import SkillRelayDomain

// The managers' side of suggested skills: the list, and the decisions. The suggestions themselves are recorded by the
// question store, in the transactions of the events behind them.
extension PostgresDirectoryStore: SuggestionStore {
    // Only those that still apply: a suggested topic not tagged since, a stale tag still there.
    public func suggestions(below handle: String?, by caller: Caller, page: PageRequest) async throws -> ListPage<SkillSuggestion> {
        try DirectoryPolicy.authorize(caller, to: .readTeam)
        // Where the people are, then one statement: no snapshot is needed between them (nothing is written), and a
        // transaction would be two round trips more on every team page.
        return try await database.readingWithoutSnapshot { db in
            var range: (lower: String, upper: String)?
            if let top = handle ?? (caller.isAdmin ? nil : caller.handle) {
                let mine = caller.isAdmin || top == caller.handle ? nil : caller.handle
                let nodes = try await Self.teamNodes(db, handles: [top] + (mine.map { [$0] } ?? []))
                guard let node = nodes[top] else { throw DirectoryError.employeeNotFound(top) }
                if !caller.isAdmin, top != caller.handle {
                    guard let mine, let me = nodes[mine], node.orgPath.hasPrefix(me.orgPath) else { throw DirectoryError.employeeNotFound(top) }
                }
                range = Self.subtreeRange(node.orgPath)
            }
            var after = Int64.max
            if let cursor = page.after {
                guard let id = try await db.value("SELECT id FROM skillSuggestion WHERE publicId = \(cursor.keys[0])", Int64.self) else {
                    throw InvalidCursor()
                }
                after = id
            }
            var sql = DynamicSQL()
            let before = sql.bind(after)
            var below = ""
            if let range {
                let lower = sql.bind(range.lower)
                let upper = sql.bind(range.upper)
                below = "AND employee.orgPath COLLATE \"C\" > \(lower) AND employee.orgPath COLLATE \"C\" < \(upper)"
            }
            let limit = sql.bind(page.limit + 1)
            sql.append(
                """
                \(Self.suggestionColumns)
                WHERE skillSuggestion.status = 'open' AND skillSuggestion.id < \(before) AND employee.isActive \(below)
                    AND (skillSuggestion.kind = 'suggested') = (skill.level IS NULL)
                ORDER BY skillSuggestion.id DESC LIMIT \(limit)
                """)
            let rows = try await db.rows(sql.query, Self.suggestion(from:))
            return ListPage(rows: rows, limit: page.limit, list: .suggestions) { [$0.id] }
        }
    }

    public func decide(suggestion id: String, _ decision: SuggestionDecision, by caller: Caller) async throws -> SkillSuggestion {
        try DirectoryPolicy.authorize(caller, to: .readTeam)
        return try await database.writing { db in
            // Someone not below the caller is "not found", exactly as an id that does not exist: ids cannot be probed.
            guard let suggestion = try await Self.suggestion(db, publicID: id) else { throw DirectoryError.suggestionNotFound(id) }
            let target = try await Self.employeeRow(db, handle: suggestion.handle)
            let relation = try await Self.relation(db, of: target, to: caller)
            guard caller.isAdmin || relation == .belowCaller else {
                throw DirectoryError.suggestionNotFound(id)
            }
            guard suggestion.status == .open else { throw DirectoryError.suggestionDecided(id) }
            var level: Int?
            switch (decision, suggestion.kind) {
            case (.accept(let chosen), .suggested):
                guard let chosen else { throw DirectoryError.invalidField("level", "is required to accept a suggested skill: a number from 1 to 5") }
                _ = try await setSkill(db, of: suggestion.handle, topic: suggestion.topic.slug, level: chosen, by: caller)
                level = chosen
            case (.accept(let chosen), .stale):
                guard chosen == nil else { throw DirectoryError.invalidField("level", "is not taken: accepting a stale tag removes it") }
                // Removed by someone else since: accepting then changes nothing but the flag.
                if suggestion.currentLevel != nil { try await removeSkill(db, of: suggestion.handle, topic: suggestion.topic.slug, by: caller) }
            case (.dismiss, _):
                break
            }
            let status: SkillSuggestion.Status = decision == .dismiss ? .dismissed : .accepted
            let now = clock.now()
            try await db.execute(
                """
                UPDATE skillSuggestion SET status = \(status.rawValue), decidedAt = \(now), decidedBy = \(caller.auditName), level = \(level),
                    updatedAt = \(now)
                WHERE publicId = \(id)
                """)
            var after = ["kind": suggestion.kind.rawValue, "status": status.rawValue]
            if let level { after["level"] = String(level) }
            try await audit(
                db, by: caller, entity: "suggestion", key: "\(suggestion.handle)/\(suggestion.topic.slug)",
                action: status == .accepted ? "accept" : "dismiss",
                before: ["kind": suggestion.kind.rawValue, "status": "open", "evidence": String(suggestion.evidence)], after: after)
            guard let decided = try await Self.suggestion(db, publicID: id) else { throw DirectoryError.suggestionNotFound(id) }
            return decided
        }
    }

    private static func suggestion(_ db: PostgresStatements, publicID: String) async throws -> SkillSuggestion? {
        var sql = DynamicSQL()
        let id = sql.bind(publicID)
        sql.append("\(suggestionColumns) WHERE skillSuggestion.publicId = \(id)")
        return try await db.row(sql.query, suggestion(from:))
    }

    private static let suggestionColumns = """
        SELECT skillSuggestion.publicId, skillSuggestion.kind, skillSuggestion.status, skillSuggestion.evidence, skillSuggestion.deliveries,
            skillSuggestion.createdAt, skillSuggestion.updatedAt, employee.handle, employee.name, topic.slug, topic.name,
            skill.level
        FROM skillSuggestion
        JOIN employee ON employee.id = skillSuggestion.employeeId
        JOIN topic ON topic.id = skillSuggestion.topicId
        LEFT JOIN skill ON skill.employeeId = skillSuggestion.employeeId AND skill.topicId = skillSuggestion.topicId
        """

    private static func suggestion(from row: PostgresRow) throws -> SkillSuggestion {
        let (publicID, kind, status, evidence, deliveries, createdAt, updatedAt, handle, name, slug, topicName, currentLevel) = try row.decode(
            (String, String, String, Int, Int, Date, Date, String, String, String, String, Int?).self)
        return SkillSuggestion(
            id: publicID, kind: SkillSuggestion.Kind(rawValue: kind) ?? .suggested, status: SkillSuggestion.Status(rawValue: status) ?? .open,
            handle: handle, name: name, topic: TopicReference(slug: slug, name: topicName), evidence: evidence, deliveries: deliveries,
            currentLevel: currentLevel, createdAt: createdAt, updatedAt: updatedAt)
    }
}
