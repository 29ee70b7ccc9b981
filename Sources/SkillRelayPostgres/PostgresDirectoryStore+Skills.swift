import Foundation
import PostgresNIO
import SkillRelayDomain

extension PostgresDirectoryStore {
    public func setSkill(of handle: String, topic slugOrAlias: String, level: Int, by caller: Caller) async throws -> Skill {
        if case .bot = caller.identity { try DirectoryPolicy.authorize(caller, to: .tagSkill(.unrelated, existing: nil)) }
        return try await database.writing { db in try await setSkill(db, of: handle, topic: slugOrAlias, level: level, by: caller) }
    }

    public func removeSkill(of handle: String, topic slugOrAlias: String, by caller: Caller) async throws {
        if case .bot = caller.identity { try DirectoryPolicy.authorize(caller, to: .untagSkill(.unrelated, existing: .manager)) }
        try await database.writing { db in try await removeSkill(db, of: handle, topic: slugOrAlias, by: caller) }
    }

    /// Tags or re-levels inside a transaction: the one path every tag takes (the API, the team page, an accepted
    /// suggestion), so the policy and the audit always apply.
    func setSkill(_ db: PostgresStatements, of handle: String, topic slugOrAlias: String, level: Int, by caller: Caller) async throws -> Skill {
        let target = try await Self.employeeRow(db, handle: handle)
        let topic = try await Self.topicRow(db, slugOrAlias: slugOrAlias)
        let existing = try await Self.skillRow(db, employee: target.id, topic: topic.id)
        let relation = try await Self.relation(db, of: target, to: caller)
        try DirectoryPolicy.authorize(caller, to: .tagSkill(relation, existing: existing.flatMap { SkillSource(rawValue: $0.source) }))
        try DirectoryValidation.checkLevel(level)
        var tagger: EmployeeRow?
        if let taggerHandle = caller.handle { tagger = try await Self.employeeRow(db, handle: taggerHandle) }
        let source = DirectoryPolicy.source(ofTagBy: caller, relation: relation).rawValue
        let taggedAt = clock.now()
        try await db.execute(
            """
            INSERT INTO skill (employeeId, topicId, level, source, taggedById, taggedAt)
            VALUES (\(target.id), \(topic.id), \(level), \(source), \(tagger?.id), \(taggedAt))
            ON CONFLICT (employeeId, topicId) DO UPDATE SET level = excluded.level, source = excluded.source,
                taggedById = excluded.taggedById, taggedAt = excluded.taggedAt
            """)
        try await audit(
            db, by: caller, entity: "skill", key: "\(target.handle)/\(topic.slug)", action: existing == nil ? "create" : "update",
            before: existing.map(Self.snapshot), after: Self.snapshot((level, source)))
        return Skill(
            topic: TopicReference(slug: topic.slug, name: topic.name), level: level, source: SkillSource(rawValue: source) ?? .manager,
            taggedBy: tagger?.handle, taggedAt: taggedAt)
    }

    /// Removes a tag inside a transaction, with the policy and the audit.
    func removeSkill(_ db: PostgresStatements, of handle: String, topic slugOrAlias: String, by caller: Caller) async throws {
        let target = try await Self.employeeRow(db, handle: handle)
        let topic = try await Self.topicRow(db, slugOrAlias: slugOrAlias)
        guard let existing = try await Self.skillRow(db, employee: target.id, topic: topic.id) else {
            throw DirectoryError.skillNotFound(handle: handle, topic: topic.slug)
        }
        let relation = try await Self.relation(db, of: target, to: caller)
        try DirectoryPolicy.authorize(caller, to: .untagSkill(relation, existing: SkillSource(rawValue: existing.source) ?? .manager))
        try await db.execute("DELETE FROM skill WHERE employeeId = \(target.id) AND topicId = \(topic.id)")
        try await audit(
            db, by: caller, entity: "skill", key: "\(target.handle)/\(topic.slug)", action: "delete", before: Self.snapshot(existing),
            after: nil)
    }

    /// An employee's tag with a topic: its level and source.
    static func skillRow(_ db: PostgresStatements, employee: Int64, topic: Int64) async throws -> (level: Int, source: String)? {
        try await db.row("SELECT level, source FROM skill WHERE employeeId = \(employee) AND topicId = \(topic)") { row in
            let (level, source) = try row.decode((Int, String).self)
            return (level, source)
        }
    }

    static func snapshot(_ skill: (level: Int, source: String)) -> [String: String] {
        ["level": String(skill.level), "source": skill.source]
    }
}
