import Logging
import PostgresNIO
import Synchronization

/// Connections of their own, outside the pool, for what must stay on one session for a long time: the advisory lock
/// the leader holds, the relay's `LISTEN`. They close with the database, and none opens after it closed.
final class DedicatedConnections: Sendable {
    private struct State {
        var closed = false
        var nextID = 1
        var open: [Int: PostgresConnection] = [:]
    }

    private let state = Mutex(State())

    /// A new connection to `location`, named `skillrelay <purpose>` in `pg_stat_activity`.
    func connect(to location: PostgresLocation, purpose: String, logger: Logger) async throws -> PostgresConnection {
        let id = try state.withLock { state in
            guard !state.closed else { throw PostgresDatabaseClosed() }
            defer { state.nextID += 1 }
            return state.nextID
        }
        var configuration = try location.connectionConfiguration()
        configuration.options.connectTimeout = .seconds(10)
        configuration.options.additionalStartupParameters = [("application_name", "skillrelay \(purpose)")]
        let connection = try await PostgresConnection.connect(
            on: PostgresClient.defaultEventLoopGroup.any(), configuration: configuration, id: id, logger: logger
        ).get()
        let kept = state.withLock { state in
            guard !state.closed else { return false }
            state.open[id] = connection
            return true
        }
        guard kept else {
            try? await connection.close()
            throw PostgresDatabaseClosed()
        }
        return connection
    }

    /// Closes one connection opened here (a dead one too).
    func close(_ connection: PostgresConnection) async {
        _ = state.withLock { $0.open.removeValue(forKey: connection.id) }
        try? await connection.close()
    }

    /// Closes every connection, and refuses new ones from now on.
    func closeAll() async {
        let all = state.withLock { state in
            state.closed = true
            defer { state.open = [:] }
            return Array(state.open.values)
        }
        for connection in all { try? await connection.close() }
    }

    var isClosed: Bool { state.withLock { $0.closed } }
}

/// The database was closed: what was running on it stops rather than reconnecting.
public struct PostgresDatabaseClosed: Error, CustomStringConvertible {
    public var description: String { "the PostgreSQL database was closed" }
}
