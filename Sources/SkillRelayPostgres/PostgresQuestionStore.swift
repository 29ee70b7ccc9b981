import Foundation
import Logging
import PostgresNIO
import SkillRelayDomain
import Synchronization

/// Questions, deliveries, answers, local presence, the compliance log and the outbox on PostgreSQL: the SQLite store's
/// behaviour, shared by every instance. Writes hold the database's write lock (one writer at a time, as with SQLite);
/// the outbox and the due questions are claimed with a lease, so that two instances never take the same one.
public struct PostgresQuestionStore: Sendable {
    let database: PostgresAppDatabase
    let clock: any WallClock
    /// How the learned routing's statistics decay, and what counts as in time.
    let learning: RoutingLearning
    /// What this instance claimed and has not marked yet (shared by every copy of the store).
    let claims = Claims()

    public init(database: PostgresAppDatabase, clock: any WallClock = SystemWallClock(), learning: RoutingLearning = RoutingLearning()) {
        self.database = database
        self.clock = clock
        self.learning = learning
    }

    /// How long a claimed outbox message or due question stays with the instance that claimed it: if that instance
    /// dies before it marks the row, another takes it once the lease is over.
    static let claimLease: TimeInterval = 60
    /// The advisory lock claims of outbox messages take (`pg_advisory_xact_lock`): one claimer at a time, so that a
    /// claim sees every claim made before it and a destination's messages never go to two instances at once.
    static let outboxClaimLock: Int64 = 0x536B_696C_6C52_0010
    /// The same for due questions.
    static let questionClaimLock: Int64 = 0x536B_696C_6C52_0011

    /// A transaction holding `lock` rather than the write lock: claims do not wait for the ask path's writes.
    func claiming<T: Sendable>(_ lock: Int64, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await database.client.withTransaction(logger: database.logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(lock))", logger: database.logger)
            return try await body(connection)
        }
    }
}

/// The outbox messages and due questions one store instance claimed and has not marked yet. A claim keeps other
/// instances away for the lease; the instance that holds it may read the row again (as SQLite's store would return it
/// on the next drain, for instance when a drain read more than its workers could take).
final class Claims: Sendable {
    private let outboxIDs = Mutex<Set<Int64>>([])
    private let questionIDs = Mutex<Set<String>>([])

    var outbox: [Int64] { outboxIDs.withLock { Array($0) } }
    var questions: [String] { questionIDs.withLock { Array($0) } }

    func holdOutbox(_ ids: [Int64]) { outboxIDs.withLock { $0.formUnion(ids) } }
    func releaseOutbox(_ ids: [Int64]) { outboxIDs.withLock { $0.subtract(ids) } }
    func holdQuestions(_ ids: [String]) { questionIDs.withLock { $0.formUnion(ids) } }
    func releaseQuestions(_ ids: [String]) { questionIDs.withLock { $0.subtract(ids) } }
}
