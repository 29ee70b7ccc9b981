import Foundation
import Synchronization

/// Allows each key at most `limit` events in any sliding `window` seconds, counted in this process.
public final class RateLimiter: RateLimit {
    private let limit: Int
    private let window: TimeInterval
    private let events = Mutex<[String: [Date]]>([:])

    public init(limit: Int, window: TimeInterval = 60) {
        precondition(limit >= 1, "a rate limit allows at least one event")
        self.limit = limit
        self.window = window
    }

    /// Records an event for `key` at `now`, or throws `rateLimited` with the seconds until one is allowed again.
    public func acquire(_ key: String, now: Date) throws(DirectoryError) {
        let retryAfter: TimeInterval? = events.withLock { events in
            var recent = (events[key] ?? []).filter { now.timeIntervalSince($0) < window }
            defer { events[key] = recent.isEmpty ? nil : recent }
            guard recent.count < limit else { return window - now.timeIntervalSince(recent[0]) }
            recent.append(now)
            return nil
        }
        if let retryAfter { throw .rateLimited(retryAfterSeconds: max(1, Int(retryAfter.rounded(.up)))) }
    }
}
