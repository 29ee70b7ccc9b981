import Foundation
import Logging
import NIOCore
import PostgresNIO
import SkillRelayDomain

/// A PostgreSQL database shared by every SkillRelay instance: a connection pool, migrated to the current schema on
/// open under a lock, so that instances started at the same moment migrate once.
///
/// Write transactions take one transaction-scoped advisory lock first (`write`): SkillRelay's stores were written for
/// SQLite's single writer (a rank decided by reading then writing, a wave recorded once), and the lock keeps exactly
/// those semantics across instances without each method re-deriving its own row locks. Reads run without it.
public final class PostgresAppDatabase: Sendable {
    public let location: PostgresLocation
    public let client: PostgresClient
    let logger: Logger
    private let runner: Task<Void, Never>
    private let heartbeat: Task<Void, Never>
    /// Connections outside the pool (the leader's lock, the event relay's `LISTEN`), closed with it.
    let dedicated = DedicatedConnections()

    /// How the pool's connections name themselves in `pg_stat_activity`.
    public static let poolApplicationName = "skillrelay pool"

    /// The advisory lock every write transaction holds (`pg_advisory_xact_lock`).
    static let writeLock: Int64 = 0x536B_696C_6C52_0001
    /// The advisory lock around migrations and the first load of a directory (`pg_advisory_lock`).
    public static let setupLock: Int64 = 0x536B_696C_6C52_0002

    private init(location: PostgresLocation, client: PostgresClient, connections: Int, heartbeat timing: PoolHeartbeat.Timing, logger: Logger) {
        self.location = location
        self.client = client
        self.logger = logger
        self.runner = Task { await client.run() }
        let heartbeat = PoolHeartbeat(client: client, connections: connections, timing: timing, logger: logger)
        self.heartbeat = Task { await heartbeat.run() }
    }

    /// Connects (a clear `PostgresSetupError` when the server cannot be reached or refuses the login), starts the pool
    /// and migrates the schema under the setup lock.
    ///
    /// The pool keeps `keptOpen` of its `maximumConnections` open from the start (all of them unless said otherwise),
    /// and reopens any of those that closes: a connection that stays needs no idle timer, and the pool's keep-alive is
    /// `PoolHeartbeat`'s, so that taking such a connection out and putting it back schedules nothing (postgres-nio's
    /// timers cost each statement more than a round trip's worth of CPU). Connections beyond `keptOpen` open when
    /// needed and close after a minute unused.
    public static func open(
        url: String, logger: Logger = Logger(label: "skillrelay.postgres"), maximumConnections connections: Int = 20,
        keptOpen: Int? = nil, heartbeat: PoolHeartbeat.Timing = .standard
    ) async throws -> PostgresAppDatabase {
        let kept = min(max(keptOpen ?? connections, 0), connections)
        let location = try PostgresLocation(url: url)
        try await check(location, logger: logger)
        var configuration = location.clientConfiguration
        configuration.options.maximumConnections = connections
        configuration.options.minimumConnections = kept
        configuration.options.keepAliveBehavior = nil
        configuration.options.connectTimeout = .seconds(10)
        configuration.options.additionalStartupParameters = [("application_name", Self.poolApplicationName)]
        let database = PostgresAppDatabase(
            location: location, client: PostgresClient(configuration: configuration), connections: kept, heartbeat: heartbeat,
            logger: logger)
        do {
            try await database.migrate()
        } catch {
            await database.close()
            throw error
        }
        return database
    }

    /// One connection, opened and closed, to turn "refused", "no such database" and "wrong password" into messages
    /// before a pool would retry them quietly.
    static func check(_ location: PostgresLocation, logger: Logger) async throws {
        var configuration = try location.connectionConfiguration()
        configuration.options.connectTimeout = .seconds(10)
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(
                on: PostgresClient.defaultEventLoopGroup.any(), configuration: configuration, id: 0, logger: logger
            ).get()
        } catch let error as PSQLError where error.serverInfo != nil {
            throw PostgresSetupError.refused(location.description, error.serverInfo?[.message] ?? "\(error.code)")
        } catch let error as PSQLError {
            throw PostgresSetupError.unreachable(location.description, Self.reason(error))
        } catch {
            throw PostgresSetupError.unreachable(location.description, "\(error)")
        }
        try? await connection.close()
    }

    static func reason(_ error: PSQLError) -> String {
        if let underlying = error.underlying { return "\(underlying)" }
        return "\(error.code)"
    }

    /// Stops the pool and closes the connections outside it. Nothing may use the database afterwards.
    public func close() async {
        heartbeat.cancel()
        _ = await heartbeat.value
        await dedicated.closeAll()
        runner.cancel()
        _ = await runner.value
    }

    /// A transaction holding the write lock: one writer at a time across every instance, as with SQLite.
    public func write<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await transaction(holding: Self.writeLock, body)
    }

    /// A transaction holding the advisory lock `lock` (`pg_advisory_xact_lock`) from its first statement, or with `nil`
    /// none. Throws what `body` threw: a `DirectoryError` reaches the caller as itself, as from the SQLite stores, not
    /// wrapped in postgres-nio's `PostgresTransactionError`.
    public func transaction<T: Sendable>(holding lock: Int64?, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await unavailableUntilConnected { connected in
                try await client.withTransaction(logger: logger) { connection in
                    connected = true
                    if let lock { try await connection.query("SELECT pg_advisory_xact_lock(\(lock))", logger: logger) }
                    return try await body(connection)
                }
            }
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error.beginError ?? error.commitError ?? error
        }
    }

    /// A read-only transaction (one snapshot for every statement in it), without the write lock.
    public func read<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await unavailableUntilConnected { connected in
            try await readTransaction { connection in
                connected = true
                return try await body(connection)
            }
        }
    }

    /// A pooled connection for reads that need no transaction: one statement sees one snapshot by itself, so a read of
    /// one statement saves `read`'s BEGIN and COMMIT, two round trips out of three.
    public func withoutTransaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await unavailableUntilConnected { connected in
            try await client.withConnection { connection in
                connected = true
                return try await body(connection)
            }
        }
    }

    /// Runs `work`, which sets `connected` once it holds a connection: what fails before that is the database out of
    /// reach (`PostgresUnavailable`, which the API answers with 503); what fails after is the work's own error. A
    /// failed transaction is passed on as it is, for `transaction` to unwrap.
    private func unavailableUntilConnected<T>(_ work: (inout Bool) async throws -> T) async throws -> T {
        var connected = false
        do {
            return try await work(&connected)
        } catch let error as PostgresTransactionError {
            throw error
        } catch {
            throw connected ? error : PostgresUnavailable(underlying: error)
        }
    }

    private func readTransaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            try await connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            do {
                let value = try await body(connection)
                try await connection.query("COMMIT", logger: logger)
                return value
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    /// `body` on one connection holding the session-level setup lock: migrations, and a first load of the directory
    /// that must happen once however many instances start together.
    public func withSetupLock<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(Self.setupLock))", logger: logger)
            do {
                let value = try await body(connection)
                try await connection.query("SELECT pg_advisory_unlock(\(Self.setupLock))", logger: logger)
                return value
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.setupLock))", logger: logger)
                throw error
            }
        }
    }

    /// A kept value, made by `make` and stored the first time it is asked for (the same on every instance).
    public func setting(_ key: String, makingWith make: @Sendable () -> String) async throws -> String {
        try await write { connection in
            let made = make()
            try await connection.query(
                "INSERT INTO setting (key, value) VALUES (\(key), \(made)) ON CONFLICT (key) DO NOTHING", logger: logger)
            for try await value in try await connection.query("SELECT value FROM setting WHERE key = \(key)", logger: logger)
                .decode(String.self)
            {
                return value
            }
            return made
        }
    }
}

/// No connection could be had from the pool: the database server is down, restarting or out of reach. The pool keeps
/// trying, and the next request that gets a connection succeeds.
public struct PostgresUnavailable: StoreFailure, CustomStringConvertible {
    public var underlying: any Error
    public var isBusy: Bool { true }
    public var isUnreachable: Bool { true }
    public var description: String { "PostgreSQL cannot be reached: \(String(reflecting: underlying))" }
}

/// The errors that mean "PostgreSQL is not there right now" — a dropped connection, a pool that cannot connect, a
/// server shutting down — are busy, not broken: the server answers 503 and the pool reconnects by itself.
extension PSQLError: StoreFailure {
    public var isUnreachable: Bool {
        switch code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed: true
        case .server: ["57P01", "57P02", "57P03"].contains(serverInfo?[.sqlState] ?? "")
        default: false
        }
    }

    public var isBusy: Bool {
        switch code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed: return true
        case .server:
            // 40001 serialization failure, 40P01 deadlock, 55P03 lock not available, 57P01-57P03 shutdown / cannot
            // connect now, 53300 too many connections.
            let state = serverInfo?[.sqlState] ?? ""
            return ["40001", "40P01", "55P03", "57P01", "57P02", "57P03", "53300"].contains(state)
        default: return false
        }
    }
}
