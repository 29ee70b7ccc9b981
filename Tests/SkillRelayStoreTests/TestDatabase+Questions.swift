import Foundation
import SkillRelayDomain
import SkillRelayTestSupport

@testable import SkillRelayPostgres
@testable import SkillRelayStore

extension TestDatabase {
    /// The question store on this database.
    func questionStore(clock: TestClock = TestClock(), learning: RoutingLearning = RoutingLearning()) -> any QuestionStore & StatsStore {
        switch self {
        case .sqlite(let database): SQLiteQuestionStore(database: database, clock: clock, learning: learning)
        case .postgres(let database): PostgresQuestionStore(database: database, clock: clock, learning: learning)
        }
    }
}

extension TestDatabase {
    /// Queues messages as a store's transaction would.
    func enqueue(_ messages: [OutboxMessage], now: Date) async throws {
        switch self {
        case .sqlite(let database):
            try await database.writer.write { db in
                for message in messages { try SQLiteQuestionStore.enqueue(db, message, now: now) }
            }
        case .postgres(let database):
            try await database.write { connection in
                for message in messages { try await PostgresQuestionStore.enqueue(connection, message, now: now) }
            }
        }
    }
}
