import Foundation
import GRDB
import SkillRelayDomain

extension SQLiteDirectoryStore {
    public func setSkill(of handle: String, topic slugOrAlias: String, level: Int, by caller: Caller) async throws -> Skill {
        if case .bot = caller.identity { try DirectoryPolicy.authorize(caller, to: .tagSkill(.unrelated, existing: nil)) }
        return try await database.write { db in try setSkill(db, of: handle, topic: slugOrAlias, level: level, by: caller) }
    }

    public func removeSkill(of handle: String, topic slugOrAlias: String, by caller: Caller) async throws {
        if case .bot = caller.identity { try DirectoryPolicy.authorize(caller, to: .untagSkill(.unrelated, existing: .manager)) }
        try await database.write { db in try removeSkill(db, of: handle, topic: slugOrAlias, by: caller) }
    }

    /// Tags or re-levels inside a transaction: the one path every tag takes (the API, the team page, an accepted
    /// suggestion), so the policy and the audit always apply.
    func setSkill(_ db: Database, of handle: String, topic slugOrAlias: String, level: Int, by caller: Caller) throws -> Skill {
        let target = try Self.employeeRecord(db, handle: handle)
        let topic = try Self.topicRecord(db, slugOrAlias: slugOrAlias)
        let existing = try SkillRecord.fetchOne(db, key: ["employeeId": target.id!, "topicId": topic.id!])
        let relation = try Self.relation(db, of: target, to: caller)
        try DirectoryPolicy.authorize(caller, to: .tagSkill(relation, existing: existing.flatMap { SkillSource(rawValue: $0.source) }))
        try DirectoryValidation.checkLevel(level)
        let tagger = try caller.handle.map { try Self.employeeRecord(db, handle: $0) }
        let record = SkillRecord(
            employeeId: target.id!, topicId: topic.id!, level: level,
            source: DirectoryPolicy.source(ofTagBy: caller, relation: relation).rawValue, taggedById: tagger?.id, taggedAt: clock.now())
        try record.save(db)
        try audit(
            db, by: caller, entity: "skill", key: "\(target.handle)/\(topic.slug)", action: existing == nil ? "create" : "update",
            before: existing.map(Self.snapshot), after: Self.snapshot(record))
        return Skill(
            topic: TopicReference(slug: topic.slug, name: topic.name), level: level, source: SkillSource(rawValue: record.source)!,
            taggedBy: tagger?.handle, taggedAt: record.taggedAt)
    }

    /// Removes a tag inside a transaction, with the policy and the audit.
    func removeSkill(_ db: Database, of handle: String, topic slugOrAlias: String, by caller: Caller) throws {
        let target = try Self.employeeRecord(db, handle: handle)
        let topic = try Self.topicRecord(db, slugOrAlias: slugOrAlias)
        guard let existing = try SkillRecord.fetchOne(db, key: ["employeeId": target.id!, "topicId": topic.id!]) else {
            throw DirectoryError.skillNotFound(handle: handle, topic: topic.slug)
        }
        let relation = try Self.relation(db, of: target, to: caller)
        try DirectoryPolicy.authorize(caller, to: .untagSkill(relation, existing: SkillSource(rawValue: existing.source) ?? .manager))
        try existing.delete(db)
        try audit(
            db, by: caller, entity: "skill", key: "\(target.handle)/\(topic.slug)", action: "delete", before: Self.snapshot(existing),
            after: nil)
    }

    static func snapshot(_ skill: SkillRecord) -> [String: String] {
        ["level": String(skill.level), "source": skill.source]
    }
}
