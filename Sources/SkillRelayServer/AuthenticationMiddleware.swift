import Hummingbird
import SkillRelayDomain

/// Verifies `Authorization: Bearer <secret>` and puts the caller into the context; refuses the request without one.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let store: any DirectoryStore

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else { throw DirectoryError.unauthenticated }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", !parts[1].isEmpty, parts[1].utf8.count <= 256 else {
            throw DirectoryError.unauthenticated
        }
        guard let caller = try await store.authenticate(secret: String(parts[1]).trimmingWhitespace()) else {
            throw DirectoryError.unauthenticated
        }
        var context = context
        context.caller = caller
        context.logger[metadataKey: "skillrelay.caller"] = .string(caller.auditName)
        return try await next(request, context)
    }
}
