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
            let apiError = Self.apiError(for: error, context: context)
            if Self.wantsPage(request) {
                return try WebRenderer.errorPage(status: apiError.status, message: apiError.message, user: nil)
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

    static func apiError(for error: any Error, context: Context) -> APIError {
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
        case let error as ImportFailure:
            return APIError(.unprocessableContent, code: "import_failed", message: error.description)
        default:
            context.logger.error("unexpected error", metadata: ["skillrelay.error": "\(String(reflecting: error))"])
            return APIError(.internalServerError, code: "internal", message: "Something went wrong on our side; it has been logged.")
        }
    }
}
