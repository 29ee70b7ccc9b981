import Hummingbird
import SkillRelayDomain

/// API tokens, for admins.
struct TokensController {
    let store: any DirectoryStore

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("tokens", use: list)
        group.post("tokens", use: create)
        group.delete("tokens/:id", use: revoke)
    }

    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> PageResponse<TokenResponse> {
        let caller = try context.requireCaller()
        try DirectoryPolicy.authorize(caller, to: .manageTokens)
        return PageResponse(try await store.tokens(by: caller, page: try request.pageRequest(for: .tokens)), TokenResponse.init)
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> EditedResponse<IssuedTokenResponse> {
        let caller = try context.requireCaller()
        try DirectoryPolicy.authorize(caller, to: .manageTokens)
        let body = try await request.decodeJSON(as: CreateTokenRequest.self, context: context)
        let issued = try await store.createToken(for: try body.owner(), by: caller)
        return EditedResponse(status: .created, response: IssuedTokenResponse(token: TokenResponse(issued.token), secret: issued.secret))
    }

    @Sendable func revoke(_ request: Request, context: APIRequestContext) async throws -> TokenResponse {
        TokenResponse(try await store.revokeToken(try context.parameters.require("id"), by: try context.requireCaller()))
    }
}
