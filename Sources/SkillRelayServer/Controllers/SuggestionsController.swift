import Hummingbird
import SkillRelayDomain

/// Suggested skills and stale tags, for the managers of the people they are about. The store applies who may see and
/// decide what, and tags or untags through the directory's own path.
struct SuggestionsController {
    let store: any SuggestionStore

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("suggestions", use: list)
        group.post("suggestions/:id/accept", use: accept)
        group.post("suggestions/:id/dismiss", use: dismiss)
    }

    /// The open suggestions about the people below the caller (everyone's, for an admin), newest first.
    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> PageResponse<SuggestionResponse> {
        let caller = try context.requireCaller()
        let page = try request.pageRequest(for: .suggestions)
        return PageResponse(try await store.suggestions(below: nil, by: caller, page: page), SuggestionResponse.init)
    }

    @Sendable func accept(_ request: Request, context: APIRequestContext) async throws -> SuggestionResponse {
        let caller = try context.requireCaller()
        let body = try await request.decodeJSON(as: AcceptSuggestionRequest.self, context: context)
        return SuggestionResponse(try await store.decide(suggestion: try context.parameters.require("id"), .accept(level: body.level), by: caller))
    }

    @Sendable func dismiss(_ request: Request, context: APIRequestContext) async throws -> SuggestionResponse {
        let caller = try context.requireCaller()
        return SuggestionResponse(try await store.decide(suggestion: try context.parameters.require("id"), .dismiss, by: caller))
    }
}
