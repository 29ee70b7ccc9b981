import AsyncHTTPClient
import Logging
import ServiceLifecycle
import SkillRelayCallbacks
import SkillRelayDomain
import SkillRelayLocalIM
import SkillRelayMatrix
import SkillRelayServer

/// The one place concrete types meet: the store, an IM adapter and the callback sender behind the domain's ports.
struct Wiring {
    let questions: QuestionService
    let pump: OutboxPump
    /// Services the IM adapter runs beside the server (Matrix: the sync loop).
    var services: [any Service] = []
    /// What to close once the services stopped.
    var shutdown: @Sendable () async throws -> Void = {}
    /// What to check before serving (Matrix: that the stored encryption keys open with the pickle key).
    var check: @Sendable () async throws -> Void = {}

    /// The embedded `local` IM: presence and inboxes inside SkillRelay.
    static func local(stores: Stores, settings: QuestionSettings, callbackSecret: String, logger: Logger) throws -> Wiring {
        let store = stores.questionStore(RoutingLearning(settings: settings))
        let events = stores.events
        let dispatcher = OutboxDispatcher(
            store: store, messenger: LocalMessenger(events: events),
            callbacks: HTTPCallbackSender(client: HTTPClient.shared, secret: callbackSecret))
        logSends(of: dispatcher, to: logger)
        let pump = OutboxPump(dispatcher: dispatcher)
        let questions = try QuestionService(
            store: store, presence: LocalPresenceSource(store: store), settings: settings, events: events,
            outboxLag: dispatcher.lag, outboxChanged: { pump.nudge() }, rateLimit: stores.rateLimit(settings.asksPerMinute))
        return Wiring(questions: questions, pump: pump, services: stores.services)
    }

    /// A Matrix homeserver: presence, questions and answers through the bot account.
    static func matrix(
        stores: Stores, settings: QuestionSettings, callbackSecret: String, matrix: MatrixSettings, loginLinks: LoginLinks, logger: Logger
    ) throws -> Wiring {
        let store = stores.questionStore(RoutingLearning(settings: settings))
        let state = stores.imState
        let directory = stores.directory
        // Its own HTTP client, with room for a whole presence pool, a backlog's messages and the sync at once.
        let http = MatrixClient.makeHTTPClient(
            connections: matrix.presenceConcurrency + max(matrix.sendConcurrency, matrix.sendBacklogConcurrency) + 2)
        let client = MatrixClient(http: http, homeserver: matrix.homeserver, accessToken: matrix.accessToken)
        // One pickle key seals what the bot keeps: its encryption keys, and replies until they go.
        let seal = MatrixKeySeal(secret: matrix.pickleKey)
        let encryption = MatrixEncryption(client: client, store: state, seal: seal, logger: logger)
        // It reads and writes encrypted rooms either way; the setting is whether the rooms it opens are encrypted.
        let rooms = MatrixRooms(client: client, state: state, encryption: matrix.encryptRooms ? encryption : nil, logger: logger)
        let stream = MatrixPresenceStream()
        let presence = MatrixPresenceSource(
            client: client, rooms: rooms, stream: stream, concurrency: matrix.presenceConcurrency,
            timeout: .milliseconds(Int64(matrix.presenceTimeoutMilliseconds)),
            cacheTTL: Double(matrix.presenceCacheSeconds))
        let dispatcher = OutboxDispatcher(
            store: store, messenger: MatrixMessenger(client: client, rooms: rooms, encryption: encryption),
            callbacks: HTTPCallbackSender(client: HTTPClient.shared, secret: callbackSecret), imConcurrency: matrix.sendConcurrency,
            imBacklogConcurrency: matrix.sendBacklogConcurrency)
        logSends(of: dispatcher, to: logger)
        let pump = OutboxPump(dispatcher: dispatcher)
        // Presence is trusted until the presence probe (PresenceProbeService, run at start and every few minutes) finds
        // the homeserver does not report it: the seconds before the first probe never interrupt someone it calls offline.
        let questions = try QuestionService(
            store: store, presence: presence, settings: settings, events: stores.events, outboxLag: dispatcher.lag,
            outboxChanged: { pump.nudge() }, presenceReporting: PresenceReportingState(initial: .reported),
            rateLimit: stores.rateLimit(settings.asksPerMinute))
        let conversation = IMConversation(questions: questions, directory: directory, state: state, loginLinks: loginLinks)
        let sync = MatrixSyncService(
            client: client, state: state, seal: seal, rooms: rooms, conversation: conversation, logger: logger, presence: stream,
            encryption: encryption,
            leadership: stores.leadership)
        return Wiring(
            questions: questions, pump: pump, services: [sync] + stores.services, shutdown: { try await http.shutdown() },
            check: { try await encryption.checkStoredKeys() })
    }

    /// The web page's sign-in, sessions (in the database), team view and statistics; with an IM server, who it cannot
    /// reach.
    static func web(
        stores: Stores, signIn: SignInService, publicURL: String, localIM: Bool, settings: QuestionSettings, logger: Logger
    ) -> WebSite {
        let directory = stores.directory
        let stats = StatsService(store: stores.questionStore(RoutingLearning(settings: settings)), settings: settings)
        return WebSite(
            signIn: signIn, sessionStorage: DatabasePersistDriver(store: stores.web, signIn: signIn, logger: logger),
            team: directory, stats: stats, secureCookies: PublicURL.isSecure(publicURL),
            localIM: localIM, reach: localIM ? nil : directory)
    }
}

extension Wiring {
    /// Logs what the outbox's workers send (debug) and every failed try (a warning; a rate limit is a notice), by
    /// outbox id and destination, never the text: how an operator follows a message that did not arrive.
    static func logSends(of dispatcher: OutboxDispatcher, to logger: Logger) {
        dispatcher.onSendReport { report in
            if !report.sent.isEmpty {
                logger.debug(
                    "outbox sent", metadata: ["skillrelay.destination": "\(report.destination)", "skillrelay.outbox_ids": "\(report.sent)"])
            }
            guard let failure = report.failure else { return }
            let metadata: Logger.Metadata = [
                "skillrelay.destination": "\(report.destination)", "skillrelay.outbox_id": "\(failure.id)", "skillrelay.error": "\(failure.error)",
            ]
            if report.deferred {
                logger.notice("outbox send put off as the IM server asked; its destination's later messages wait for it", metadata: metadata)
            } else {
                logger.warning("outbox send failed; tried again with backoff, its destination's later messages wait for it", metadata: metadata)
            }
        }
    }
}
