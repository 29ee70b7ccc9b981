import Foundation
import PostgresNIO
import SkillRelayDomain

/// An IM adapter's state in the shared PostgreSQL database: what `SQLiteIMState` keeps, kept the same way, so that any
/// instance can carry on where another stopped (the Matrix `since` token, the events already handled, the rooms).
public struct PostgresIMState: IMStateStore {
    let database: PostgresAppDatabase
    let clock: any WallClock

    public init(database: PostgresAppDatabase, clock: any WallClock = SystemWallClock()) {
        self.database = database
        self.clock = clock
    }

    public func conversation(with imID: String) async throws -> String? {
        try await database.withoutTransaction { connection in
            try await first(String.self, connection.query("SELECT conversation FROM imConversation WHERE imId = \(imID)", logger: database.logger))
        }
    }

    public func setConversation(_ conversation: String, with imID: String) async throws {
        try await database.write { connection in
            try await connection.query(
                """
                INSERT INTO imConversation (imId, conversation, joined) VALUES (\(imID), \(conversation), true)
                ON CONFLICT (imId) DO UPDATE SET conversation = excluded.conversation, joined = true
                """, logger: database.logger)
        }
    }

    public func contacts(_ imIDs: [String]) async throws -> [String: IMContact] {
        guard !imIDs.isEmpty else { return [:] }
        return try await database.withoutTransaction { connection in
            var contacts = Dictionary(imIDs.map { ($0, IMContact.stranger) }, uniquingKeysWith: { first, _ in first })
            for row in try await connection.rows(PreparedQuery<ContactsByIMID> { $0.append(imIDs) }) {
                let (imID, conversation, joined, invitedAt) = try row.decode((String, String?, Bool?, Date?).self)
                if let conversation {
                    contacts[imID]?.conversation = conversation
                    contacts[imID]?.joined = joined ?? false
                } else {
                    contacts[imID]?.invitedAt = invitedAt
                }
            }
            return contacts
        }
    }

    public func setInvitation(_ conversation: String?, to imID: String, at time: Date) async throws {
        try await database.write { connection in
            try await connection.query(
                "INSERT INTO imContact (imId, invitedAt) VALUES (\(imID), \(time)) ON CONFLICT (imId) DO UPDATE SET invitedAt = excluded.invitedAt",
                logger: database.logger)
            guard let conversation else { return }
            try await connection.query(
                """
                INSERT INTO imConversation (imId, conversation, joined) VALUES (\(imID), \(conversation), false)
                ON CONFLICT (imId) DO UPDATE SET conversation = excluded.conversation, joined = false
                """, logger: database.logger)
        }
    }

    public func setJoined(_ conversation: String, by imID: String) async throws {
        try await database.write { connection in
            try await connection.query(
                "UPDATE imConversation SET joined = true WHERE imId = \(imID) AND conversation = \(conversation)", logger: database.logger)
        }
    }

    public func forgetConversation(_ conversation: String, of imID: String?, departure: IMDeparture, at time: Date) async throws -> String? {
        try await database.write { connection in
            guard
                let owner = try await first(
                    String.self, connection.query("SELECT imId FROM imConversation WHERE conversation = \(conversation)", logger: database.logger)),
                imID == nil || imID == owner
            else { return nil }
            try await connection.query("DELETE FROM imConversation WHERE conversation = \(conversation)", logger: database.logger)
            try await connection.query(
                """
                INSERT INTO imContact (imId, departedAt, departure) VALUES (\(owner), \(time), \(departure.rawValue))
                ON CONFLICT (imId) DO UPDATE SET departedAt = excluded.departedAt, departure = excluded.departure
                """, logger: database.logger)
            return owner
        }
    }

    public func inboundCursor() async throws -> String? {
        try await database.withoutTransaction { connection in
            try await first(String.self, connection.query("SELECT value FROM setting WHERE key = 'im.cursor'", logger: database.logger))
        }
    }

    public func setInboundCursor(_ cursor: String) async throws {
        try await database.write { connection in
            try await connection.query(
                "INSERT INTO setting (key, value) VALUES ('im.cursor', \(cursor)) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                logger: database.logger)
        }
    }

    public func markHandled(event id: String, changing changes: [IMKeyChange]) async throws -> Bool {
        let now = clock.now()
        return try await database.write { connection in
            // A row comes back only when this call inserted it: the first instance to see an event handles it.
            guard
                try await first(
                    String.self,
                    connection.query(
                        "INSERT INTO imHandledEvent (eventId, handledAt) VALUES (\(id), \(now)) ON CONFLICT (eventId) DO NOTHING RETURNING eventId",
                        logger: database.logger)) != nil
            else { return false }
            try await setSealedValues(connection, changes, now: now)
            return true
        }
    }

    public func isHandled(event id: String) async throws -> Bool {
        try await database.readingOneStatement { db in
            try await db.value("SELECT EXISTS (SELECT 1 FROM imHandledEvent WHERE eventId = \(id))", Bool.self) ?? false
        }
    }

    public func delivery(forMessageReference reference: String) async throws -> String? {
        try await database.withoutTransaction { connection in
            try await first(String.self, connection.query("SELECT publicId FROM delivery WHERE imReference = \(reference)", logger: database.logger))
        }
    }

    public func recordEchoes(_ references: [String: String]) async throws {
        let sent = Dictionary(
            references.compactMap { key, reference in OutboxItem.id(fromKey: key).map { ($0, reference) } }, uniquingKeysWith: { first, _ in first })
        guard !sent.isEmpty else { return }
        let now = clock.now()
        try await database.write { connection in
            let ids = Array(sent.keys)
            var kept: [String: String] = [:]
            for try await (id, json) in try await connection.query("SELECT id, message FROM outbox WHERE id = ANY(\(ids))", logger: database.logger)
                .decode((Int64, String).self)
            {
                guard let reference = sent[id], let key = try? JSONDecoder().decode(OutboxMessage.self, from: Data(json.utf8)).referenceKey
                else { continue }
                kept[key] = reference
            }
            // The outbox's own record, if it came first, stands: an echo read late (a lagging or replayed sync) must not
            // make an earlier message of a thread look like its latest.
            try await PostgresQuestionStore.keepReferences(connection, kept, now: now, replacing: false)
        }
    }

    public func caller(forIMID imID: String) async throws -> Caller? {
        try await database.withoutTransaction { connection in
            let rows = try await connection.query(
                """
                SELECT handle, isAdmin, EXISTS (SELECT 1 FROM employee AS report WHERE report.managerId = employee.id AND report.isActive)
                FROM employee WHERE imId = \(imID) AND isActive
                """, logger: database.logger)
            for try await (handle, isAdmin, isManager) in rows.decode((String, Bool, Bool).self) {
                return Caller(identity: .employee(handle), isAdmin: isAdmin, isManager: isManager)
            }
            return nil
        }
    }

    public func recordActivity(_ seen: [String: Date]) async throws {
        guard !seen.isEmpty else { return }
        let imIDs = Array(seen.keys)
        let times = imIDs.map { seen[$0]! }
        try await database.write { connection in
            // At most one write a minute per person, however chatty: the time is only ever compared with half an hour.
            try await connection.query(
                """
                UPDATE employee SET lastActiveAt = seen.at
                FROM unnest(\(imIDs)::text[], \(times)::timestamptz[]) AS seen(imId, at)
                WHERE employee.imId = seen.imId AND (employee.lastActiveAt IS NULL OR employee.lastActiveAt < seen.at - interval '60 seconds')
                """, logger: database.logger)
        }
    }

    /// The first column of the first row, if there is one.
    private func first<T: PostgresDecodable>(_ type: T.Type, _ rows: PostgresRowSequence) async throws -> T? {
        for try await value in rows.decode(T.self) { return value }
        return nil
    }
}

extension PostgresIMState {
    /// Introduction rooms are kept beside the adapter's other values, under a namespace of their own (nothing secret).
    static let introductionNamespace = "introduction-room"

    public func introductionRooms() async throws -> Set<String> {
        Set(try await sealedValues(namespace: Self.introductionNamespace).keys)
    }

    public func setIntroductionRoom(_ room: String, open: Bool) async throws {
        try await setSealedValues([IMKeyChange(namespace: Self.introductionNamespace, key: room, value: open ? Data() : nil)])
    }
}

extension PostgresIMState: IMKeyStore {
    public func sealedValue(namespace: String, key: String) async throws -> Data? {
        try await database.withoutTransaction { connection in
            try await connection.rows(
                PreparedQuery<SealedValue> {
                    $0.append(namespace)
                    $0.append(key)
                }
            ).first?.decode(Data.self)
        }
    }

    public func sealedValues(namespace: String) async throws -> [String: Data] {
        try await database.withoutTransaction { connection in
            var values: [String: Data] = [:]
            let rows = try await connection.query("SELECT key, value FROM imKey WHERE namespace = \(namespace)", logger: database.logger)
            for try await (key, value) in rows.decode((String, Data).self) { values[key] = value }
            return values
        }
    }

    public func setSealedValues(_ changes: [IMKeyChange]) async throws {
        guard !changes.isEmpty else { return }
        let now = clock.now()
        try await database.write { connection in try await setSealedValues(connection, changes, now: now) }
    }

    func setSealedValues(_ connection: PostgresConnection, _ changes: [IMKeyChange], now: Date) async throws {
        for change in changes {
            if let value = change.value {
                try await connection.query(
                    """
                    INSERT INTO imKey (namespace, key, value, updatedAt) VALUES (\(change.namespace), \(change.key), \(value), \(now))
                    ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, updatedAt = excluded.updatedAt
                    """, logger: database.logger)
            } else {
                try await connection.query("DELETE FROM imKey WHERE namespace = \(change.namespace) AND key = \(change.key)", logger: database.logger)
            }
        }
    }
}

/// `contacts`: the bot's room with each person and its invitations, for every recipient of a drain (prepared: a drain
/// to people the bot has not written to since it started reads it for each of them).
enum ContactsByIMID: PreparedSQL {
    static let name = "skillrelay_contacts_by_im_id_v1"
    static let sql = """
        SELECT imId, conversation, joined, NULL::timestamptz AS invitedAt FROM imConversation WHERE imId = ANY($1::text[])
        UNION ALL
        SELECT imId, NULL, NULL, invitedAt FROM imContact WHERE imId = ANY($1::text[])
        """
}

/// `sealedValue`: one of the adapter's values. Prepared: the Matrix adapter reads whether a room is encrypted the
/// first time it writes there after it started, which on a busy day is nearly every message.
enum SealedValue: PreparedSQL {
    static let name = "skillrelay_sealed_value_v1"
    static let sql = "SELECT value FROM imKey WHERE namespace = $1::text AND key = $2::text"
}
