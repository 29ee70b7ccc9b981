import Foundation
import GRDB
import PostgresNIO
import SkillRelayDomain
import SkillRelayPostgres
import SkillRelayTestSupport

@testable import SkillRelayStore

extension TestDatabase {
    /// The IM adapter's state (and its sealed keys) on this database.
    func imState(clock: TestClock = TestClock()) -> any IMStateStore & IMKeyStore {
        switch self {
        case .sqlite(let database): SQLiteIMState(database: database, clock: clock)
        case .postgres(let database): PostgresIMState(database: database, clock: clock)
        }
    }

    /// The question store on this database, as the thread, reveal, plain-answer and suggestion tests use it.
    func threadStore(clock: TestClock = TestClock()) throws -> any ThreadStore {
        switch self {
        case .sqlite(let database): SQLiteQuestionStore(database: database, clock: clock)
        // PostgresQuestionStore(database: database, clock: clock) once pg-questions' core (createQuestion, inbox,
        // recordAnswer, …) is merged, with `extension PostgresQuestionStore: ThreadStore {}` below.
        case .postgres: throw TestPostgresError.noStoreYet("PostgresQuestionStore's core")
        }
    }

    /// The directory store with its suggestions, for the suggestion tests.
    func suggestionDirectory(clock: TestClock = TestClock()) throws -> any DirectoryStore & SuggestionStore {
        switch self {
        case .sqlite(let database): SQLiteDirectoryStore(database: database, clock: clock)
        // PostgresDirectoryStore(database: database, clock: clock) once pg-directory is merged.
        case .postgres: throw TestPostgresError.noStoreYet("PostgresDirectoryStore")
        }
    }
}

/// What the thread, reveal, plain-answer and suggestion conformance tests call, on either backend: `PlainAnswerStore`
/// and the part of `QuestionStore` around it. (`PostgresQuestionStore` declares `QuestionStore` once the branches porting it
/// are merged; until then the tests reach both stores through this.)
protocol ThreadStore: PlainAnswerStore {
    func createQuestion(_ question: NewQuestion, firstWave: [Candidate], nextActionAt: Date) async throws -> CreatedQuestion
    func recordAnswer(delivery id: String, by handle: String, text: String, labeling: AnswerLabeling, now: Date) async throws -> AnswerResult
    func recordPass(delivery id: String, by handle: String, now: Date) async throws -> (questionID: String, nonePending: Bool)
    func expireQuestion(_ id: String, now: Date) async throws -> Bool
    func cancelQuestion(_ id: String, by asker: Asker?, isAdmin: Bool, now: Date) async throws
    func rateAnswer(question id: String, rank: Int, helpful: Bool, by asker: Asker?, isAdmin: Bool, now: Date) async throws
    func questionView(_ id: String, for asker: Asker?, isAdmin: Bool) async throws -> QuestionView
    func inbox(of handle: String, page: PageRequest) async throws -> ListPage<InboxItem>
    func complianceEntries(since: Date, until: Date?) async throws -> [ComplianceEntry]
    func pendingOutbox(now: Date, limit: Int, excluding destinations: Set<String>) async throws -> [OutboxItem]
    func markOutboxSent(_ ids: [Int64], references: [String: String], now: Date) async throws
    func reveal(_ action: RevealAction, question id: String, rank: Int, by asker: Asker, now: Date) async throws -> RevealChange
    func reveal(_ action: RevealAction, delivery id: String, by handle: String, now: Date) async throws -> RevealChange
    func recordFollowUp(by author: FollowUpAuthor, text: String, openFor: TimeInterval, now: Date) async throws -> RecordedFollowUp
    func thread(forMessageReference reference: String) async throws -> ThreadReference?
    func openThreads(of asker: Asker, openFor: TimeInterval, now: Date) async throws -> [OpenThreads]
}

extension SQLiteQuestionStore: ThreadStore {}

// MARK: - Looking inside, for the suggestion tests

extension TestDatabase {
    /// How many suggestions and stale flags there are, of any status.
    func suggestionCount() async throws -> Int {
        switch self {
        case .sqlite(let database):
            try await database.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM skillSuggestion") ?? 0 }
        case .postgres(let database):
            try await database.read { connection in
                try await connection.query("SELECT count(*) FROM skillSuggestion", logger: TestPostgres.logger).collect().first?.decode(Int.self) ?? 0
            }
        }
    }

    /// The audit log's entries on one kind of entity, oldest first.
    func auditEntries(_ entity: String) async throws -> [(key: String, action: String, actor: String)] {
        switch self {
        case .sqlite(let database):
            try await database.writer.read { db in
                try Row.fetchAll(db, sql: "SELECT entityKey, action, actor FROM auditEntry WHERE entity = ? ORDER BY id", arguments: [entity])
                    .map { ($0["entityKey"], $0["action"], $0["actor"]) }
            }
        case .postgres(let database):
            try await database.read { connection in
                try await connection.query(
                    "SELECT entityKey, action, actor FROM auditEntry WHERE entity = \(entity) ORDER BY id", logger: TestPostgres.logger
                ).collect().map { row in
                    let (key, action, actor) = try row.decode((String, String, String).self)
                    return (key, action, actor)
                }
            }
        }
    }

    /// Makes every compliance entry of one kind fail to be written (`true`), or lets them be written again: a way to
    /// fail a transaction at its last write, and see that nothing of it stays.
    func failComplianceEntries(ofKind kind: String, _ failing: Bool) async throws {
        precondition(kind.allSatisfy(\.isLetter), "a kind is a plain word")
        let statements: [String]
        switch (self, failing) {
        case (.sqlite, true):
            statements = [
                "CREATE TEMP TRIGGER fail_\(kind) BEFORE INSERT ON complianceEntry WHEN new.kind = '\(kind)' BEGIN SELECT RAISE(ABORT, 'no'); END"
            ]
        case (.sqlite, false):
            statements = ["DROP TRIGGER fail_\(kind)"]
        case (.postgres, true):
            statements = [
                "CREATE OR REPLACE FUNCTION failComplianceEntry() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no'; END $$",
                """
                CREATE TRIGGER fail_\(kind) BEFORE INSERT ON complianceEntry FOR EACH ROW WHEN (NEW.kind = '\(kind)')
                EXECUTE FUNCTION failComplianceEntry()
                """,
            ]
        case (.postgres, false):
            statements = ["DROP TRIGGER fail_\(kind) ON complianceEntry"]
        }
        switch self {
        case .sqlite(let database):
            try await database.writer.write { db in for statement in statements { try db.execute(sql: statement) } }
        case .postgres(let database):
            try await database.write { connection in
                for statement in statements { try await connection.query(PostgresQuery(unsafeSQL: statement), logger: TestPostgres.logger) }
            }
        }
    }
}
