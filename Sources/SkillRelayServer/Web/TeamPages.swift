import Foundation
import Hummingbird
import SkillRelayDomain

/// A manager's team a page at a time: the direct reports of the manager (or of someone below, drilled down to), each with
/// how many people are below them, or everyone below who matches a search or a topic. Tagging, re-levelling and removing
/// go through the directory store, which applies `DirectoryPolicy` as it does for the API, and come back to the same page.
struct TeamPages {
    let store: any DirectoryStore
    let team: any TeamStore
    let reach: (any ReachStore)?
    let suggestions: any SuggestionStore

    func addRoutes(to group: RouterGroup<WebRequestContext>) {
        group.get("team", use: show)
        group.post("team/:handle/skills", use: tag)
        group.post("team/:handle/skills/remove", use: untag)
        group.post("team/suggestions/:id/accept", use: acceptSuggestion)
        group.post("team/suggestions/:id/dismiss", use: dismissSuggestion)
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
        var peopleBelow: Int
        var teamLink: String?
        /// `Mon-Fri 09:00-17:30 (Europe/Berlin)`, when they have working hours or a time zone.
        var workingTime: String?
        var hasSkills: Bool
        var skills: [SkillItem]
    }

    struct Crumb {
        var name: String
        /// `nil` for the page itself.
        var link: String?
    }

    struct LevelOption {
        var value: Int
        var selected: Bool
    }

    struct TeamContent {
        var managerName: String
        var managerHandle: String
        var isMe: Bool
        var peopleBelow: Int
        var hasUnder: Bool
        var hasBreadcrumbs: Bool
        var breadcrumbs: [Crumb]
        var search: String?
        var topic: String?
        var levels: [LevelOption]
        var isFiltered: Bool
        var clearLink: String
        var everyoneLink: String
        var heading: String
        var members: [Member]
        var isEmpty: Bool
        var previousLink: String?
        var nextLink: String?
        /// This page's own address, for the forms to come back to.
        var back: String
        /// Shown only when someone is unreachable.
        var unreachable: UnreachableList?
        /// Shown only when there is something to decide.
        var suggestions: SuggestionsSection?
    }

    @Sendable func show(_ request: Request, context: WebRequestContext) async throws -> Response {
        let caller = try context.requireUser().caller
        func text(_ name: String) -> String? { request.queryText(name) }
        let cursor: TeamCursor? =
            if let after = text("after") { TeamCursor(.after, key: after) } else if let before = text("before") {
                TeamCursor(.before, key: before)
            } else { nil }
        let query = TeamQuery(
            under: text("under"), everyone: text("all") != nil, search: text("q"), topic: text("topic")?.lowercased(),
            minimumLevel: text("level").flatMap(Int.init).map { min(max($0, 1), 5) } ?? 1, cursor: cursor)
        let page = try await team.teamPage(query, by: caller)
        let members = page.members.map { member in
            Member(
                handle: member.handle, name: member.name, peopleBelow: member.peopleBelow,
                teamLink: member.peopleBelow > 0 ? Self.link(TeamQuery(under: member.handle)) : nil,
                workingTime: Self.workingTime(member.workingHours, timeZone: member.timeZone), hasSkills: !member.skills.isEmpty,
                skills: member.skills.map { skill in
                    SkillItem(
                        topicName: skill.topic.name, topicSlug: skill.topic.slug, sourceText: Self.describe(skill),
                        levels: (1...5).map { Level(value: $0, current: $0 == skill.level) })
                })
        }
        let under = page.breadcrumbs.isEmpty ? nil : page.manager.handle
        var crumbs = page.breadcrumbs.enumerated().map { index, person in
            Crumb(name: person.name, link: Self.link(TeamQuery(under: index == 0 ? nil : person.handle)))
        }
        if !crumbs.isEmpty { crumbs.append(Crumb(name: page.manager.name, link: nil)) }
        /// This listing, from another place.
        func listing(_ cursor: TeamCursor?) -> String {
            var same = query
            same.under = under
            same.cursor = cursor
            return Self.link(same)
        }
        let isFiltered = !query.isDirectReports
        let heading =
            if query.everyone && query.search == nil && query.topic == nil {
                "Everyone below \(page.manager.name), in org-chart order"
            } else if isFiltered {
                "People below \(page.manager.name) who match"
            } else {
                under == nil ? "Your direct reports" : "Direct reports of \(page.manager.name)"
            }
        // Only the first view of one's own team lists who the IM cannot reach.
        let unreachable =
            under == nil && !isFiltered && cursor == nil ? try await reach?.unreachable(reportingTo: caller, limit: UnreachablePeople.limit) : nil
        // Suggestions come with the first view of a team, about everyone below its manager.
        let suggestions =
            !isFiltered && cursor == nil
            ? try await suggestionsSection(below: page.manager.handle, after: text("suggestions"), back: listing(nil), caller: caller) : nil
        let content = TeamContent(
            managerName: page.manager.name, managerHandle: page.manager.handle, isMe: under == nil, peopleBelow: page.manager.peopleBelow,
            hasUnder: under != nil, hasBreadcrumbs: !crumbs.isEmpty, breadcrumbs: crumbs, search: query.search, topic: query.topic,
            levels: (1...5).map { LevelOption(value: $0, selected: $0 == query.minimumLevel) }, isFiltered: isFiltered,
            clearLink: Self.link(TeamQuery(under: under)), everyoneLink: Self.link(TeamQuery(under: under, everyone: true)), heading: heading,
            members: members, isEmpty: members.isEmpty,
            previousLink: page.previous.map(listing), nextLink: page.next.map(listing), back: listing(cursor),
            unreachable: unreachable.flatMap { $0.total > 0 ? UnreachableList($0) : nil }, suggestions: suggestions)
        return try WebRenderer.page("team", title: "My team", content: content, context: context, section: .team)
    }

    /// The address of a team page.
    static func link(_ query: TeamQuery) -> String {
        var items: [(String, String)] = []
        if let under = query.under { items.append(("under", under)) }
        if query.everyone { items.append(("all", "1")) }
        if let search = query.search { items.append(("q", search)) }
        if let topic = query.topic { items.append(("topic", topic)) }
        if query.minimumLevel > 1 { items.append(("level", String(query.minimumLevel))) }
        if let cursor = query.cursor { items.append((cursor.direction == .after ? "after" : "before", cursor.key)) }
        guard !items.isEmpty else { return "/team" }
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return "/team?" + items.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
    }

    /// Where a form goes back to: the team page it was posted from, never another place.
    static func back(_ form: FormFields, handle: String) -> String {
        backPage(form) + "#p-\(handle)"
    }

    /// The team page a form was posted from, never another place.
    static func backPage(_ form: FormFields) -> String {
        var page = "/team"
        if let back = form.text("back"), back == "/team" || back.hasPrefix("/team?"),
            !back.contains(where: { $0.isWhitespace || $0 == "\\" || $0 == "#" || $0.asciiValue.map { $0 < 0x20 } ?? false })
        {
            page = back
        }
        return page
    }

    /// Working hours and time zone in a few words, or `nil` when neither is set.
    static func workingTime(_ hours: WorkingHours?, timeZone: String?) -> String? {
        switch (hours, timeZone) {
        case (nil, nil): nil
        case (let hours?, nil): "\(hours) (UTC)"
        case (nil, let zone?): "any time (\(zone))"
        case (let hours?, let zone?): "\(hours) (\(zone))"
        }
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
        // A person's skills share one form on the page: a level button sends `set=topic:level`; the tag form sends
        // `topic` and `level`.
        var topic = context.form.text("topic")
        var levelText = context.form.text("level")
        if let set = context.form.text("set"), let colon = set.lastIndex(of: ":") {
            topic = String(set[..<colon])
            levelText = String(set[set.index(after: colon)...])
        }
        guard let topic, !topic.isEmpty else { throw DirectoryError.invalidField("topic", "is required") }
        guard let level = levelText.flatMap(Int.init) else {
            throw DirectoryError.invalidField("level", "must be a number from 1 to 5")
        }
        let skill = try await store.setSkill(of: handle, topic: topic.lowercased(), level: level, by: try context.requireUser().caller)
        context.leaveNotice("\(handle): \(skill.topic.name) at level \(skill.level).")
        return WebRenderer.seeOther(Self.back(context.form, handle: handle))
    }

    @Sendable func untag(_ request: Request, context: WebRequestContext) async throws -> Response {
        let handle = try context.parameters.require("handle")
        guard let topic = context.form.text("topic") else { throw DirectoryError.invalidField("topic", "is required") }
        try await store.removeSkill(of: handle, topic: topic, by: try context.requireUser().caller)
        context.leaveNotice("\(handle): \(topic) removed.")
        return WebRenderer.seeOther(Self.back(context.form, handle: handle))
    }
}

// MARK: - Suggested skills

extension TeamPages {
    /// Suggestions shown at a time on the team page.
    static let suggestionsPerPage = 20

    struct SuggestionItem {
        var id: String
        var handle: String
        var name: String
        var topicName: String
        var topicSlug: String
        var isSuggested: Bool
        var isStale: Bool
        var evidenceText: String
        var currentLevel: Int?
        var levels: [LevelOption]
    }

    struct SuggestionsSection {
        var items: [SuggestionItem]
        var back: String
        var nextLink: String?
    }

    /// The open suggestions about the people below `handle`, a page at a time; `nil` when there are none.
    func suggestionsSection(below handle: String, after: String?, back: String, caller: Caller) async throws -> SuggestionsSection? {
        // A cursor that is not one this list gave out starts the list over: a stale link, not an error.
        let cursor = after.flatMap { try? PageCursor(decoding: $0, for: .suggestions) }
        let page = try await suggestions.suggestions(below: handle, by: caller, page: PageRequest(limit: Self.suggestionsPerPage, after: cursor))
        guard !page.items.isEmpty else { return nil }
        let items = page.items.map { suggestion in
            let questions = suggestion.evidence == 1 ? "question" : "questions"
            let evidence =
                switch suggestion.kind {
                case .suggested:
                    "Answered \(suggestion.evidence) \(questions) on \(suggestion.topic.name) helpfully, without that tag."
                case .stale:
                    "Tag may be out of date: passed or left unanswered \(suggestion.evidence) of \(suggestion.deliveries) questions on "
                        + "\(suggestion.topic.name) in the last 30 days."
                }
            return SuggestionItem(
                id: suggestion.id, handle: suggestion.handle, name: suggestion.name, topicName: suggestion.topic.name,
                topicSlug: suggestion.topic.slug, isSuggested: suggestion.kind == .suggested, isStale: suggestion.kind == .stale,
                evidenceText: evidence, currentLevel: suggestion.currentLevel, levels: (1...5).map { LevelOption(value: $0, selected: $0 == 3) })
        }
        let separator = back.contains("?") ? "&" : "?"
        return SuggestionsSection(
            items: items, back: back, nextLink: page.next.map { back + separator + "suggestions=" + $0.encoded + "#suggestions" })
    }

    /// Where a suggestion's form goes back to: the team page it was posted from, at its suggestions.
    static func suggestionsBack(_ form: FormFields) -> String {
        backPage(form) + "#suggestions"
    }

    @Sendable func acceptSuggestion(_ request: Request, context: WebRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        var level: Int?
        if let text = context.form.text("level") {
            guard let number = Int(text) else { throw DirectoryError.invalidField("level", "must be a number from 1 to 5") }
            level = number
        }
        let decided = try await suggestions.decide(suggestion: id, .accept(level: level), by: try context.requireUser().caller)
        switch decided.kind {
        case .suggested: context.leaveNotice("\(decided.handle): \(decided.topic.name) at level \(level ?? 0).")
        case .stale: context.leaveNotice("\(decided.handle): \(decided.topic.name) removed.")
        }
        return WebRenderer.seeOther(Self.suggestionsBack(context.form))
    }

    @Sendable func dismissSuggestion(_ request: Request, context: WebRequestContext) async throws -> Response {
        let decided = try await suggestions.decide(suggestion: try context.parameters.require("id"), .dismiss, by: try context.requireUser().caller)
        switch decided.kind {
        case .suggested: context.leaveNotice("\(decided.handle): \(decided.topic.name) not tagged; not suggested again for 90 days.")
        case .stale: context.leaveNotice("\(decided.handle): \(decided.topic.name) kept; not flagged again for 90 days.")
        }
        return WebRenderer.seeOther(Self.suggestionsBack(context.form))
    }
}
