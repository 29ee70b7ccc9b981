import Foundation

/// How often each caller may do something: at most so many times in any sliding window, counted by key. The in-process
/// `RateLimiter` serves one instance; several instances share one count in their database.
public protocol RateLimit: Sendable {
    /// Records an event for `key` at `now`, or throws `DirectoryError.rateLimited` with the seconds until one is allowed
    /// again (a refused event is not recorded).
    func acquire(_ key: String, now: Date) async throws
}
