import Foundation
import Hummingbird
import SkillRelayDomain

/// A manager's team: the people below them and their skills, and those of them the IM cannot reach; tagging,
/// re-levelling and removing go through the directory store, which applies `DirectoryPolicy` as it does for the API.
struct TeamPages {
    let store: any DirectoryStore
    let team: any TeamStore
    let reach: (any ReachStore)?

    func addRoutes(to group: RouterGroup<WebRequestContext>) {
        group.get("team", use: show)
        group.post("team/:handle/skills", use: tag)
        group.post("team/:handle/skills/remove", use: untag)
    }

    struct Level {
        var value: Int
        var current: Bool
    }

    struct SkillItem {
        var topicName: String
        var topicSlug: String
        var sourceText: String
        var levels: [Level]
    }

    struct Member {
        var handle: String
        var name: String
        var hasSkills: Bool
        var skills: [SkillItem]
    }

    struct TeamContent {
        var filter: String?
        var count: Int
        var members: [Member]
        /// Shown only when someone is unreachable.
        var unreachable: UnreachableList?
    }

    @Sendable func show(_ request: Request, context: WebRequestContext) async throws -> Response {
        let caller = try context.requireUser().caller
        var profiles = try await team.team(of: caller)
        let filter = request.uri.queryParameters["topic"].map(String.init)?.trimmingCharacters(in: .whitespacesAndNewlines)
        if let filter, !filter.isEmpty {
            let topic = try await store.topic(filter.lowercased()).topic.slug
            profiles = profiles.filter { $0.skills.contains { $0.topic.slug == topic } }
        }
        let members = profiles.map { profile in
            Member(
                handle: profile.employee.handle, name: profile.employee.name, hasSkills: !profile.skills.isEmpty,
                skills: profile.skills.map { skill in
                    SkillItem(
                        topicName: skill.topic.name, topicSlug: skill.topic.slug, sourceText: Self.describe(skill),
                        levels: (1...5).map { Level(value: $0, current: $0 == skill.level) })
                })
        }
        let unreachable = try await reach?.unreachable(reportingTo: caller, limit: UnreachablePeople.limit)
        let content = TeamContent(
            filter: filter?.isEmpty == false ? filter : nil, count: members.count, members: members,
            unreachable: unreachable.flatMap { $0.total > 0 ? UnreachableList($0) : nil })
        return try WebRenderer.page("team", title: "My team", content: content, context: context, section: .team)
    }

    static func describe(_ skill: Skill) -> String {
        switch skill.source {
        case .manager: "level \(skill.level), tagged by \(skill.taggedBy ?? "a manager")"
        case .selfDeclared: "level \(skill.level), self-declared"
        case .imported: "level \(skill.level), imported"
        }
    }

    @Sendable func tag(_ request: Request, context: WebRequestContext) async throws -> Response {
        let handle = try context.parameters.require("handle")
        guard let topic = context.form.text("topic") else { throw DirectoryError.invalidField("topic", "is required") }
        guard let level = context.form.text("level").flatMap(Int.init) else {
            throw DirectoryError.invalidField("level", "must be a number from 1 to 5")
        }
        let skill = try await store.setSkill(of: handle, topic: topic.lowercased(), level: level, by: try context.requireUser().caller)
        context.leaveNotice("\(handle): \(skill.topic.name) at level \(skill.level).")
        return WebRenderer.seeOther("/team#p-\(handle)")
    }

    @Sendable func untag(_ request: Request, context: WebRequestContext) async throws -> Response {
        let handle = try context.parameters.require("handle")
        guard let topic = context.form.text("topic") else { throw DirectoryError.invalidField("topic", "is required") }
        try await store.removeSkill(of: handle, topic: topic, by: try context.requireUser().caller)
        context.leaveNotice("\(handle): \(topic) removed.")
        return WebRenderer.seeOther("/team#p-\(handle)")
    }
}
