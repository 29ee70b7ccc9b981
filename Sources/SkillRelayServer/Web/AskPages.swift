import Foundation
import Hummingbird
import SkillRelayDomain

/// Asking, and the question's own page where answers arrive live.
struct AskPages {
    let store: any DirectoryStore
    let questions: QuestionService

    func addRoutes(to group: RouterGroup<WebRequestContext>) {
        group.get("ask", use: form)
        group.post("ask", use: ask)
        group.get("suggest/topics", use: suggest)
        group.get("questions/:id", use: show)
        group.get("questions/:id/events", use: events)
        group.post("questions/:id/cancel", use: cancel)
        group.post("questions/:id/ratings", use: rate)
        group.post("questions/:id/answers/:rank/reveal", use: reveal)
        group.post("questions/:id/answers/:rank/messages", use: followUp)
    }

    struct Choice {
        var value: Int
        var selected: Bool
    }

    struct Suggestion {
        var slug: String
        var name: String
    }

    struct AskContent {
        var topic: String
        var text: String
        var maxLength: Int
        var answerChoices: [Choice]
        var error: String?
        var hasSuggestions: Bool
        var suggestions: [Suggestion]
        var hasRecent: Bool
        var recent: [RecentQuestion]
    }

    /// One of the caller's own questions, in the list under the form.
    struct RecentQuestion {
        var id: String
        var topicName: String
        var text: String
        var statusText: String
        var answers: Int
        var askedAt: String
    }

    struct AnswerItem {
        var rank: Int
        var alias: String
        /// What the asker may learn about who answered, unless the label says nothing ("a specialist").
        var label: String
        var hasLabel: Bool
        var text: String
        var rated: Bool
        var ratingText: String
        /// Revealing who they are, answerer and asker; `nil` for a bot's question.
        var reveal: RevealItem?
        /// The answer's thread with its specialist, and whether the page offers to write on it.
        var messages: [ThreadMessage]
        var canFollowUp: Bool
    }

    struct QuestionContent {
        var id: String
        var topicName: String
        var text: String
        var status: String
        var statusText: String
        var isOpen: Bool
        var deliveredTo: Int
        var maxAnswers: Int
        var expiresAt: String
        var hasAnswers: Bool
        var lastRank: Int
        var answers: [AnswerItem]
        /// How many follow-ups the page shows: the event stream replays them first, and the page skips as many.
        var followUpCount: Int
    }

    func askContent(
        topic: String = "", text: String = "", maxAnswers: Int? = nil, error: String? = nil, suggestions: [TopicReference] = [],
        recent: [AskedQuestion] = []
    ) -> AskContent {
        let chosen = maxAnswers ?? questions.defaultMaxAnswers
        return AskContent(
            topic: topic, text: text, maxLength: questions.maxTextLength, answerChoices: (1...10).map { Choice(value: $0, selected: $0 == chosen) },
            error: error, hasSuggestions: !suggestions.isEmpty, suggestions: suggestions.map { Suggestion(slug: $0.slug, name: $0.name) },
            hasRecent: !recent.isEmpty,
            recent: recent.map {
                RecentQuestion(
                    id: $0.id, topicName: $0.topic.name, text: $0.text.count > 140 ? String($0.text.prefix(140)) + "…" : $0.text,
                    statusText: $0.status.rawValue, answers: $0.answers, askedAt: WebRenderer.format($0.createdAt))
            })
    }

    @Sendable func form(_ request: Request, context: WebRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let recent = try await questions.askedQuestions(by: user.caller)
        return try WebRenderer.page("ask", title: "Ask", content: askContent(recent: recent), context: context, section: .ask)
    }

    /// Asks through the question service, as the API does; a question the service refuses comes back with the reason
    /// (and, for a text that fits several topics, the topics to choose from), keeping what was typed.
    @Sendable func ask(_ request: Request, context: WebRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let topic = context.form.text("topic")
        let text = context.form["text"] ?? ""
        guard let asker = Asker(user.caller) else { throw DirectoryError.forbidden("Only employees ask questions.") }
        var maxAnswers: Int?
        if let field = context.form.text("maxAnswers") {
            guard let value = Int(field) else {
                return try retry(context, topic: topic, text: text, error: "How many answers must be a number from 1 to 10.")
            }
            maxAnswers = value
        }
        do {
            let asked = try await questions.ask(QuestionDraft(asker: asker, topic: topic, text: text, maxAnswers: maxAnswers))
            return WebRenderer.seeOther("/questions/\(asked.id)")
        } catch let error as DirectoryError where error.kind == .invalid {
            var suggestions: [TopicReference] = []
            if case .ambiguousTopic(let topics) = error { suggestions = topics }
            return try retry(context, topic: topic, text: text, maxAnswers: maxAnswers, error: Self.explain(error), suggestions: suggestions)
        }
    }

    private func retry(
        _ context: WebRequestContext, topic: String?, text: String, maxAnswers: Int? = nil, error: String, suggestions: [TopicReference] = []
    ) throws -> Response {
        let content = askContent(topic: topic ?? "", text: text, maxAnswers: maxAnswers, error: error, suggestions: suggestions)
        return try WebRenderer.page("ask", title: "Ask", content: content, context: context, section: .ask, status: .unprocessableContent)
    }

    /// Topics for the suggestions under a topic field, from the same full-text search as `GET /v1/topics?q=`.
    @Sendable func suggest(_ request: Request, context: WebRequestContext) async throws -> Response {
        _ = try context.requireUser()
        let query = (request.uri.queryParameters["q"].map(String.init) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard query.count <= 100 else { throw APIError.badRequest("The query parameter 'q' is at most 100 characters.", code: "invalid_parameter") }
        let topics = query.isEmpty ? [] : try await store.topics(matching: query, limit: 8, offset: 0).topics
        let body = EventEncoding.json(SuggestionsResponse(topics: topics.map { .init(slug: $0.slug, name: $0.name) }))
        return Response(
            status: .ok, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    struct SuggestionsResponse: Encodable {
        struct Topic: Encodable {
            var slug: String
            var name: String
        }
        var topics: [Topic]
    }

    @Sendable func show(_ request: Request, context: WebRequestContext) async throws -> Response {
        let user = try context.requireUser()
        let view = try await questions.question(try context.parameters.require("id"), by: user.caller)
        let answers = view.answers.map { answer in
            AnswerItem(
                rank: answer.rank, alias: answer.alias, label: answer.label.text, hasLabel: answer.label.isDetailed, text: answer.text,
                rated: answer.helpful != nil,
                ratingText: answer.helpful == true ? "helpful" : "not helpful",
                reveal: RevealItem(
                    view.reveals[answer.rank] ?? RevealView(state: .none), action: "/questions/\(view.id)/answers/\(answer.rank)/reveal",
                    other: answer.alias),
                messages: view.followUps.filter { $0.rank == answer.rank }.map(ThreadMessage.init), canFollowUp: questions.acceptsFollowUps(view))
        }
        let content = QuestionContent(
            id: view.id, topicName: view.topic.name, text: view.text, status: view.status.rawValue, statusText: view.status.rawValue,
            isOpen: view.status == .open, deliveredTo: view.deliveredTo, maxAnswers: view.maxAnswers, expiresAt: WebRenderer.format(view.expiresAt),
            hasAnswers: !answers.isEmpty, lastRank: answers.last?.rank ?? 0, answers: answers,
            followUpCount: view.followUps.count)
        return try WebRenderer.page("question", title: "Your question", content: content, context: context, section: .ask)
    }

    /// The same stream as `GET /v1/questions/{id}/events`, for the page's script.
    @Sendable func events(_ request: Request, context: WebRequestContext) async throws -> Response {
        try await QuestionsController.answerEvents(
            question: try context.parameters.require("id"), caller: try context.requireUser().caller, questions: questions)
    }

    @Sendable func cancel(_ request: Request, context: WebRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        try await questions.cancel(id, by: try context.requireUser().caller)
        context.leaveNotice("The question is cancelled; the specialists holding it were told.")
        return WebRenderer.seeOther("/questions/\(id)")
    }

    @Sendable func reveal(_ request: Request, context: WebRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard let rank = context.parameters.get("rank").flatMap(Int.init) else { throw APIError.badRequest("The answer's rank must be a number.") }
        let action = try RevealItem.requested(context)
        let change = try await questions.reveal(action, question: id, rank: rank, by: try context.requireUser().caller)
        context.leaveNotice(RevealItem.notice(action, change.askerView, other: "specialist \(rank)"))
        return WebRenderer.seeOther("/questions/\(id)")
    }

    @Sendable func rate(_ request: Request, context: WebRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard let rank = context.form.text("rank").flatMap(Int.init), let helpful = context.form.text("helpful").flatMap(Bool.init) else {
            throw APIError.badRequest("A rating needs the answer's rank and helpful=true or false.")
        }
        try await questions.rate(id, rank: rank, helpful: helpful, by: try context.requireUser().caller)
        context.leaveNotice("Thanks: answer \(rank) rated \(helpful ? "helpful" : "not helpful").")
        return WebRenderer.seeOther("/questions/\(id)")
    }
}

extension AskPages {
    /// A refused question in a page's words.
    static func explain(_ error: DirectoryError) -> String {
        switch error {
        case .ambiguousTopic: "Several topics fit your question. Pick one below, or type the topic yourself."
        case .unknownTopic(nil): "SkillRelay could not tell the topic from your text. Type a topic (suggestions appear as you type)."
        default: error.message
        }
    }
}
