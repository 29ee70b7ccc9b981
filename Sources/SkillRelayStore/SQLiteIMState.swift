import Foundation
import GRDB
import SkillRelayDomain

/// An IM adapter's state in the directory's database.
public struct SQLiteIMState: IMStateStore {
    let database: AppDatabase
    let clock: any WallClock

    public init(database: AppDatabase, clock: any WallClock = SystemWallClock()) {
        self.database = database
        self.clock = clock
    }

    public func conversation(with imID: String) async throws -> String? {
        try await database.writer.read { db in
            try String.fetchOne(db, sql: "SELECT conversation FROM imConversation WHERE imId = ?", arguments: [imID])
        }
    }

    public func setConversation(_ conversation: String, with imID: String) async throws {
        try await database.writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO imConversation (imId, conversation) VALUES (?, ?)
                    ON CONFLICT (imId) DO UPDATE SET conversation = excluded.conversation
                    """, arguments: [imID, conversation])
        }
    }

    public func inboundCursor() async throws -> String? {
        try await database.writer.read { db in try String.fetchOne(db, sql: "SELECT value FROM setting WHERE key = 'im.cursor'") }
    }

    public func setInboundCursor(_ cursor: String) async throws {
        try await database.writer.write { db in
            try db.execute(
                sql: "INSERT INTO setting (key, value) VALUES ('im.cursor', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                arguments: [cursor])
        }
    }

    public func markHandled(event id: String) async throws -> Bool {
        let now = clock.now()
        return try await database.writer.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO imHandledEvent (eventId, handledAt) VALUES (?, ?)", arguments: [id, now])
            return db.changesCount == 1
        }
    }

    public func delivery(forMessageReference reference: String) async throws -> String? {
        try await database.writer.read { db in
            try String.fetchOne(db, sql: "SELECT publicId FROM delivery WHERE imReference = ?", arguments: [reference])
        }
    }

    public func caller(forIMID imID: String) async throws -> Caller? {
        try await database.writer.read { db in
            guard let employee = try EmployeeRecord.filter(EmployeeRecord.Columns.imId == imID).fetchOne(db) else { return nil }
            return try SQLiteDirectoryStore.caller(db, employee: employee)
        }
    }
}
