import Foundation
import Hummingbird
import HummingbirdAuth
import SkillRelayDomain

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
