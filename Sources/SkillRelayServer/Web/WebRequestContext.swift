import Foundation
import Hummingbird
import HummingbirdAuth
import SkillRelayDomain

/// What a web session keeps: whose it is, the token its forms must carry, and a one-time notice for the next page.
public struct WebSession: Codable, Sendable, Equatable {
    public var handle: String
    /// The per-session anti-forgery token every POST must echo.
    public var csrf: String
    /// Shown once on the next page, then cleared.
    public var notice: String?

    public init(handle: String, csrf: String, notice: String? = nil) {
        self.handle = handle
        self.csrf = csrf
        self.notice = notice
    }
}

/// Whoever the session belongs to, as the directory knows them on this request.
public struct WebUser: Sendable, Equatable {
    public var person: SignedInPerson
    public var csrf: String

    public var caller: Caller { person.caller }
}

/// The web pages' request context: the session, the signed-in person, and the form the anti-forgery check read.
public struct WebRequestContext: ChildRequestContext, SessionRequestContext, AuthRequestContext {
    public typealias ParentContext = APIRequestContext

    public var coreContext: CoreRequestContextStorage
    public let sessions: SessionContext<WebSession>
    public var identity: WebUser?
    /// The fields of a submitted form, read once by `CSRFMiddleware`.
    public var form = FormFields()

    public init(context: APIRequestContext) throws {
        self.coreContext = context.coreContext
        self.sessions = SessionContext()
    }

    public var maxUploadSize: Int { APIRequestContext.bodyLimit }

    /// The signed-in person; `unauthenticated` (which the pages turn into the sign-in page) without one.
    func requireUser() throws -> WebUser {
        guard let identity else { throw DirectoryError.unauthenticated }
        return identity
    }

    /// Leaves a notice for the next page the person sees.
    func leaveNotice(_ text: String) {
        sessions.withLockedSession { session in session?.notice = text }
    }
}
