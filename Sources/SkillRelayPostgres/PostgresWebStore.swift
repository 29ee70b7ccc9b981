import Foundation
import PostgresNIO
import SkillRelayDomain
import SkillRelaySecrets

/// What the web page keeps in the directory's database: login links and sessions, both by the hash of their secret.
/// Shared by every instance, so a link or a session works whichever instance a request reaches.
public struct PostgresWebStore: SignInStore, SessionStore {
    let database: PostgresAppDatabase

    public init(database: PostgresAppDatabase) {
        self.database = database
    }

    // MARK: - Login links

    public func createLoginLink(_ link: LoginLink, for handle: String, now: Date) async throws {
        try await database.writing { db in
            guard let employee = try await PostgresDirectoryStore.employeeRowIfAny(db, handle: handle), employee.isActive else {
                throw DirectoryError.employeeNotFound(handle)
            }
            try await db.execute(
                """
                INSERT INTO loginLink (secretHash, employeeId, createdAt, expiresAt)
                VALUES (\(TokenSecret.hash(link.secret)), \(employee.id), \(now), \(link.expiresAt))
                """)
        }
    }

    public func loginLinkOwner(secret: String, now: Date) async throws -> SignedInPerson? {
        try await database.reading { db in
            guard let employeeID = try await Self.usableLink(db, secret: secret, now: now)?.employeeID else { return nil }
            return try await Self.person(db, employeeID: employeeID)
        }
    }

    public func redeemLoginLink(secret: String, now: Date) async throws -> SignedInPerson? {
        try await database.writing { db in
            guard let link = try await Self.usableLink(db, secret: secret, now: now) else { return nil }
            // Only the update that finds the link unused wins, so a link signs in once however it is raced.
            let changed = try await db.changes("UPDATE loginLink SET usedAt = \(now) WHERE id = \(link.id) AND usedAt IS NULL RETURNING 1")
            guard changed == 1 else { return nil }
            return try await Self.person(db, employeeID: link.employeeID)
        }
    }

    public func signedInPerson(handle: String) async throws -> SignedInPerson? {
        try await database.reading { db in
            guard let employee = try await PostgresDirectoryStore.employeeRowIfAny(db, handle: handle) else { return nil }
            return try await Self.person(db, employee: employee)
        }
    }

    public func personalStatus(of handle: String, now: Date) async throws -> PersonalStatus {
        try await database.readingOneStatement { db in
            guard
                let (status, paused) = try await db.row(
                    """
                    SELECT localPresence.status, employee.pausedUntil FROM employee
                    LEFT JOIN localPresence ON localPresence.employeeId = employee.id
                    WHERE employee.handle = \(handle)
                    """, { try $0.decode((String?, Date?).self) })
            else { throw DirectoryError.employeeNotFound(handle) }
            return PersonalStatus(
                presence: status.flatMap(Presence.init(rawValue:)) ?? .offline, pausedUntil: paused.flatMap { $0 > now ? $0 : nil })
        }
    }

    public func purgeLoginLinks(before: Date) async throws -> Int {
        try await database.writing { db in try await db.changes("DELETE FROM loginLink WHERE expiresAt < \(before) RETURNING 1") }
    }

    private static func usableLink(_ db: PostgresStatements, secret: String, now: Date) async throws -> (id: Int64, employeeID: Int64)? {
        try await db.row(
            """
            SELECT id, employeeId FROM loginLink
            WHERE secretHash = \(TokenSecret.hash(secret)) AND usedAt IS NULL AND expiresAt > \(now)
            """
        ) { row in
            let (id, employeeID) = try row.decode((Int64, Int64).self)
            return (id, employeeID)
        }
    }

    /// An active employee with the roles the directory gives them now.
    private static func person(_ db: PostgresStatements, employeeID: Int64) async throws -> SignedInPerson? {
        guard let employee = try await PostgresDirectoryStore.employeeRow(db, id: employeeID) else { return nil }
        return try await person(db, employee: employee)
    }

    private static func person(_ db: PostgresStatements, employee: EmployeeRow) async throws -> SignedInPerson? {
        guard let caller = try await PostgresDirectoryStore.caller(db, employee: employee) else { return nil }
        return SignedInPerson(caller: caller, name: employee.name)
    }

    // MARK: - Sessions

    public func insertSession(key: String, value: Data, expiresAt: Date?) async throws -> Bool {
        try await database.writing { db in
            try await db.changes(
                """
                INSERT INTO webSession (keyHash, value, expiresAt)
                VALUES (\(TokenSecret.hash(key)), \(String(decoding: value, as: UTF8.self)), \(expiresAt))
                ON CONFLICT (keyHash) DO NOTHING
                RETURNING 1
                """) == 1
        }
    }

    public func upsertSession(key: String, value: Data, expiresAt: Date?) async throws {
        try await database.writing { db in
            try await db.execute(
                """
                INSERT INTO webSession (keyHash, value, expiresAt)
                VALUES (\(TokenSecret.hash(key)), \(String(decoding: value, as: UTF8.self)), \(expiresAt))
                ON CONFLICT (keyHash) DO UPDATE SET value = excluded.value, expiresAt = coalesce(excluded.expiresAt, webSession.expiresAt)
                """)
        }
    }

    public func session(key: String, now: Date) async throws -> (value: Data, expiresAt: Date?)? {
        let found = try await database.readingOneStatement { db in
            try await db.row("SELECT value, expiresAt FROM webSession WHERE keyHash = \(TokenSecret.hash(key))") {
                try $0.decode((String, Date?).self)
            }
        }
        guard let (value, expiresAt) = found else { return nil }
        if let expiresAt, expiresAt <= now { return nil }
        return (Data(value.utf8), expiresAt)
    }

    public func deleteSession(key: String) async throws {
        try await database.writing { db in try await db.execute("DELETE FROM webSession WHERE keyHash = \(TokenSecret.hash(key))") }
    }

    public func purgeSessions(before: Date) async throws -> Int {
        try await database.writing { db in try await db.changes("DELETE FROM webSession WHERE expiresAt < \(before) RETURNING 1") }
    }
}

extension PostgresWebStore {
    /// The handle of the first active admin (by when they were added), for the link `serve` prints on a trial run.
    public func firstActiveAdmin() async throws -> String? {
        try await database.readingOneStatement { db in
            try await db.value("SELECT handle FROM employee WHERE isAdmin AND isActive ORDER BY id LIMIT 1", String.self)
        }
    }
}
