import Hummingbird
import Logging
import ServiceLifecycle
import SkillRelayDomain

/// Where and how the HTTP server listens.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int

    public init(host: String = "127.0.0.1", port: Int = 8080) {
        self.host = host
        self.port = port
    }
}

/// The router with every route and middleware: what the server runs and what the tests drive.
public func buildRouter(store: any DirectoryStore, questions: QuestionService, web: WebSite) -> Router<APIRequestContext> {
    let router = Router(context: APIRequestContext.self)
    router.add(middleware: ErrorMiddleware())
    router.add(middleware: LogRequestsMiddleware(.debug))
    SystemController(store: store, events: questions.eventStreams).addRoutes(to: router)
    let v1 = router.group("v1").add(middleware: AuthenticationMiddleware(store: store))
    EmployeesController(store: store).addRoutes(to: v1)
    TopicsController(store: store).addRoutes(to: v1)
    TokensController(store: store).addRoutes(to: v1)
    QuestionsController(questions: questions).addRoutes(to: v1)
    InboxController(questions: questions).addRoutes(to: v1)
    RevealController(questions: questions).addRoutes(to: v1)
    SuggestionsController(store: web.team).addRoutes(to: v1)
    let stats = StatsController(stats: web.stats, questions: questions, reach: web.reach)
    stats.addRoutes(to: v1)
    stats.addMetricsRoute(to: router.group().add(middleware: AuthenticationMiddleware(store: store)))
    web.addRoutes(to: router, store: store, questions: questions)
    return router
}

/// The whole application: the router on a server, with the question worker, the presence probe, the web sessions' tidying (and an IM
/// adapter's inbound loop, if it has one) running beside it.
public func buildApplication(
    store: any DirectoryStore, questions: QuestionService, pump: OutboxPump, web: WebSite, services: [any Service] = [],
    configuration: ServerConfiguration, logger: Logger
) -> some ApplicationProtocol {
    Application(
        router: buildRouter(store: store, questions: questions, web: web),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "SkillRelay"),
        services: [
            QuestionWorker(questions: questions, pump: pump, logger: logger), PresenceProbeService(questions: questions, logger: logger),
            web.sessionStorage,
        ] + services,
        logger: logger)
}
