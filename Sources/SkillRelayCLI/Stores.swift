import Logging
import ServiceLifecycle
import SkillRelayDomain
import SkillRelayPostgres
import SkillRelayStore

/// The stores of the database a command was pointed at, behind the domain's ports: what every command and the server
/// are wired from, whichever database it is.
struct Stores: Sendable {
    typealias Directory = DirectoryStore & TeamStore & TopicTreeStore & SuggestionStore & ReachStore
    typealias Web = SignInStore & SessionStore
    typealias IMState = IMStateStore & IMKeyStore

    /// Where the data is, for messages ("Imported … into skillrelay.sqlite").
    let name: String
    let directory: any Directory
    let web: any Web
    let imState: any IMState
    /// A question store that learns as `learning` says (each QuestionService its own, over the same database).
    let questionStore: @Sendable (RoutingLearning) -> any QuestionStore & StatsStore
    let isEmpty: @Sendable () async throws -> Bool
    let firstActiveAdmin: @Sendable () async throws -> String?
    /// A kept value, made the first time it is asked for.
    let setting: @Sendable (String, @escaping @Sendable () -> String) async throws -> String
    /// Runs `body` under the lock instances sharing the database hold around a first start (loading the sample
    /// directory once, however many start together).
    let firstStart: @Sendable (@Sendable () async throws -> Void) async throws -> Void
    /// Which instance runs the Matrix sync loop: this one at once on SQLite, the one holding the lock on PostgreSQL.
    var leadership: any Leadership = SoleInstance()
    /// Live events for this instance's streams, relayed to and from the other instances sharing the database.
    var events = QuestionEvents()
    /// The per-caller rate limit for `limit` asks a minute, shared by every instance (nil: this process's own).
    var rateLimit: @Sendable (Int) -> (any RateLimit)? = { _ in nil }
    /// What runs beside the server for the database (PostgreSQL: the live event relay).
    var services: [any Service] = []
    let close: @Sendable () async -> Void

    /// Opens (creating and migrating if needed) the database chosen. On PostgreSQL the pool keeps `keptOpen` connections
    /// open (all of them when nil: a server's).
    static func open(_ choice: DatabaseChoice, logger: Logger = Logger(label: "skillrelay.database"), keptOpen: Int? = nil) async throws
        -> Stores
    {
        switch choice {
        case .sqlite(let path): sqlite(try AppDatabase.open(path: path), name: path)
        case .postgres(let location):
            postgres(
                try await PostgresAppDatabase.open(url: location.url, logger: logger, keptOpen: keptOpen), name: location.description,
                logger: logger)
        }
    }

    /// Opens the database, runs `body` with its stores and closes it again, whatever happens: for a command that does
    /// one thing and exits, which needs one connection open, not a server's twenty.
    static func with<T: Sendable>(_ choice: DatabaseChoice, _ body: (Stores) async throws -> T) async throws -> T {
        let stores = try await open(choice, keptOpen: 1)
        do {
            let value = try await body(stores)
            await stores.close()
            return value
        } catch {
            await stores.close()
            throw error
        }
    }

    static func sqlite(_ database: AppDatabase, name: String) -> Stores {
        let directory = SQLiteDirectoryStore(database: database)
        let web = SQLiteWebStore(database: database)
        return Stores(
            name: name, directory: directory, web: web, imState: SQLiteIMState(database: database),
            questionStore: { SQLiteQuestionStore(database: database, learning: $0) },
            isEmpty: { try await directory.isEmpty() },
            firstActiveAdmin: { try await web.firstActiveAdmin() },
            setting: { key, make in try database.setting(key, makingWith: make) },
            // One process owns a SQLite file: nobody else starts beside it.
            firstStart: { body in try await body() },
            close: {})
    }
}

extension Stores {
    static func postgres(_ database: PostgresAppDatabase, name: String, logger: Logger) -> Stores {
        let directory = PostgresDirectoryStore(database: database)
        let web = PostgresWebStore(database: database)
        var stores = Stores(
            name: name, directory: directory, web: web, imState: PostgresIMState(database: database),
            questionStore: { PostgresQuestionStore(database: database, learning: $0) },
            isEmpty: { try await directory.isEmpty() },
            firstActiveAdmin: { try await web.firstActiveAdmin() },
            setting: { key, make in try await database.setting(key, makingWith: make) },
            // Instances started together: the first takes the lock and loads; the others wait, then find it loaded.
            firstStart: { body in try await database.withSetupLock { _ in try await body() } },
            close: { await database.close() })
        stores.leadership = PostgresLeadership(database: database, logger: logger)
        stores.events = QuestionEvents(relay: PostgresEventRelay(database: database, logger: logger))
        stores.rateLimit = { limit in PostgresRateLimiter(database: database, scope: "asks", limit: limit, logger: logger) }
        stores.services = [EventRelayService(events: stores.events)]
        return stores
    }
}

/// Relays this instance's live events to the others and theirs to its streams, until shutdown.
struct EventRelayService: Service {
    let events: QuestionEvents

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await events.relayEvents() }
        } catch is CancellationError {}
    }
}

extension CLIErrors {
    /// `body` with the stores of the database `choose` picks, closed afterwards; any error said as the CLI says them.
    static func reporting<T: Sendable>(with choose: @autoclosure () throws -> DatabaseChoice, _ body: (Stores) async throws -> T) async throws -> T {
        try await reporting { try await Stores.with(try choose(), body) }
    }
}
