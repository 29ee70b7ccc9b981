import Foundation
import Hummingbird
import HummingbirdTesting
import SkillRelayDomain
import SkillRelayLocalIM
import SkillRelayServer
import SkillRelayStore
import SkillRelayTestSupport

/// A small company for API tests:
///
///     admin (admin)        boss
///                         /    \
///                        m      p
///                        |      |
///                        r      pr
///                        |
///                      deep
///
/// Topics: `infra` > `kubernetes` (alias `k8s`), `infra` > `terraform`. Skills: r has kubernetes 3, tagged by m;
/// deep has infra 2, self-declared.
struct Fixture {
    enum Who: String, CaseIterable, Sendable {
        case admin, boss, m, p, r, pr, deep, bot
    }

    /// The defaults, except that the outbox may lag as far as it likes: tests move the clock by minutes between a
    /// message's queueing and the drain that sends it, which would look like deliveries falling behind.
    static var settings: QuestionSettings {
        var settings = QuestionSettings()
        settings.maxDeliveryLagSeconds = 365 * 86_400
        return settings
    }

    let database: AppDatabase
    let store: SQLiteDirectoryStore
    let tokens: [Who: String]
    let tokenIDs: [Who: String]
    let questions: QuestionService
    let questionStore: SQLiteQuestionStore
    let pump: OutboxPump
    let clock: TestClock
    let callbacks: FakeCallbackSender
    /// The IM messages go through it: closed, it holds them as an IM server that stopped answering would.
    let messenger: GatedMessenger
    /// The web page's dependencies, on the same database and clock.
    let web: WebSite

    /// `imRooms`: list who the IM cannot reach, as with a Matrix homeserver (the messages still go to the local IM).
    /// `relay`: how live events reach other instances, as with several instances on one database.
    static func make(
        settings: QuestionSettings = Fixture.settings, callbackFailures: Int = 0, path: String? = nil,
        busyTimeout: TimeInterval = AppDatabase.defaultBusyTimeout, imRooms: Bool = false, relay: (any QuestionEventRelay)? = nil
    ) async throws -> Fixture {
        let clock = TestClock()
        let database = try path.map { try AppDatabase.open(path: $0, busyTimeout: busyTimeout) } ?? AppDatabase.inMemory()
        let store = SQLiteDirectoryStore(database: database, clock: clock)
        let op = Caller.cliOperator
        func add(_ handle: String, manager: String?, admin: Bool = false) async throws {
            _ = try await store.createEmployee(
                Employee(
                    handle: handle, name: handle.capitalized, email: "\(handle)@example.org", imID: "@\(handle):localhost",
                    managerHandle: manager, isAdmin: admin), by: op)
        }
        try await add("admin", manager: nil, admin: true)
        try await add("boss", manager: nil)
        try await add("m", manager: "boss")
        try await add("p", manager: "boss")
        try await add("r", manager: "m")
        try await add("pr", manager: "p")
        try await add("deep", manager: "r")
        _ = try await store.createTopic(Topic(slug: "infra", name: "Infrastructure", description: "Servers and networks"), by: op)
        _ = try await store.createTopic(
            Topic(slug: "kubernetes", name: "Kubernetes", description: "Clusters", parentSlug: "infra", aliases: ["k8s"]), by: op)
        _ = try await store.createTopic(Topic(slug: "terraform", name: "Terraform", parentSlug: "infra"), by: op)
        let managerM = Caller(identity: .employee("m"), isManager: true)
        _ = try await store.setSkill(of: "r", topic: "kubernetes", level: 3, by: managerM)
        _ = try await store.setSkill(of: "deep", topic: "infra", level: 2, by: Caller(identity: .employee("deep")))
        var tokens: [Who: String] = [:]
        var ids: [Who: String] = [:]
        for who in Who.allCases {
            let issued = try await store.createToken(for: who == .bot ? .bot("ci-bot") : .employee(who.rawValue), by: op)
            tokens[who] = issued.secret
            ids[who] = issued.token.id
        }
        let questionStore = SQLiteQuestionStore(database: database, clock: clock)
        let events = QuestionEvents(relay: relay)
        let callbacks = FakeCallbackSender(failures: callbackFailures)
        let messenger = GatedMessenger(LocalMessenger(events: events, clock: clock))
        let dispatcher = OutboxDispatcher(store: questionStore, messenger: messenger, callbacks: callbacks, clock: clock)
        let pump = OutboxPump(dispatcher: dispatcher)
        let questions = try QuestionService(
            store: questionStore, presence: LocalPresenceSource(store: questionStore), settings: settings, clock: clock, events: events,
            outboxLag: dispatcher.lag, outboxChanged: { pump.nudge() })
        let webStore = SQLiteWebStore(database: database)
        let signIn = SignInService(store: webStore, clock: clock)
        let web = WebSite(
            signIn: signIn, sessionStorage: DatabasePersistDriver(store: webStore, signIn: signIn, clock: clock), team: store,
            stats: StatsService(store: questionStore, settings: settings), reach: imRooms ? store : nil, clock: clock)
        return Fixture(
            database: database, store: store, tokens: tokens, tokenIDs: ids, questions: questions, questionStore: questionStore, pump: pump,
            clock: clock, callbacks: callbacks, messenger: messenger, web: web)
    }

    /// Runs requests against the router in process.
    func test<Value: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        try await Application(router: buildRouter(store: store, questions: questions, web: web)).test(.router, body)
    }

    /// Adds Kubernetes specialists `kube.specialist.01`… (levels 5, 4, 3, 5, 4, 3 …), each with a token and the given
    /// presence; returns their tokens by handle.
    func addSpecialists(_ count: Int, presence: Presence = .available) async throws -> [String: String] {
        var tokens: [String: String] = [:]
        for index in 1...count {
            let handle = String(format: "kube.specialist.%02d", index)
            _ = try await store.createEmployee(
                Employee(
                    handle: handle, name: "Specialist \(index) Person", email: "\(handle)@example.org", imID: "@\(handle):localhost",
                    managerHandle: "m"),
                by: .cliOperator)
            _ = try await store.setSkill(of: handle, topic: "kubernetes", level: 5 - (index - 1) % 3, by: .cliOperator)
            tokens[handle] = try await store.createToken(for: .employee(handle), by: .cliOperator).secret
            if presence != .offline { try await questionStore.setLocalPresence(presence, of: handle, now: clock.now()) }
        }
        return tokens
    }

    /// Every message the outbox ever held, sent or not, oldest first: the pump drains in the background, so a test
    /// that asks what was queued must not look only at what is still pending.
    func outboxMessages() async throws -> [OutboxMessage] {
        try await database.writer.read { db in
            try String.fetchAll(db, sql: "SELECT message FROM outbox ORDER BY id").map {
                try JSONDecoder().decode(OutboxMessage.self, from: Data($0.utf8))
            }
        }
    }

    /// A caller as the API would see them.
    func caller(_ handle: String) async throws -> Caller {
        guard let caller = try await store.authenticate(secret: try await store.createToken(for: .employee(handle), by: .cliOperator).secret) else {
            throw DirectoryError.unauthenticated
        }
        return caller
    }

    func headers(_ who: Who?) -> HTTPFields {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let who { headers[.authorization] = "Bearer \(tokens[who]!)" }
        return headers
    }
}

/// Headers with a bearer token.
func bearer(_ token: String) -> HTTPFields {
    [.authorization: "Bearer \(token)", .contentType: "application/json"]
}

/// Decodes a response body as JSON of the given type.
func decode<T: Decodable>(_ type: T.Type, _ response: TestResponse) throws -> T {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    return try decoder.decode(T.self, from: Data(buffer: response.body))
}

/// The JSON error body every failure carries.
struct ErrorBody: Decodable {
    struct Detail: Decodable {
        var code: String
        var message: String
    }
    var error: Detail
}

extension TestResponse {
    /// The body decoded as the API's error shape, or `nil` if it is not one.
    var apiError: ErrorBody.Detail? {
        try? JSONDecoder().decode(ErrorBody.self, from: Data(buffer: body)).error
    }

    var text: String { String(buffer: body) }
}
