import Logging
import PostgresNIO
import SkillRelayDomain

/// Leadership among the instances sharing one PostgreSQL: the leader holds a session advisory lock on a connection of
/// its own. PostgreSQL lets go of the lock when that session ends, however it ends (the instance killed, its machine
/// gone once the server notices, the backend terminated), and the next instance to try takes it.
///
/// Standing by, an instance tries for the lock every `retryInterval`; leading, it checks its connection every
/// `checkInterval` (a dead connection means the lock is gone, so the work stops at once). With the defaults another
/// instance takes over within about five seconds of a leader's death, once PostgreSQL has noticed it (at once for a
/// killed process, whose socket closes; a vanished machine only after the server's TCP keepalive gives up on it).
public struct PostgresLeadership: Leadership {
    let database: PostgresAppDatabase
    let retryInterval: Duration
    let checkInterval: Duration
    let logger: Logger

    /// The first key of the two-key advisory locks naming a lead ("SkLd"); the second is the name's `hashtext`. The
    /// two-key form never meets the one-key locks `PostgresAppDatabase` takes.
    static let lockClass: Int32 = 0x536B_4C64
    /// How often the leader looks whether its connection's socket closed (cheap: no query).
    static let closedPoll: Duration = .milliseconds(100)

    public init(database: PostgresAppDatabase, retryInterval: Duration = .seconds(5), checkInterval: Duration = .seconds(5), logger: Logger) {
        self.database = database
        self.retryInterval = retryInterval
        self.checkInterval = checkInterval
        self.logger = logger
    }

    public func whileLeading(_ name: String, _ body: @escaping @Sendable () async throws -> Void) async throws {
        var saidStandingBy = false
        while true {
            try Task.checkCancellation()
            let connection: PostgresConnection
            do {
                connection = try await database.dedicated.connect(to: database.location, purpose: "leadership", logger: logger)
            } catch let closed as PostgresDatabaseClosed {
                throw closed
            } catch {
                logger.warning(
                    "cannot reach PostgreSQL to find who leads \(name); trying again",
                    metadata: ["skillrelay.lead": "\(name)", "skillrelay.error": "\(error)"])
                try await Task.sleep(for: retryInterval)
                continue
            }
            do {
                while try await !Self.tryLock(name, on: connection, logger: logger) {
                    if !saidStandingBy {
                        logger.notice("another instance leads \(name); standing by", metadata: ["skillrelay.lead": "\(name)"])
                        saidStandingBy = true
                    }
                    try await Task.sleep(for: retryInterval)
                }
            } catch {
                await database.dedicated.close(connection)
                if error is CancellationError || Task.isCancelled { throw CancellationError() }
                logger.warning(
                    "lost the connection to PostgreSQL while standing by for \(name); reconnecting",
                    metadata: ["skillrelay.lead": "\(name)", "skillrelay.error": "\(error)"])
                continue
            }
            saidStandingBy = false
            let ending: Ending
            do {
                ending = try await lead(on: connection, body)
            } catch {
                await release(name, on: connection)
                throw error
            }
            switch ending {
            case .returned:
                await release(name, on: connection)
                return
            case .lost, .unwatched:
                await database.dedicated.close(connection)
                logger.warning(
                    "lost the lead of \(name) (its connection to PostgreSQL is gone); stopped it and standing by again",
                    metadata: ["skillrelay.lead": "\(name)"])
                // The instance that lost its connection is the likelier to be in trouble: the others try first.
                try await Task.sleep(for: retryInterval)
            }
        }
    }

    private enum Ending: Sendable {
        case returned, lost
        /// The connection's watcher was cancelled along with the body: the body's ending decides.
        case unwatched
    }

    /// Runs `body` while the lock's connection answers; cancels it as soon as it does not.
    private func lead(on connection: PostgresConnection, _ body: @escaping @Sendable () async throws -> Void) async throws -> Ending {
        try await withThrowingTaskGroup(of: Ending.self) { group in
            group.addTask {
                try await body()
                return .returned
            }
            group.addTask {
                // A closed socket is seen at once; a connection that stopped answering, by the next query.
                var sinceQuery: Duration = .zero
                while true {
                    do {
                        try await Task.sleep(for: Self.closedPoll)
                    } catch {
                        return .unwatched
                    }
                    if connection.isClosed { return .lost }
                    sinceQuery += Self.closedPoll
                    guard sinceQuery >= checkInterval else { continue }
                    sinceQuery = .zero
                    guard await connection.answers(within: checkInterval, logger: logger) else { return .lost }
                }
            }
            while let ending = try await group.next() {
                guard ending != .unwatched else { continue }
                // The group waits for the body to stop before it returns: only then does this instance stand by again.
                group.cancelAll()
                return ending
            }
            return .returned
        }
    }

    static func tryLock(_ name: String, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        let rows = try await connection.query("SELECT pg_try_advisory_lock(\(lockClass), hashtext(\(name)))", logger: logger)
        // Read to the end, so that the connection is idle (and reading) while the lead is held.
        var held = false
        for try await row in rows.decode(Bool.self) { held = row }
        return held
    }

    /// Lets go of the lead (unlocking first, so another instance need not wait for the session to end).
    private func release(_ name: String, on connection: PostgresConnection) async {
        _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.lockClass), hashtext(\(name)))", logger: logger)
        await database.dedicated.close(connection)
    }
}
