import Foundation
import Hummingbird
import HummingbirdAuth
import SkillRelayDomain
import SkillRelayWeb

/// What the web pages need besides the directory and the question service.
public struct WebSite: Sendable {
    /// Sign-in links, and who a session belongs to now.
    public var signIn: SignInService
    /// Where sessions live (the database, so a restart signs nobody out).
    public var sessionStorage: any PersistDriver
    /// The people below a manager and the suggestions about them, for My team, and the topic tree by branch, for the
    /// admin page.
    public var team: any TeamStore & TopicTreeStore & SuggestionStore
    /// The numbers for the admin page, `/v1/stats` and `/metrics`.
    public var stats: StatsService
    /// Sets `Secure` on the session cookie: when served over TLS, or behind a proxy that is.
    public var secureCookies: Bool
    /// How long a session lasts from sign-in.
    public var sessionLifetime: Duration
    /// Whether presence is set here (the embedded `local` IM) rather than on an IM server.
    public var localIM: Bool
    /// Who the IM server cannot reach (no room with the bot), for My team, the admin page and `/v1/stats`; `nil` with
    /// the embedded `local` IM, where everyone is reachable.
    public var reach: (any ReachStore)?
    public var clock: any WallClock

    public init(
        signIn: SignInService, sessionStorage: any PersistDriver, team: any TeamStore & TopicTreeStore & SuggestionStore, stats: StatsService,
        secureCookies: Bool = false,
        sessionLifetime: Duration = .seconds(12 * 3600), localIM: Bool = true, reach: (any ReachStore)? = nil,
        clock: any WallClock = SystemWallClock()
    ) {
        self.signIn = signIn
        self.sessionStorage = sessionStorage
        self.team = team
        self.stats = stats
        self.secureCookies = secureCookies
        self.sessionLifetime = sessionLifetime
        self.localIM = localIM
        self.reach = reach
        self.clock = clock
    }

    /// The session cookie's name.
    public static let cookieName = "skillrelay_session"

    /// Adds the pages, their forms, live streams and assets to the router.
    func addRoutes(to router: Router<APIRequestContext>, store: any DirectoryStore, questions: QuestionService) {
        router.get("static/:file", use: Self.asset)
        let sessions = SessionMiddleware<WebRequestContext>(
            storage: sessionStorage,
            configuration: .init(
                sessionCookieParameters: .init(name: Self.cookieName, path: "/", secure: secureCookies, sameSite: .strict),
                keyPrefix: "web.", defaultSessionExpiration: sessionLifetime))
        let signIn = self.signIn
        let authenticator = SessionAuthenticator<WebRequestContext, _>(context: WebRequestContext.self) { (session: WebSession, _) in
            try await signIn.person(handle: session.handle).map { WebUser(person: $0, csrf: session.csrf) }
        }
        // Errors become pages twice over: inside, with the signed-in person known (the page's header names them); outside,
        // for what the session and authentication steps themselves throw.
        let pages = router.group(context: WebRequestContext.self)
            .add(middleware: WebErrorMiddleware())
            .add(middleware: sessions)
            .add(middleware: authenticator)
            .add(middleware: WebErrorMiddleware())
        let open = pages.group().add(middleware: FormMiddleware(requireToken: false))
        SignInPages(signIn: signIn, sessionLifetime: sessionLifetime).addRoutes(to: open)
        let signedIn = pages.group().add(middleware: RequireSignInMiddleware()).add(middleware: FormMiddleware(requireToken: true))
        signedIn.post("logout", use: SignInPages.signOut)
        AskPages(store: store, questions: questions).addRoutes(to: signedIn)
        InboxPages(questions: questions, signIn: signIn, localIM: localIM, clock: clock).addRoutes(to: signedIn)
        TeamPages(store: store, team: team, reach: reach, suggestions: team).addRoutes(to: signedIn)
        AdminPages(store: store, topicTree: team, questions: questions, stats: stats, reach: reach, clock: clock).addRoutes(to: signedIn)
    }

    @Sendable static func asset(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let name = context.parameters.get("file"), let file = WebAssets.file(named: name) else {
            throw HTTPError(.notFound, message: "No such file.")
        }
        return Response(
            status: .ok, headers: [.contentType: file.contentType, .cacheControl: "max-age=300", .xContentTypeOptions: "nosniff"],
            body: .init(byteBuffer: ByteBuffer(bytes: file.bytes)))
    }
}
