import Foundation
import Hummingbird
import SkillRelayDomain

/// The specialist's side: the inbox, answering and passing, and their own presence and pause.
struct InboxController {
    let questions: QuestionService

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("inbox", use: inbox)
        group.get("inbox/events", use: events)
        group.post("inbox/:delivery/answer", use: answer)
        group.post("inbox/:delivery/pass", use: pass)
        group.post("inbox/:delivery/messages", use: followUp)
        group.put("me/presence", use: setPresence)
        group.put("me/pause", use: pause)
        group.delete("me/pause", use: resume)
    }

    @Sendable func inbox(_ request: Request, context: APIRequestContext) async throws -> PageResponse<InboxItemResponse> {
        let caller = try context.requireCaller()
        let page = try request.pageRequest(for: .inbox)
        return PageResponse(try await questions.inbox(of: caller, page: page), InboxItemResponse.init)
    }

    @Sendable func answer(_ request: Request, context: APIRequestContext) async throws -> AnswerResponse {
        let caller = try context.requireCaller()
        let body = try await request.decodeJSON(as: AnswerRequest.self, context: context)
        return AnswerResponse(try await questions.answer(delivery: try context.parameters.require("delivery"), text: body.text, by: caller))
    }

    /// The specialist follows up on the thread of their relayed answer: 201 with the message as they see it.
    @Sendable func followUp(_ request: Request, context: APIRequestContext) async throws -> EditedResponse<InboxFollowUpResponse> {
        let caller = try context.requireCaller()
        let delivery = try context.parameters.require("delivery")
        let body = try await request.decodeJSON(as: FollowUpRequest.self, context: context)
        let sent = try await questions.followUp(delivery: delivery, text: body.text, by: caller)
        return EditedResponse(status: .created, response: InboxFollowUpResponse(delivery: delivery, sent))
    }

    @Sendable func pass(_ request: Request, context: APIRequestContext) async throws -> HTTPResponse.Status {
        try await questions.pass(delivery: try context.parameters.require("delivery"), by: try context.requireCaller())
        return .noContent
    }

    /// `delivery`, `message` (follow-ups) and `closed` events for the caller's inbox, until they disconnect.
    @Sendable func events(_ request: Request, context: APIRequestContext) async throws -> Response {
        try await Self.inboxEvents(caller: try context.requireCaller(), questions: questions)
    }

    /// A specialist's inbox event stream, for the API and the web page alike.
    static func inboxEvents(caller: Caller, questions: QuestionService) async throws -> Response {
        let live = try await questions.followInbox(of: caller)
        let events = AsyncStream<ServerSentEvent> { continuation in
            let task = Task {
                for await event in live { continuation.yield(EventEncoding.encode(event)) }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
        return Response.eventStream(past: [], live: events) { _ in false }
    }

    @Sendable func setPresence(_ request: Request, context: APIRequestContext) async throws -> StatusResponse {
        let caller = try context.requireCaller()
        let body = try await request.decodeJSON(as: PresenceRequest.self, context: context)
        guard let presence = Presence(rawValue: body.status), presence != .unknown else {
            throw DirectoryError.invalidField("status", "must be available, away, busy or offline")
        }
        try await questions.setPresence(presence, by: caller)
        return StatusResponse(status: presence.rawValue)
    }

    @Sendable func pause(_ request: Request, context: APIRequestContext) async throws -> StatusResponse {
        let caller = try context.requireCaller()
        let body = try await request.decodeJSON(as: PauseRequest.self, context: context)
        guard let until = Self.parseDate(body.until) else {
            throw APIError.badRequest("The field 'until' must be an ISO-8601 time such as 2026-12-01T09:00:00Z.", code: "invalid_field")
        }
        try await questions.setPause(until: until, by: caller)
        return StatusResponse(status: "paused", until: until)
    }

    @Sendable func resume(_ request: Request, context: APIRequestContext) async throws -> StatusResponse {
        try await questions.setPause(until: nil, by: try context.requireCaller())
        return StatusResponse(status: "active")
    }

    static func parseDate(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return plain.date(from: text) ?? fractional.date(from: text)
    }
}
