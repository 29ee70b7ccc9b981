import Foundation

/// Web sessions kept in the database, so a restart signs nobody out. Keys arrive as the cookie's value and are
/// stored hashed; values are opaque JSON.
public protocol SessionStore: Sendable {
    /// Inserts a session; `false` if the key exists already.
    func insertSession(key: String, value: Data, expiresAt: Date?) async throws -> Bool
    /// Inserts or replaces a session; a `nil` expiry keeps the one it had.
    func upsertSession(key: String, value: Data, expiresAt: Date?) async throws
    /// A session that has not expired at `now`.
    func session(key: String, now: Date) async throws -> (value: Data, expiresAt: Date?)?
    /// Deletes a session.
    func deleteSession(key: String) async throws
    /// Deletes sessions that expired before `before`; returns how many.
    func purgeSessions(before: Date) async throws -> Int
}
