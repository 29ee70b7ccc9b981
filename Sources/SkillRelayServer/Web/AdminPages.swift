import Foundation
import Hummingbird
import SkillRelayDomain

/// The admin's page: the numbers, who the IM cannot reach, the topic tree and its aliases, tokens, and the compliance
/// log's export. Each change goes through the directory store or the question service, which refuse anyone but an admin.
struct AdminPages {
    let store: any DirectoryStore
    let topicTree: any TopicTreeStore
    let questions: QuestionService
    let stats: StatsService
    let reach: (any ReachStore)?
    let clock: any WallClock

    func addRoutes(to group: RouterGroup<WebRequestContext>) {
        group.get("admin", use: show)
        group.post("admin/topics", use: createTopic)
        group.post("admin/topics/edit", use: editTopic)
        group.post("admin/aliases", use: addAlias)
        group.post("admin/topics/:slug/aliases/remove", use: removeAlias)
        group.post("admin/tokens", use: createToken)
        group.post("admin/tokens/:id/revoke", use: revokeToken)
        group.get("admin/compliance-log", use: exportComplianceLog)
    }

    struct StatsContent {
        var asked: Int
        var shareAnswered: String
        var medianFirstAnswer: String
        var p90FirstAnswer: String
        var answersPerQuestion: String
        var open: Int
        var answered: Int
        var expired: Int
        var cancelled: Int
        var hasUnanswered: Bool
        var unansweredTopics: [UnansweredRow]
        var hasInterrupted: Bool
        var mostInterrupted: [QuestionStats.InterruptedSpecialist]
        var routing: RoutingContent
    }

    /// The routing's own figures, as the page shows them.
    struct RoutingContent {
        var policy: String
        var halfLifeDays: String
        var deliveries: Int
        var answeredInTime: String
        var passed: String
        var unanswered: String
        var trials: String
        var peopleLearned: Int
        var pairsLearned: Int
    }

    struct UnansweredRow {
        var slug: String
        var name: String
        var unanswered: Int
        var asked: Int
    }

    struct AliasItem {
        var alias: String
        var topicSlug: String
    }

    struct TopicItem {
        var slug: String
        var name: String
        var depth: Int
        var childCount: Int
        /// Opens the topic's branch, when it has children.
        var expandLink: String?
        var aliases: [AliasItem]
    }

    struct TopicCrumb {
        var name: String
        /// `nil` for the branch shown.
        var link: String?
    }

    /// The topic tree a branch (or a search) and a page at a time.
    struct TopicsContent {
        var search: String?
        var isSearch: Bool
        var hasPath: Bool
        var path: [TopicCrumb]
        var items: [TopicItem]
        var isEmpty: Bool
        var summary: String
        var previousLink: String?
        var nextLink: String?
    }

    /// Topics on one page of the admin's tree.
    static let topicsPerPage = 50

    struct TokenItem {
        var id: String
        var owner: String
        var createdAt: String
        var lastUsedAt: String
        var revokedAt: String?
    }

    struct Issued {
        var id: String
        var owner: String
        var secret: String
    }

    /// Whether the IM server reports presence, and what availability is decided by.
    struct PresenceContent {
        var isReported: Bool
        var headline: String
        var detail: String
        var checkedAt: String
    }

    struct AdminContent {
        var stats: StatsContent
        var chart: DailyChart
        var presence: PresenceContent
        /// `nil` with the embedded `local` IM.
        var unreachable: UnreachableList?
        var topics: TopicsContent
        var tokens: [TokenItem]
        var issued: Issued?
        var complianceSince: String
    }

    @Sendable func show(_ request: Request, context: WebRequestContext) async throws -> Response {
        try await page(context, request: request, issued: nil)
    }

    private func page(_ context: WebRequestContext, request: Request?, issued: Issued?) async throws -> Response {
        let caller = try context.requireUser().caller
        let numbers = try await stats.stats(by: caller)
        let daily = try await stats.daily(days: DailyChart.dayCount, now: clock.now(), by: caller)
        func text(_ name: String) -> String? { request?.queryText(name) }
        let topics = try await topicsContent(branch: text("topic"), search: text("q"), page: text("page").flatMap(Int.init) ?? 1)
        // The newest tokens, one page's worth: a page never lists everything.
        let tokens = try await store.tokens(by: caller, page: PageRequest(limit: PageRequest.maximumLimit)).items.map { token in
            TokenItem(
                id: token.id, owner: Self.ownerName(token.owner), createdAt: WebRenderer.format(token.createdAt),
                lastUsedAt: token.lastUsedAt.map(WebRenderer.format) ?? "never", revokedAt: token.revokedAt.map(WebRenderer.format))
        }
        let unreachable = try await reach?.unreachable(by: caller, limit: UnreachablePeople.limit)
        let content = AdminContent(
            stats: Self.statsContent(numbers), chart: DailyChart(daily), presence: Self.presenceContent(questions.presenceReportingSnapshot),
            unreachable: unreachable.map(UnreachableList.init), topics: topics,
            tokens: tokens, issued: issued, complianceSince: Self.day.string(from: clock.now().addingTimeInterval(-30 * 86_400)))
        return try WebRenderer.page("admin", title: "Admin", content: content, context: context, section: .admin)
    }

    static func presenceContent(_ snapshot: PresenceReportingState.Snapshot) -> PresenceContent {
        guard let checkedAt = snapshot.checkedAt else {
            return PresenceContent(
                isReported: true, headline: "Not checked yet whether the IM server reports presence.",
                detail: "Until it is, what it says of people is trusted.", checkedAt: "")
        }
        let checked = "Last checked \(WebRenderer.format(checkedAt))."
        switch snapshot.reporting {
        case .reported:
            return PresenceContent(
                isReported: true, headline: "The IM server reports presence.",
                detail: "Questions go to people it shows as available, within their working hours.", checkedAt: checked)
        case .notReported:
            return PresenceContent(
                isReported: false, headline: "The IM server does not report presence: it calls everyone offline.",
                detail:
                    "Questions go to people within their working hours, those the bot saw in the IM in the last 30 minutes first. "
                    + "On Synapse, presence is switched on with presence.enabled in homeserver.yaml.",
                checkedAt: checked)
        case .unknown:
            return PresenceContent(
                isReported: false, headline: "Not known yet whether the IM server reports presence.",
                detail: "Until it answers, questions go to people within their working hours, as if it did not.", checkedAt: checked)
        }
    }

    static func statsContent(_ numbers: QuestionStats) -> StatsContent {
        StatsContent(
            asked: numbers.asked, shareAnswered: String(format: "%.0f%%", numbers.shareAnswered * 100),
            medianFirstAnswer: duration(numbers.medianFirstAnswerSeconds), p90FirstAnswer: duration(numbers.p90FirstAnswerSeconds),
            answersPerQuestion: String(format: "%.2f", numbers.answersPerQuestion), open: numbers.open, answered: numbers.answered,
            expired: numbers.expired, cancelled: numbers.cancelled, hasUnanswered: !numbers.unansweredTopics.isEmpty,
            unansweredTopics: numbers.unansweredTopics.map {
                UnansweredRow(slug: $0.topic.slug, name: $0.topic.name, unanswered: $0.unanswered, asked: $0.asked)
            },
            hasInterrupted: !numbers.mostInterrupted.isEmpty, mostInterrupted: numbers.mostInterrupted,
            routing: routingContent(numbers.routing))
    }

    static func routingContent(_ figures: RoutingFigures) -> RoutingContent {
        func percent(_ share: Double) -> String { String(format: "%.0f%%", share * 100) }
        return RoutingContent(
            policy: figures.policy == .learned ? "learned from outcomes" : "static (by tags alone)",
            halfLifeDays: String(format: "%g", figures.halfLifeDays), deliveries: figures.deliveries,
            answeredInTime: percent(figures.answeredInTimeShare), passed: percent(figures.passedShare),
            unanswered: percent(figures.unansweredShare), trials: percent(figures.trialShare), peopleLearned: figures.peopleLearned,
            pairsLearned: figures.pairsLearned)
    }

    /// "–" when there is nothing to measure, else seconds, minutes or hours.
    static func duration(_ seconds: Double?) -> String {
        guard let seconds else { return "–" }
        if seconds < 10 { return String(format: "%.1f s", seconds) }
        if seconds < 90 { return String(format: "%.0f s", seconds) }
        if seconds < 5400 { return String(format: "%.1f min", seconds / 60) }
        return String(format: "%.1f h", seconds / 3600)
    }

    /// One page of a branch of the topic tree (the top level without one), or of a search.
    private func topicsContent(branch: String?, search: String?, page: Int) async throws -> TopicsContent {
        let page = max(1, min(page, 10_000))
        let listing = try await topicTree.topicBranch(
            under: branch, matching: search, limit: Self.topicsPerPage, offset: (page - 1) * Self.topicsPerPage)
        let shownBranch = search == nil ? listing.path.last?.slug : nil
        let items = listing.topics.map { node in
            TopicItem(
                slug: node.topic.slug, name: node.topic.name, depth: 0, childCount: node.childCount,
                expandLink: node.childCount > 0 ? Self.topicsLink(branch: node.topic.slug, search: nil, page: 1) : nil,
                aliases: node.topic.aliases.map { AliasItem(alias: $0, topicSlug: node.topic.slug) })
        }
        var path = [TopicCrumb(name: "All topics", link: Self.topicsLink(branch: nil, search: nil, page: 1))]
        path += listing.path.map { TopicCrumb(name: $0.name, link: Self.topicsLink(branch: $0.slug, search: nil, page: 1)) }
        path[path.count - 1].link = nil
        let first = (page - 1) * Self.topicsPerPage
        let summary =
            listing.total == 0
            ? (search == nil ? "No topics here." : "No topic matches.")
            : "\(first + 1)–\(first + items.count) of \(listing.total) \(search == nil ? "topics here" : "matching topics")."
        return TopicsContent(
            search: search, isSearch: search != nil, hasPath: search == nil && !listing.path.isEmpty, path: path, items: items,
            isEmpty: items.isEmpty, summary: summary,
            previousLink: page > 1 ? Self.topicsLink(branch: shownBranch, search: search, page: page - 1) : nil,
            nextLink: first + items.count < listing.total ? Self.topicsLink(branch: shownBranch, search: search, page: page + 1) : nil)
    }

    /// The address of a page of the topic tree.
    static func topicsLink(branch: String?, search: String?, page: Int) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        var items: [String] = []
        if let branch { items.append("topic=" + (branch.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")) }
        if let search { items.append("q=" + (search.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")) }
        if page > 1 { items.append("page=\(page)") }
        return "/admin" + (items.isEmpty ? "" : "?" + items.joined(separator: "&")) + "#topics"
    }

    static func ownerName(_ owner: APIToken.Owner) -> String {
        switch owner {
        case .employee(let handle): "employee \(handle)"
        case .bot(let name): "bot \(name)"
        }
    }

    @Sendable func createTopic(_ request: Request, context: WebRequestContext) async throws -> Response {
        guard let slug = context.form.text("slug"), let name = context.form.text("name") else {
            throw DirectoryError.invalidField("slug", "and name are required")
        }
        let topic = Topic(slug: slug, name: name, description: context.form.text("description") ?? "", parentSlug: context.form.text("parent"))
        let created = try await store.createTopic(topic, by: try context.requireUser().caller)
        context.leaveNotice("Topic \(created.topic.name) (\(created.topic.slug)) created.")
        return WebRenderer.seeOther("/admin#topics")
    }

    /// Renames a topic, moves it under another parent or to the top, or gives it a new description; a field left
    /// empty stays as it is. The store refuses a move under the topic's own subtree.
    @Sendable func editTopic(_ request: Request, context: WebRequestContext) async throws -> Response {
        guard let slug = context.form.text("topic") else { throw DirectoryError.invalidField("topic", "is required") }
        let parent = context.form.text("parent")
        let makeRoot = context.form.text("root") != nil
        if makeRoot, parent != nil { throw DirectoryError.invalidField("parent", "must be empty when the topic moves to the top") }
        let patch = TopicPatch(
            name: context.form.text("name"), description: context.form.text("description"),
            parentSlug: makeRoot ? .some(nil) : parent.map { .some($0) })
        guard patch != TopicPatch() else {
            throw DirectoryError.invalidField("topic", "needs something to change: a new name, parent or description")
        }
        let detail = try await store.updateTopic(slug, with: patch, by: try context.requireUser().caller)
        let place = detail.topic.parentSlug.map { "under \($0)" } ?? "at the top"
        context.leaveNotice("Topic \(detail.topic.name) (\(detail.topic.slug)) saved, \(place).")
        return WebRenderer.seeOther("/admin#topics")
    }

    @Sendable func addAlias(_ request: Request, context: WebRequestContext) async throws -> Response {
        guard let topic = context.form.text("topic"), let alias = context.form.text("alias") else {
            throw DirectoryError.invalidField("alias", "and topic are required")
        }
        let detail = try await store.addAlias(alias, to: topic, by: try context.requireUser().caller)
        context.leaveNotice("\(detail.topic.name) has the alias \(alias) now.")
        return WebRenderer.seeOther("/admin#topics")
    }

    @Sendable func removeAlias(_ request: Request, context: WebRequestContext) async throws -> Response {
        guard let alias = context.form.text("alias") else { throw DirectoryError.invalidField("alias", "is required") }
        let detail = try await store.removeAlias(alias, from: try context.parameters.require("slug"), by: try context.requireUser().caller)
        context.leaveNotice("Alias \(alias) removed from \(detail.topic.name).")
        return WebRenderer.seeOther("/admin#topics")
    }

    /// Shows the new secret once, on this response, rather than keeping it anywhere for a redirect.
    @Sendable func createToken(_ request: Request, context: WebRequestContext) async throws -> Response {
        guard let name = context.form.text("owner") else { throw DirectoryError.invalidField("owner", "is required") }
        let owner: APIToken.Owner =
            switch context.form.text("kind") {
            case "bot": .bot(name)
            case "employee", nil: .employee(name)
            default: throw DirectoryError.invalidField("kind", "must be employee or bot")
            }
        let issued = try await store.createToken(for: owner, by: try context.requireUser().caller)
        return try await page(context, request: nil, issued: Issued(id: issued.token.id, owner: Self.ownerName(owner), secret: issued.secret))
    }

    @Sendable func revokeToken(_ request: Request, context: WebRequestContext) async throws -> Response {
        let token = try await store.revokeToken(try context.parameters.require("id"), by: try context.requireUser().caller)
        context.leaveNotice("Token \(token.id) revoked.")
        return WebRenderer.seeOther("/admin#tokens")
    }

    /// The compliance log from one day (and before another) as a JSON-lines download, as `skillrelay log export` writes it.
    @Sendable func exportComplianceLog(_ request: Request, context: WebRequestContext) async throws -> Response {
        let caller = try context.requireUser().caller
        guard let sinceText = request.uri.queryParameters["since"], let since = Self.day.date(from: String(sinceText)) else {
            throw APIError.badRequest("Choose the first day, as YYYY-MM-DD.", code: "invalid_parameter")
        }
        var until: Date?
        if let untilText = request.uri.queryParameters["until"], !untilText.isEmpty {
            guard let date = Self.day.date(from: String(untilText)) else {
                throw APIError.badRequest("The last day must be YYYY-MM-DD.", code: "invalid_parameter")
            }
            until = date
        }
        let entries = try await questions.complianceEntries(since: since, until: until, by: caller)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        encoder.dateEncodingStrategy = .iso8601
        var body = ByteBuffer()
        for entry in entries {
            body.writeBytes(try encoder.encode(entry))
            body.writeString("\n")
        }
        context.logger.info("compliance log exported on the web", metadata: ["skillrelay.entries": "\(entries.count)"])
        return Response(
            status: .ok,
            headers: [
                .contentType: "application/x-ndjson; charset=utf-8", .cacheControl: "no-store",
                .contentDisposition: "attachment; filename=\"skillrelay-compliance-\(Self.day.string(from: since)).jsonl\"",
            ],
            body: .init(byteBuffer: body))
    }

    /// Days as YYYY-MM-DD, in UTC.
    static var day: DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter
    }
}
