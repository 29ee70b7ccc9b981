import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import NIOCore
import SkillRelayDomain

/// Turns every error of a web page into an HTML page with the same status the API would give; a page that needs
/// a session, opened without one, goes to the sign-in page instead.
struct WebErrorMiddleware: RouterMiddleware {
    typealias Context = WebRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let apiError = ErrorMiddleware<Context>.apiError(for: error, request: request, context: context)
            if apiError.status == .unauthorized, request.method == .get || request.method == .head {
                return WebRenderer.seeOther("/")
            }
            let message =
                apiError.status == .unauthorized
                ? "Your session has ended or you never signed in. Open a new sign-in link to go on." : apiError.message
            var headers = apiError.headers
            headers[.wwwAuthenticate] = nil
            return try WebRenderer.errorPage(status: apiError.status, message: message, user: context.identity, headers: headers)
        }
    }
}

/// Reads a posted form into the context and, where a session is needed, checks its anti-forgery token: a form from
/// another site cannot know it (and SameSite=Strict keeps the cookie from such requests anyway). A form the browser
/// says came from another site is refused first: that is what keeps another site from posting a sign-in link of its
/// own and signing the visitor in as somebody else (the sign-in form has no session token to check yet).
struct FormMiddleware: RouterMiddleware {
    typealias Context = WebRequestContext
    /// Whether the form must carry the session's token (every form except the sign-in link's own).
    let requireToken: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post else { return try await next(request, context) }
        if requireToken, context.identity == nil { throw DirectoryError.unauthenticated }
        guard !Self.isCrossSite(request) else {
            throw DirectoryError.forbidden("This form did not come from SkillRelay's own page. Open SkillRelay and try again.")
        }
        let type = request.headers[.contentType]?.lowercased() ?? ""
        guard type.hasPrefix("application/x-www-form-urlencoded") else {
            throw HTTPError(.unsupportedMediaType, message: "Forms are sent as application/x-www-form-urlencoded.")
        }
        var request = request
        let body = try await request.collectBody(upTo: context.maxUploadSize)
        var context = context
        context.form = FormFields(body: String(buffer: body))
        if requireToken {
            guard let sent = context.form["csrf"], let expected = context.identity?.csrf, Self.same(sent, expected) else {
                throw DirectoryError.forbidden("This form has expired or did not come from SkillRelay. Reload the page and try again.")
            }
        }
        return try await next(request, context)
    }

    /// Whether the browser says the form was sent from another site: `Sec-Fetch-Site` where the browser sends it (a
    /// sibling subdomain counts as another site), otherwise an `Origin` other than the host the form was posted to.
    /// A request with neither comes from no browser page (curl, a script), which cannot forge a visitor's request.
    static func isCrossSite(_ request: Request) -> Bool {
        if let site = request.headers[Self.secFetchSite]?.lowercased() { return site != "same-origin" && site != "none" }
        guard let origin = request.headers[.origin] else { return false }
        guard let host = request.head.authority, let scheme = origin.range(of: "://") else { return true }
        return origin[scheme.upperBound...].lowercased() != host.lowercased()
    }

    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!

    /// Compares without stopping at the first difference, so timing tells nothing about the token.
    static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

/// Refuses a page to anyone without a session.
struct RequireSignInMiddleware: RouterMiddleware {
    typealias Context = WebRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard context.identity != nil else { throw DirectoryError.unauthenticated }
        return try await next(request, context)
    }
}
