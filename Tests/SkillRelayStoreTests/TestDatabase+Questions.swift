import Foundation
import SkillRelayDomain
import SkillRelayTestSupport

@testable import SkillRelayPostgres
@testable import SkillRelayStore

/// What the question-store conformance tests call, on either backend: the core of `QuestionStore` and `StatsStore`.
/// (`PostgresQuestionStore` declares `QuestionStore` once its threads, reveals and plain answers are merged; until then
/// the tests reach both stores through this.)
protocol QuestionCore: StatsStore {
    func candidates(_ query: CandidateQuery, now: Date) async throws -> [Candidate]
    func hasSpecialists(_ query: CandidateQuery) async throws -> Bool
    func setPause(of handle: String, until: Date?, now: Date) async throws
    func createQuestion(_ question: NewQuestion, firstWave: [Candidate], nextActionAt: Date) async throws -> CreatedQuestion
    func waveContext(question id: String) async throws -> WaveContext?
    func recordWave(question id: String, after waves: Int, to specialists: [Candidate], nextActionAt: Date, now: Date) async throws -> WaveOutcome?
    func expireQuestion(_ id: String, now: Date) async throws -> Bool
    func dueQuestions(now: Date, limit: Int) async throws -> [String]
    func recordAnswer(delivery id: String, by handle: String, text: String, labeling: AnswerLabeling, now: Date) async throws -> AnswerResult
    func recordPass(delivery id: String, by handle: String, now: Date) async throws -> (questionID: String, nonePending: Bool)
    func rateAnswer(question id: String, rank: Int, helpful: Bool, by asker: Asker?, isAdmin: Bool, now: Date) async throws
    func questionView(_ id: String, for asker: Asker?, isAdmin: Bool) async throws -> QuestionView
    func complianceEntries(since: Date, until: Date?) async throws -> [ComplianceEntry]
    func pendingOutbox(now: Date, limit: Int, excluding destinations: Set<String>) async throws -> [OutboxItem]
    func markOutboxSent(_ ids: [Int64], references: [String: String], now: Date) async throws
    func markOutboxFailed(_ id: Int64, error: String, retryAt: Date?) async throws
    func deferOutbox(_ id: Int64, until: Date, reason: String) async throws
    func nextDueTime() async throws -> Date?
}

extension SQLiteQuestionStore: QuestionCore {}
extension PostgresQuestionStore: QuestionCore {}

extension TestDatabase {
    /// The question store on this database.
    func questionStore(clock: TestClock = TestClock(), learning: RoutingLearning = RoutingLearning()) -> any QuestionCore {
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
