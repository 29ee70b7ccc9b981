import Foundation
import HTTPTypes
import Hummingbird
import SkillRelayDomain

/// Asking: employees and bots ask, and only the asker (or an admin) ever sees the question again.
struct QuestionsController {
    let questions: QuestionService

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("questions", use: list)
        group.post("questions", use: ask)
        group.get("questions/:id", use: show)
        group.delete("questions/:id", use: cancel)
        group.get("questions/:id/events", use: events)
        group.post("questions/:id/ratings", use: rate)
        group.post("questions/:id/answers/:rank/messages", use: followUp)
    }

    @Sendable func ask(_ request: Request, context: APIRequestContext) async throws -> EditedResponse<AskResponse> {
        let caller = try context.requireCaller()
        guard let asker = Asker(caller) else { throw DirectoryError.forbidden("Only employees and bots ask questions.") }
        let body = try await request.decodeJSON(as: AskRequest.self, context: context)
        let asked = try await questions.ask(
            QuestionDraft(
                asker: asker, topic: body.topic, text: body.text, maxAnswers: body.maxAnswers,
                idempotencyKey: request.headers[.idempotencyKey], callbackURL: body.callbackUrl))
        let response = AskResponse(
            id: asked.id, status: asked.status.rawValue, topic: TopicReferenceResponse(asked.topic), deliveredTo: asked.deliveredTo,
            expiresAt: asked.expiresAt)
        return EditedResponse(status: asked.created ? .created : .ok, headers: [.location: "/v1/questions/\(asked.id)"], response: response)
    }

    /// The caller's own questions, newest first, a page at a time.
    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> PageResponse<AskedQuestionResponse> {
        let caller = try context.requireCaller()
        guard Asker(caller) != nil else { throw DirectoryError.forbidden("Only employees and bots ask questions.") }
        let page = try request.pageRequest(for: .questions)
        return PageResponse(try await questions.askedQuestions(by: caller, page: page), AskedQuestionResponse.init)
    }

    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> QuestionResponse {
        QuestionResponse(try await questions.question(try context.parameters.require("id"), by: try context.requireCaller()))
    }

    @Sendable func cancel(_ request: Request, context: APIRequestContext) async throws -> QuestionResponse {
        let caller = try context.requireCaller()
        let id = try context.parameters.require("id")
        try await questions.cancel(id, by: caller)
        return QuestionResponse(try await questions.question(id, by: caller))
    }

    /// The asker follows up on relayed answer `rank`: 201 with the message as they see it.
    @Sendable func followUp(_ request: Request, context: APIRequestContext) async throws -> EditedResponse<FollowUpResponse> {
        let caller = try context.requireCaller()
        let id = try context.parameters.require("id")
        guard let rank = Int(try context.parameters.require("rank")) else { throw DirectoryError.answerNotFound(0) }
        let body = try await request.decodeJSON(as: FollowUpRequest.self, context: context)
        let sent = try await questions.followUp(question: id, rank: rank, text: body.text, by: caller)
        return EditedResponse(status: .created, response: FollowUpResponse(sent))
    }

    @Sendable func rate(_ request: Request, context: APIRequestContext) async throws -> QuestionResponse {
        let caller = try context.requireCaller()
        let id = try context.parameters.require("id")
        let body = try await request.decodeJSON(as: RateRequest.self, context: context)
        try await questions.rate(id, rank: body.rank, helpful: body.helpful, by: caller)
        return QuestionResponse(try await questions.question(id, by: caller))
    }

    /// `answer`, `message` (follow-ups), `wave` and `closed` events; answers and follow-ups already sent come first, and
    /// the stream ends at `closed`.
    @Sendable func events(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await Self.answerEvents(
            question: try context.parameters.require("id"), caller: try context.requireCaller(), questions: questions,
            followThreads: try request.queryBool("followThreads", default: false))
    }

    /// The asker's event stream of one question, for the API and the web page alike (`QuestionService.follow`).
    /// With `followThreads`, the stream goes on after `closed` while the answers' threads take follow-ups, until the
    /// client disconnects.
    static func answerEvents(question id: String, caller: Caller, questions: QuestionService, followThreads: Bool = false) async throws -> Response {
        let following = try await questions.follow(question: id, by: caller, followThreads: followThreads)
        let live = following.live.map { live in
            AsyncStream<ServerSentEvent> { continuation in
                let task = Task {
                    for await event in live { continuation.yield(EventEncoding.encode(event)) }
                    continuation.finish()
                }
                continuation.onTermination = { _ in task.cancel() }
            }
        }
        let endsWhenClosed = following.endsWhenClosed
        return Response.eventStream(past: following.past.map(EventEncoding.encode), live: live) { event in
            endsWhenClosed && event.event == "closed"
        }
    }
}

/// The JSON of each event type.
enum EventEncoding {
    static func encode(_ event: AskerEvent) -> ServerSentEvent {
        switch event {
        case .answer(let relayed): answer(relayed)
        case .wave(let number, let deliveredTo): ServerSentEvent(event: "wave", data: json(Wave(wave: number, deliveredTo: deliveredTo)))
        case .closed(let reason): closed(reason)
        case .reveal(let rank, let view): ServerSentEvent(event: "reveal", data: json(AnswerReveal(rank: rank, reveal: RevealViewResponse(view))))
        case .introduction(let rank, let other):
            ServerSentEvent(event: "introduction", data: json(AnswerIntroduction(rank: rank, other: RevealedPersonResponse(other))))
        case .followUp(let followUp): ServerSentEvent(event: "message", data: json(FollowUpResponse(followUp)))
        }
    }

    static func encode(_ event: InboxEvent) -> ServerSentEvent {
        switch event {
        case .delivered(let item): ServerSentEvent(event: "delivery", data: json(InboxItemResponse(item)), id: item.id)
        case .closed(let deliveryID, let reason): ServerSentEvent(event: "closed", data: json(InboxClosed(id: deliveryID, reason: reason.rawValue)))
        case .reveal(let deliveryID, let rank, let view):
            ServerSentEvent(event: "reveal", data: json(DeliveryReveal(id: deliveryID, rank: rank, reveal: RevealViewResponse(view))))
        case .introduction(let deliveryID, let other):
            ServerSentEvent(event: "introduction", data: json(DeliveryIntroduction(id: deliveryID, other: RevealedPersonResponse(other))))
        case .followUp(let deliveryID, let followUp):
            ServerSentEvent(event: "message", data: json(InboxFollowUpResponse(delivery: deliveryID, followUp)))
        }
    }

    static func answer(_ answer: RelayedAnswer) -> ServerSentEvent {
        ServerSentEvent(event: "answer", data: json(RelayedAnswerResponse(answer)), id: String(answer.rank))
    }

    static func closed(_ reason: CloseReason) -> ServerSentEvent {
        ServerSentEvent(event: "closed", data: json(Closed(reason: reason.rawValue)))
    }

    private struct Wave: Encodable {
        var wave: Int
        var deliveredTo: Int
    }

    private struct Closed: Encodable {
        var reason: String
    }

    private struct InboxClosed: Encodable {
        var id: String
        var reason: String
    }

    private struct AnswerReveal: Encodable {
        var rank: Int
        var reveal: RevealViewResponse
    }

    private struct DeliveryReveal: Encodable {
        var id: String
        var rank: Int
        var reveal: RevealViewResponse
    }

    private struct AnswerIntroduction: Encodable {
        var rank: Int
        var other: RevealedPersonResponse
    }

    private struct DeliveryIntroduction: Encodable {
        var id: String
        var other: RevealedPersonResponse
    }

    static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = .sortedKeys
        return String(decoding: (try? encoder.encode(value)) ?? Data("{}".utf8), as: UTF8.self)
    }
}

extension HTTPField.Name {
    /// Same asker, same key: the same question, not a second one.
    public static let idempotencyKey = Self("Idempotency-Key")!
}
