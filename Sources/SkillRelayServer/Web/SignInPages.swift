import Foundation
import Hummingbird
import HummingbirdAuth
import SkillRelayDomain

/// The start page, the sign-in link's page and signing out.
struct SignInPages {
    let signIn: SignInService
    let sessionLifetime: Duration

    func addRoutes(to group: RouterGroup<WebRequestContext>) {
        group.get("", use: start)
        group.get("login", use: confirm)
        group.post("login", use: redeem)
    }

    struct StartContent {
        var linkMinutes: Int
        var sessionHours: Int
    }

    struct ConfirmContent {
        var name: String
        var token: String
    }

    static let invalidLink =
        "This sign-in link does not work: it has expired, was used already, or was copied incompletely. Ask for a new one."

    /// Signed in: straight to asking. Otherwise: how to get a link.
    @Sendable func start(_ request: Request, context: WebRequestContext) async throws -> Response {
        if context.identity != nil { return WebRenderer.seeOther("/ask") }
        let content = StartContent(linkMinutes: Int(signIn.linkLifetime / 60), sessionHours: Int(sessionLifetime.components.seconds / 3600))
        return try WebRenderer.page("signin", title: "Sign in", content: content, context: context)
    }

    /// Opening a link only asks to confirm: link previews and scanners fetch links too, and must not use them up.
    @Sendable func confirm(_ request: Request, context: WebRequestContext) async throws -> Response {
        guard let token = request.uri.queryParameters["token"].map(String.init), let person = try await signIn.preview(secret: token) else {
            return try WebRenderer.errorPage(status: .gone, message: Self.invalidLink, user: context.identity)
        }
        return try WebRenderer.page("login", title: "Sign in", content: ConfirmContent(name: person.name, token: token), context: context)
    }

    /// Uses the link up and starts a session with its own anti-forgery token.
    @Sendable func redeem(_ request: Request, context: WebRequestContext) async throws -> Response {
        guard let token = context.form.text("token"), let person = try await signIn.redeem(secret: token), let handle = person.caller.handle else {
            return try WebRenderer.errorPage(status: .gone, message: Self.invalidLink, user: context.identity)
        }
        context.sessions.createSession(WebSession(handle: handle, csrf: SecretText.make()), expiresIn: sessionLifetime)
        context.logger.info("signed in on the web", metadata: ["skillrelay.caller": "\(person.caller.auditName)"])
        return WebRenderer.seeOther("/ask")
    }

    /// Ends the session: the middleware deletes it from the database and expires the cookie.
    @Sendable static func signOut(_ request: Request, context: WebRequestContext) async throws -> Response {
        context.sessions.clearSession()
        return WebRenderer.seeOther("/")
    }
}
