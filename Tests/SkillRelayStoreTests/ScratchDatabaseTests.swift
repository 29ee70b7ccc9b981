import Foundation
import GRDB
import GRDBSQLite
import SkillRelayTestSupport
import Testing

@testable import SkillRelayStore

@Suite struct ScratchDatabaseTests {
    /// The simulation's database is one connection. GRDB guards a read on one connection with `PRAGMA query_only`,
    /// and SQLite expires every prepared statement of the connection when that pragma runs: each cached statement was
    /// compiled again at its next use, 40 % of a simulation's CPU.
    @Test func aScratchDatabasesReadsKeepItsPreparedStatements() async throws {
        let file = ScratchSQLiteFile("skillrelay")
        defer { file.remove() }
        let path = file.path
        let database = try AppDatabase.openScratch(path: path)
        let sql = "SELECT count(*) FROM employee"
        // Given a statement compiled and cached by a read
        _ = try await database.read { db in try Int.fetchOne(db.cachedStatement(sql: sql)) }
        // When a write and another read run, as between two simulated events
        try await database.writer.write { db in
            try db.execute(sql: "INSERT INTO setting (key, value) VALUES ('scratch', 'x')")
        }
        let reprepared = try await database.read { db in
            let statement = try db.cachedStatement(sql: sql)
            _ = try Int.fetchOne(statement)
            return sqlite3_stmt_status(statement.sqliteStatement, SQLITE_STMTSTATUS_REPREPARE, 0)
        }
        // Then the cached statement ran as compiled the first time
        #expect(reprepared == 0)
        // And the blocking read keeps it too
        let blocking = try database.blockingRead { db in
            let statement = try db.cachedStatement(sql: sql)
            _ = try Int.fetchOne(statement)
            return sqlite3_stmt_status(statement.sqliteStatement, SQLITE_STMTSTATUS_REPREPARE, 0)
        }
        #expect(blocking == 0)
    }

    @Test func aScratchDatabasesReadSeesOneStateAndReturnsItsResult() async throws {
        let file = ScratchSQLiteFile("skillrelay")
        defer { file.remove() }
        let path = file.path
        let database = try AppDatabase.openScratch(path: path)
        try await database.writer.write { db in
            try db.execute(sql: "INSERT INTO setting (key, value) VALUES ('a', '1'), ('b', '2')")
        }
        let (values, inTransaction) = try await database.read { db in
            (try String.fetchAll(db, sql: "SELECT value FROM setting WHERE key IN ('a', 'b') ORDER BY key"), db.isInsideTransaction)
        }
        #expect(values == ["1", "2"])
        #expect(inTransaction)
    }
}
