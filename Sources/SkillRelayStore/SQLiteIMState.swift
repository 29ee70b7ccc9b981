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
        try await database.read { db in
            try String.fetchOne(db, sql: "SELECT conversation FROM imConversation WHERE imId = ?", arguments: [imID])
        }
    }

    public func setConversation(_ conversation: String, with imID: String) async throws {
        try await database.writer.write { db in
            try db.execute(
                sql: """
                    INSERT INTO imConversation (imId, conversation, joined) VALUES (?, ?, 1)
                    ON CONFLICT (imId) DO UPDATE SET conversation = excluded.conversation, joined = 1
                    """, arguments: [imID, conversation])
        }
    }

    public func contacts(_ imIDs: [String]) async throws -> [String: IMContact] {
        guard !imIDs.isEmpty else { return [:] }
        return try await database.read { db in
            var contacts = Dictionary(imIDs.map { ($0, IMContact.stranger) }, uniquingKeysWith: { first, _ in first })
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT imId, conversation, joined, NULL AS invitedAt FROM imConversation WHERE imId IN (\(databaseQuestionMarks(count: imIDs.count)))
                    UNION ALL
                    SELECT imId, NULL, NULL, invitedAt FROM imContact WHERE imId IN (\(databaseQuestionMarks(count: imIDs.count)))
                    """, arguments: StatementArguments(imIDs + imIDs))
            for row in rows {
                let imID: String = row["imId"]
                if let conversation: String = row["conversation"] {
                    contacts[imID]?.conversation = conversation
                    contacts[imID]?.joined = row["joined"]
                } else {
                    contacts[imID]?.invitedAt = row["invitedAt"]
                }
            }
            return contacts
        }
    }

    public func setInvitation(_ conversation: String?, to imID: String, at time: Date) async throws {
        try await database.writer.write { db in
            try db.execute(
                sql: "INSERT INTO imContact (imId, invitedAt) VALUES (?, ?) ON CONFLICT (imId) DO UPDATE SET invitedAt = excluded.invitedAt",
                arguments: [imID, time])
            guard let conversation else { return }
            try db.execute(
                sql: """
                    INSERT INTO imConversation (imId, conversation, joined) VALUES (?, ?, 0)
                    ON CONFLICT (imId) DO UPDATE SET conversation = excluded.conversation, joined = 0
                    """, arguments: [imID, conversation])
        }
    }

    public func setJoined(_ conversation: String, by imID: String) async throws {
        try await database.writer.write { db in
            try db.execute(sql: "UPDATE imConversation SET joined = 1 WHERE imId = ? AND conversation = ?", arguments: [imID, conversation])
        }
    }

    public func forgetConversation(_ conversation: String, of imID: String?, departure: IMDeparture, at time: Date) async throws -> String? {
        try await database.writer.write { db in
            guard let owner = try String.fetchOne(db, sql: "SELECT imId FROM imConversation WHERE conversation = ?", arguments: [conversation]),
                imID == nil || imID == owner
            else { return nil }
            try db.execute(sql: "DELETE FROM imConversation WHERE conversation = ?", arguments: [conversation])
            try db.execute(
                sql: """
                    INSERT INTO imContact (imId, departedAt, departure) VALUES (?, ?, ?)
                    ON CONFLICT (imId) DO UPDATE SET departedAt = excluded.departedAt, departure = excluded.departure
                    """, arguments: [owner, time, departure.rawValue])
            return owner
        }
    }

    public func inboundCursor() async throws -> String? {
        try await database.read { db in try String.fetchOne(db, sql: "SELECT value FROM setting WHERE key = 'im.cursor'") }
    }

    public func setInboundCursor(_ cursor: String) async throws {
        try await database.writer.write { db in
            try db.execute(
                sql: "INSERT INTO setting (key, value) VALUES ('im.cursor', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                arguments: [cursor])
        }
    }

    public func markHandled(event id: String, changing changes: [IMKeyChange]) async throws -> Bool {
        let now = clock.now()
        return try await database.writer.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO imHandledEvent (eventId, handledAt) VALUES (?, ?)", arguments: [id, now])
            guard db.changesCount == 1 else { return false }
            try Self.setSealedValues(db, changes, now: now)
            return true
        }
    }

    public func isHandled(event id: String) async throws -> Bool {
        try await database.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM imHandledEvent WHERE eventId = ?)", arguments: [id]) ?? false
        }
    }

    public func delivery(forMessageReference reference: String) async throws -> String? {
        try await database.read { db in
            try String.fetchOne(db, sql: "SELECT publicId FROM delivery WHERE imReference = ?", arguments: [reference])
        }
    }

    public func recordEchoes(_ references: [String: String]) async throws {
        let sent = references.compactMap { key, reference in OutboxItem.id(fromKey: key).map { ($0, reference) } }
        guard !sent.isEmpty else { return }
        let now = clock.now()
        try await database.writer.write { db in
            let message = try db.cachedStatement(sql: "SELECT message FROM outbox WHERE id = ?")
            var kept: [String: String] = [:]
            for (id, reference) in sent {
                guard let json = try String.fetchOne(message, arguments: [id]),
                    let key = try? JSONDecoder().decode(OutboxMessage.self, from: Data(json.utf8)).referenceKey
                else { continue }
                kept[key] = reference
            }
            // The outbox's own record, if it came first, stands: an echo read late (a lagging or replayed sync) must not
            // make an earlier message of a thread look like its latest.
            try SQLiteQuestionStore.keepReferences(db, kept, now: now, replacing: false)
        }
    }

    public func caller(forIMID imID: String) async throws -> Caller? {
        try await database.read { db in
            guard let employee = try EmployeeRecord.filter(EmployeeRecord.Columns.imId == imID).fetchOne(db) else { return nil }
            return try SQLiteDirectoryStore.caller(db, employee: employee)
        }
    }

    public func recordActivity(_ seen: [String: Date]) async throws {
        guard !seen.isEmpty else { return }
        try await database.writer.write { db in
            // At most one write a minute per person, however chatty: the time is only ever compared with half an hour.
            let statement = try db.cachedStatement(
                sql: "UPDATE employee SET lastActiveAt = ? WHERE imId = ? AND (lastActiveAt IS NULL OR lastActiveAt < ?)")
            for (imID, time) in seen {
                try statement.execute(arguments: [time, imID, time.addingTimeInterval(-60)])
            }
        }
    }
}

extension SQLiteIMState {
    /// Introduction rooms are kept beside the adapter's other values, under a namespace of their own (nothing secret).
    static let introductionNamespace = "introduction-room"

    public func introductionRooms() async throws -> Set<String> {
        Set(try await sealedValues(namespace: Self.introductionNamespace).keys)
    }

    public func setIntroductionRoom(_ room: String, open: Bool) async throws {
        try await setSealedValues([IMKeyChange(namespace: Self.introductionNamespace, key: room, value: open ? Data() : nil)])
    }
}

extension SQLiteIMState: IMKeyStore {
    public func sealedValue(namespace: String, key: String) async throws -> Data? {
        try await database.read { db in
            try Data.fetchOne(db, sql: "SELECT value FROM imKey WHERE namespace = ? AND key = ?", arguments: [namespace, key])
        }
    }

    public func sealedValues(namespace: String) async throws -> [String: Data] {
        try await database.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT key, value FROM imKey WHERE namespace = ?", arguments: [namespace])
            return Dictionary(rows.map { ($0["key"] as String, $0["value"] as Data) }, uniquingKeysWith: { _, last in last })
        }
    }

    public func setSealedValues(_ changes: [IMKeyChange]) async throws {
        guard !changes.isEmpty else { return }
        let now = clock.now()
        try await database.writer.write { db in try Self.setSealedValues(db, changes, now: now) }
    }

    static func setSealedValues(_ db: Database, _ changes: [IMKeyChange], now: Date) throws {
        for change in changes {
            if let value = change.value {
                try db.execute(
                    sql: """
                        INSERT INTO imKey (namespace, key, value, updatedAt) VALUES (?, ?, ?, ?)
                        ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, updatedAt = excluded.updatedAt
                        """, arguments: [change.namespace, change.key, value, now])
            } else {
                try db.execute(sql: "DELETE FROM imKey WHERE namespace = ? AND key = ?", arguments: [change.namespace, change.key])
            }
        }
    }
}
