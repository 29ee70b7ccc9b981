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
    func threadStore(clock: TestClock = TestClock()) throws -> any QuestionStore {
        switch self {
        case .sqlite(let database): SQLiteQuestionStore(database: database, clock: clock)
        case .postgres(let database): PostgresQuestionStore(database: database, clock: clock)
        }
    }

    /// The directory store with its suggestions, for the suggestion tests.
    func suggestionDirectory(clock: TestClock = TestClock()) throws -> any DirectoryStore & SuggestionStore {
        try directoryStore(clock: clock)
    }
}

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
