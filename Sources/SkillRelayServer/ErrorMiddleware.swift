import Hummingbird
import Logging
import NIOCore
import SkillRelayDomain

/// Turns every error into the API's JSON error shape (or, for a browser outside the API, an HTML page); anything
/// unexpected becomes a 500 that says nothing internal.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let apiError = Self.apiError(for: error, request: request, context: context)
            if Self.wantsPage(request) {
                var headers = apiError.headers
                headers[.wwwAuthenticate] = nil
                return try WebRenderer.errorPage(status: apiError.status, message: apiError.message, user: nil, headers: headers)
            }
            return try apiError.response(from: request, context: context)
        }
    }

    /// A browser asking for something outside the API (a mistyped page address) gets an HTML page; the API, and
    /// anything that does not ask for HTML, gets the JSON error.
    static func wantsPage(_ request: Request) -> Bool {
        let path = request.uri.path
        if path == "/v1" || path.hasPrefix("/v1/") || ["/health", "/livez", "/openapi.yaml", "/metrics"].contains(path) { return false }
        return request.headers[.accept]?.contains("text/html") == true
    }

    /// Seconds a client is told to wait when the database was busy: about one busy timeout.
    static var databaseBusyRetryAfterSeconds: Int { 5 }

    static func apiError(for error: any Error, request: Request, context: Context) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as DirectoryError:
            return APIError(error)
        case let error as HTTPError:
            return APIError(error)
        case is NIOTooManyBytesError:
            return APIError(
                .contentTooLarge, code: "body_too_large", message: "The request body is larger than \(APIRequestContext.bodyLimit) bytes.")
        case is InvalidCursor:
            return APIError.invalidCursor
        case let error as ImportFailure:
            return APIError(.unprocessableContent, code: "import_failed", message: error.description)
        case let error as any StoreFailure where error.isUnreachable:
            // The database server is down or restarting; the pool reconnects by itself once it is back.
            context.logger.warning(
                "the database could not be reached; answered 503",
                metadata: ["skillrelay.path": "\(request.uri.path)", "skillrelay.method": "\(request.method)", "skillrelay.error": "\(error)"])
            return APIError(
                .serviceUnavailable, code: "database_unavailable",
                message: "SkillRelay cannot reach its database right now; try again in a few seconds.",
                headers: [.retryAfter: String(databaseBusyRetryAfterSeconds)])
        case let error as any StoreFailure where error.isBusy:
            // Not SkillRelay's fault and not for good: a backup or an operator's shell holds the database. Said as a
            // warning (the operator may want to know what held it), answered as "try again".
            context.logger.warning(
                "the database was held by another writer past the busy timeout; answered 503",
                metadata: [
                    "skillrelay.path": "\(request.uri.path)", "skillrelay.route": "\(context.endpointPath ?? "-")",
                    "skillrelay.method": "\(request.method)", "skillrelay.error": "\(error)",
                ])
            return APIError(
                .serviceUnavailable, code: "database_busy",
                message: "SkillRelay's database is busy (another program is writing to it); try again in a few seconds.",
                headers: [.retryAfter: String(databaseBusyRetryAfterSeconds)])
        default:
            context.logger.error("unexpected error", metadata: ["skillrelay.error": "\(String(reflecting: error))"])
            return APIError(.internalServerError, code: "internal", message: "Something went wrong on our side; it has been logged.")
        }
    }
}
