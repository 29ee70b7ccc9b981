import Foundation
import Synchronization

/// The bot's replies to messages already recorded as handled that the homeserver has not taken yet, oldest first. A
/// handled message is never read again, so a reply that failed to go (a homeserver that answered 502, a connection
/// that dropped) would be lost; it waits here instead, and every sync batch sends what waits before anything else.
/// Each keeps the transaction id it was first tried with, so a try the homeserver took without answering is not posted
/// twice. Held in memory: a restart between recording a message as handled and its reply going loses that reply.
final class MatrixUnsentReplies: Sendable {
    struct Reply: Sendable, Equatable {
        var room: String
        var text: String
        var transactionID: String
        /// Failed tries so far (rate limits not counted).
        var failures = 0
    }

    /// Tries a reply may fail before it is given up on: with the sync's backoff, a few minutes of a homeserver that
    /// keeps failing it.
    static let maximumFailures = 10

    private let waiting = Mutex<[Reply]>([])

    func add(_ replies: [Reply]) { waiting.withLock { $0.append(contentsOf: replies) } }

    var first: Reply? { waiting.withLock { $0.first } }

    /// Removes the oldest reply once it went or was given up on.
    func removeFirst() { waiting.withLock { if !$0.isEmpty { $0.removeFirst() } } }

    /// Counts a failed try of the oldest reply; its failures now.
    func failedFirst() -> Int {
        waiting.withLock { waiting in
            guard !waiting.isEmpty else { return 0 }
            waiting[0].failures += 1
            return waiting[0].failures
        }
    }
}
