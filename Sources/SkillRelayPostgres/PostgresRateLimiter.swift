import Foundation
import Logging
import PostgresNIO
import SkillRelayDomain
import Synchronization

/// `RateLimiter`'s sliding window, counted in PostgreSQL so that every instance draws on one budget per caller: a row
/// per caller, locked while an attempt is decided, and the caller's last hits, at most the limit, numbered in the order
/// they were let through (`rateLimitAttempt`, migration "pg v8"). An attempt looks up one hit, the limit-th back, so it
/// costs the same whatever the limit. Two instances' attempts for one caller queue on that row, so together they never
/// pass more than the limit. Rows whose last hit left the window are purged now and then, with their hits.
public final class PostgresRateLimiter: RateLimit {
    let database: PostgresAppDatabase
    /// Which limit this is ("asks"): limits with other numbers keep their own counts.
    let scope: String
    let limit: Int
    let window: TimeInterval
    let logger: Logger
    private let lastPurge = Mutex<Date?>(nil)

    public init(database: PostgresAppDatabase, scope: String, limit: Int, window: TimeInterval = 60, logger: Logger) {
        precondition(limit >= 1, "a rate limit allows at least one event")
        self.database = database
        self.scope = scope
        self.limit = limit
        self.window = window
        self.logger = logger
    }

    public func acquire(_ key: String, now: Date) async throws {
        let cutoff = now.addingTimeInterval(-window)
        let rows = try await database.withoutTransaction { connection in
            try await connection.rows(
                PreparedQuery<RateLimitHit> {
                    $0.append(scope)
                    $0.append(key)
                    $0.append(now)
                    $0.append(limit)
                    $0.append(cutoff)
                })
        }
        var outcome: (accepted: Bool, oldest: Date?)?
        for row in rows { outcome = try row.decode((Bool, Date?).self) }
        if purgeIsDue(now) { await purge(before: cutoff) }
        guard let outcome, !outcome.accepted else { return }
        let retryAfter = window - now.timeIntervalSince(outcome.oldest ?? now)
        throw DirectoryError.rateLimited(retryAfterSeconds: max(1, Int(retryAfter.rounded(.up))))
    }

    /// Whether the rows of callers gone quiet are due to be dropped: at most once a window per instance.
    private func purgeIsDue(_ now: Date) -> Bool {
        lastPurge.withLock { last in
            if let last, now.timeIntervalSince(last) < window { return false }
            last = now
            return true
        }
    }

    /// Drops the rows whose every hit left the window (as the in-process limiter forgets such a caller). Failing to only
    /// leaves them for the next time.
    private func purge(before cutoff: Date) async {
        do {
            try await database.client.query("DELETE FROM rateLimit WHERE scope = \(scope) AND lastHitAt <= \(cutoff)", logger: logger)
        } catch {
            logger.warning("could not purge old rate-limit counts", metadata: ["skillrelay.error": "\(error)"])
        }
    }
}

/// One attempt (`rateLimitAttempt`): whether it passed, and if not, when the hit that keeps the caller at the limit
/// leaves the window. Parameters: the scope, the caller's key, now, the limit, the start of the window.
enum RateLimitHit: PreparedSQL {
    static let name = "skillrelay_rate_limit_attempt_v2"
    static let sql = "SELECT passed, oldestAt FROM rateLimitAttempt($1::text, $2::text, $3::timestamptz, $4::bigint, $5::timestamptz)"
}
