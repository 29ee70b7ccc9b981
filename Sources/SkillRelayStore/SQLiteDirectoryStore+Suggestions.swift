import Foundation
import GRDB
import SkillRelayDomain

// The managers' side of suggested skills: the list, and the decisions. The suggestions themselves are recorded by the
// question store, in the transactions of the events behind them (SQLiteQuestionStore+Suggestions).
extension SQLiteDirectoryStore: SuggestionStore {
    // Only those that still apply: a suggested topic not tagged since, a stale tag still there.
    public func suggestions(below handle: String?, by caller: Caller, page: PageRequest) async throws -> ListPage<SkillSuggestion> {
        try DirectoryPolicy.authorize(caller, to: .readTeam)
        return try await database.read { db in
            var range: (lower: String, upper: String)?
            if let top = handle ?? (caller.isAdmin ? nil : caller.handle) {
                guard let node = try Self.teamNodeIfAny(db, handle: top) else { throw DirectoryError.employeeNotFound(top) }
                if !caller.isAdmin, top != caller.handle {
                    guard let me = caller.handle, let mine = try Self.teamNodeIfAny(db, handle: me), node.orgPath.hasPrefix(mine.orgPath) else {
                        throw DirectoryError.employeeNotFound(top)
                    }
                }
                range = Self.subtreeRange(node.orgPath)
            }
            var after = Int64.max
            if let cursor = page.after {
                guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM skillSuggestion WHERE publicId = ?", arguments: [cursor.keys[0]]) else {
                    throw InvalidCursor()
                }
                after = id
            }
            var below: SQL = ""
            if let range { below = "AND employee.orgPath > \(range.lower) AND employee.orgPath < \(range.upper)" }
            let rows = try SQLRequest<Row>(
                literal: """
                    \(Self.suggestionColumns)
                    WHERE skillSuggestion.status = 'open' AND skillSuggestion.id < \(after) AND employee.isActive \(below)
                        AND (skillSuggestion.kind = 'suggested') = (skill.level IS NULL)
                    ORDER BY skillSuggestion.id DESC LIMIT \(page.limit + 1)
                    """
            ).fetchAll(db).map(Self.suggestion(from:))
            return ListPage(rows: rows, limit: page.limit, list: .suggestions) { [$0.id] }
        }
    }

    public func decide(suggestion id: String, _ decision: SuggestionDecision, by caller: Caller) async throws -> SkillSuggestion {
        try DirectoryPolicy.authorize(caller, to: .readTeam)
        return try await database.write { db in
            // Someone not below the caller is "not found", exactly as an id that does not exist: ids cannot be probed.
            guard let row = try SQLRequest<Row>(literal: "\(Self.suggestionColumns) WHERE skillSuggestion.publicId = \(id)").fetchOne(db) else {
                throw DirectoryError.suggestionNotFound(id)
            }
            let suggestion = Self.suggestion(from: row)
            let target = try Self.employeeRecord(db, handle: suggestion.handle)
            let relation = try Self.relation(db, of: target, to: caller)
            guard caller.isAdmin || relation == .belowCaller else {
                throw DirectoryError.suggestionNotFound(id)
            }
            guard suggestion.status == .open else { throw DirectoryError.suggestionDecided(id) }
            var level: Int?
            switch (decision, suggestion.kind) {
            case (.accept(let chosen), .suggested):
                guard let chosen else { throw DirectoryError.invalidField("level", "is required to accept a suggested skill: a number from 1 to 5") }
                _ = try setSkill(db, of: suggestion.handle, topic: suggestion.topic.slug, level: chosen, by: caller)
                level = chosen
            case (.accept(let chosen), .stale):
                guard chosen == nil else { throw DirectoryError.invalidField("level", "is not taken: accepting a stale tag removes it") }
                // Removed by someone else since: accepting then changes nothing but the flag.
                if suggestion.currentLevel != nil { try removeSkill(db, of: suggestion.handle, topic: suggestion.topic.slug, by: caller) }
            case (.dismiss, _):
                break
            }
            let status: SkillSuggestion.Status = decision == .dismiss ? .dismissed : .accepted
            let now = clock.now()
            try db.execute(
                literal: """
                    UPDATE skillSuggestion SET status = \(status.rawValue), decidedAt = \(now), decidedBy = \(caller.auditName), level = \(level),
                        updatedAt = \(now)
                    WHERE publicId = \(id)
                    """)
            var after = ["kind": suggestion.kind.rawValue, "status": status.rawValue]
            if let level { after["level"] = String(level) }
            try audit(
                db, by: caller, entity: "suggestion", key: "\(suggestion.handle)/\(suggestion.topic.slug)",
                action: status == .accepted ? "accept" : "dismiss",
                before: ["kind": suggestion.kind.rawValue, "status": "open", "evidence": String(suggestion.evidence)], after: after)
            guard let decided = try SQLRequest<Row>(literal: "\(Self.suggestionColumns) WHERE skillSuggestion.publicId = \(id)").fetchOne(db)
            else { throw DirectoryError.suggestionNotFound(id) }
            return Self.suggestion(from: decided)
        }
    }

    private static let suggestionColumns: SQL = """
        SELECT skillSuggestion.publicId, skillSuggestion.kind, skillSuggestion.status, skillSuggestion.evidence, skillSuggestion.deliveries,
            skillSuggestion.createdAt, skillSuggestion.updatedAt, employee.handle, employee.name, topic.slug, topic.name AS topicName,
            skill.level AS currentLevel
        FROM skillSuggestion
        JOIN employee ON employee.id = skillSuggestion.employeeId
        JOIN topic ON topic.id = skillSuggestion.topicId
        LEFT JOIN skill ON skill.employeeId = skillSuggestion.employeeId AND skill.topicId = skillSuggestion.topicId
        """

    private static func suggestion(from row: Row) -> SkillSuggestion {
        SkillSuggestion(
            id: row["publicId"], kind: SkillSuggestion.Kind(rawValue: row["kind"]) ?? .suggested,
            status: SkillSuggestion.Status(rawValue: row["status"]) ?? .open, handle: row["handle"], name: row["name"],
            topic: TopicReference(slug: row["slug"], name: row["topicName"]), evidence: row["evidence"], deliveries: row["deliveries"],
            currentLevel: row["currentLevel"], createdAt: row["createdAt"], updatedAt: row["updatedAt"])
    }
}
