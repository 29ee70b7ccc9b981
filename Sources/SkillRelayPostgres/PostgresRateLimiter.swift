import Foundation
import Logging
import PostgresNIO
import SkillRelayDomain
import Synchronization

/// `RateLimiter`'s sliding window, counted in PostgreSQL so that every instance draws on one budget per caller: a row
/// per caller holds the times of their hits inside the window, and one upsert per attempt drops the expired ones, lets
/// the attempt through if fewer than `limit` remain and records it. Two instances' attempts for one caller queue on that
/// row, so together they never pass more than the limit. Rows whose last hit left the window are purged now and then.
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

/// One attempt: drops the caller's hits that left the window, lets the attempt through if fewer than the limit remain
/// and records it. `limited` is the row as it was; `recent` its hits still inside the window, in the order they came.
/// Parameters: the scope, the caller's key, now, the limit, the start of the window.
enum RateLimitHit: PreparedSQL {
    static let name = "skillrelay_rate_limit_hit_v1"
    static let sql = """
        INSERT INTO rateLimit AS limited (scope, key, hits, accepted, lastHitAt)
        VALUES ($1::text, $2::text, ARRAY[$3::timestamptz], true, $3::timestamptz)
        ON CONFLICT (scope, key) DO UPDATE SET (hits, accepted, lastHitAt) = (
            SELECT
                CASE WHEN cardinality(recent) < $4::bigint THEN recent || $3::timestamptz ELSE recent END,
                cardinality(recent) < $4::bigint,
                CASE WHEN cardinality(recent) < $4::bigint THEN greatest(limited.lastHitAt, $3::timestamptz) ELSE limited.lastHitAt END
            FROM (
                SELECT ARRAY(
                    SELECT hit FROM unnest(limited.hits) WITH ORDINALITY AS kept(hit, ordinal) WHERE hit > $5::timestamptz ORDER BY ordinal
                ) AS recent
            ) AS inWindow
        )
        RETURNING accepted, hits[1]
        """
}
