import Foundation
import GRDB
import SkillRelayDomain
import SkillRelaySecrets

/// What the web page keeps in the directory's database: login links and sessions, both by the hash of their secret.
public struct SQLiteWebStore: SignInStore, SessionStore {
    let database: AppDatabase

    public init(database: AppDatabase) {
        self.database = database
    }

    var writer: any DatabaseWriter { database.writer }

    // MARK: - Login links

    public func createLoginLink(_ link: LoginLink, for handle: String, now: Date) async throws {
        try await database.write { db in
            guard let employee = try EmployeeRecord.filter(EmployeeRecord.Columns.handle == handle).fetchOne(db), employee.isActive else {
                throw DirectoryError.employeeNotFound(handle)
            }
            try db.execute(
                literal: """
                    INSERT INTO loginLink (secretHash, employeeId, createdAt, expiresAt)
                    VALUES (\(TokenSecret.hash(link.secret)), \(employee.id!), \(now), \(link.expiresAt))
                    """)
        }
    }

    public func loginLinkOwner(secret: String, now: Date) async throws -> SignedInPerson? {
        try await database.read { db in
            guard let employeeID = try Self.usableLink(db, secret: secret, now: now)?.employeeID else { return nil }
            return try Self.person(db, employeeID: employeeID)
        }
    }

    public func redeemLoginLink(secret: String, now: Date) async throws -> SignedInPerson? {
        try await database.write { db in
            guard let link = try Self.usableLink(db, secret: secret, now: now) else { return nil }
            // Only the update that finds the link unused wins, so a link signs in once however it is raced.
            try db.execute(literal: "UPDATE loginLink SET usedAt = \(now) WHERE id = \(link.id) AND usedAt IS NULL")
            guard db.changesCount == 1 else { return nil }
            return try Self.person(db, employeeID: link.employeeID)
        }
    }

    public func signedInPerson(handle: String) async throws -> SignedInPerson? {
        try await database.read { db in
            guard let employee = try EmployeeRecord.filter(EmployeeRecord.Columns.handle == handle).fetchOne(db) else { return nil }
            return try Self.person(db, employeeID: employee.id!)
        }
    }

    public func personalStatus(of handle: String, now: Date) async throws -> PersonalStatus {
        try await database.read { db in
            guard
                let row = try SQLRequest<Row>(
                    literal: """
                        SELECT localPresence.status, employee.pausedUntil FROM employee
                        LEFT JOIN localPresence ON localPresence.employeeId = employee.id
                        WHERE employee.handle = \(handle)
                        """
                ).fetchOne(db)
            else { throw DirectoryError.employeeNotFound(handle) }
            let status: String? = row["status"]
            let paused: Date? = row["pausedUntil"]
            return PersonalStatus(
                presence: status.flatMap(Presence.init(rawValue:)) ?? .offline, pausedUntil: paused.flatMap { $0 > now ? $0 : nil })
        }
    }

    public func purgeLoginLinks(before: Date) async throws -> Int {
        try await database.write { db in
            try db.execute(literal: "DELETE FROM loginLink WHERE expiresAt < \(before)")
            return db.changesCount
        }
    }

    private static func usableLink(_ db: Database, secret: String, now: Date) throws -> (id: Int64, employeeID: Int64)? {
        guard
            let row = try SQLRequest<Row>(
                literal: """
                    SELECT id, employeeId FROM loginLink
                    WHERE secretHash = \(TokenSecret.hash(secret)) AND usedAt IS NULL AND expiresAt > \(now)
                    """
            ).fetchOne(db)
        else { return nil }
        return (row["id"], row["employeeId"])
    }

    /// An active employee with the roles the directory gives them now.
    private static func person(_ db: Database, employeeID: Int64) throws -> SignedInPerson? {
        guard let employee = try EmployeeRecord.fetchOne(db, key: employeeID),
            let caller = try SQLiteDirectoryStore.caller(db, employee: employee)
        else { return nil }
        return SignedInPerson(caller: caller, name: employee.name)
    }

    // MARK: - Sessions

    public func insertSession(key: String, value: Data, expiresAt: Date?) async throws -> Bool {
        try await database.write { db in
            try db.execute(
                literal: """
                    INSERT OR IGNORE INTO webSession (keyHash, value, expiresAt)
                    VALUES (\(TokenSecret.hash(key)), \(String(decoding: value, as: UTF8.self)), \(expiresAt))
                    """)
            return db.changesCount == 1
        }
    }

    public func upsertSession(key: String, value: Data, expiresAt: Date?) async throws {
        try await database.write { db in
            try db.execute(
                literal: """
                    INSERT INTO webSession (keyHash, value, expiresAt)
                    VALUES (\(TokenSecret.hash(key)), \(String(decoding: value, as: UTF8.self)), \(expiresAt))
                    ON CONFLICT (keyHash) DO UPDATE SET value = excluded.value, expiresAt = coalesce(excluded.expiresAt, webSession.expiresAt)
                    """)
        }
    }

    public func session(key: String, now: Date) async throws -> (value: Data, expiresAt: Date?)? {
        try await database.read { db in
            guard
                let row = try SQLRequest<Row>(literal: "SELECT value, expiresAt FROM webSession WHERE keyHash = \(TokenSecret.hash(key))").fetchOne(
                    db)
            else { return nil }
            let expiresAt: Date? = row["expiresAt"]
            if let expiresAt, expiresAt <= now { return nil }
            let value: String = row["value"]
            return (Data(value.utf8), expiresAt)
        }
    }

    public func deleteSession(key: String) async throws {
        try await database.write { db in
            try db.execute(literal: "DELETE FROM webSession WHERE keyHash = \(TokenSecret.hash(key))")
        }
    }

    public func purgeSessions(before: Date) async throws -> Int {
        try await database.write { db in
            try db.execute(literal: "DELETE FROM webSession WHERE expiresAt < \(before)")
            return db.changesCount
        }
    }
}

extension SQLiteWebStore {
    /// The handle of the first active admin (by when they were added), for the link `serve` prints on a trial run.
    public func firstActiveAdmin() async throws -> String? {
        try await database.read { db in
            try String.fetchOne(db, sql: "SELECT handle FROM employee WHERE isAdmin AND isActive ORDER BY id LIMIT 1")
        }
    }
}
