import Foundation
import SkillRelayDomain

/// The bot's replies to messages already recorded as handled that the homeserver has not taken yet. A handled message
/// is never read again, so a reply that failed to go (a homeserver that answered 502, a connection that dropped, then a
/// restart, or another instance taking the sync over) would be lost. Each is kept in the database instead, written in
/// the transaction that records its message as handled, and every sync batch sends what is owed before anything else.
/// A reply keeps the transaction id it was first tried with, so a try the homeserver took without answering is not
/// posted twice. Kept sealed like the bot's keys (`MatrixKeySeal`): a reply may carry a one-time sign-in link.
struct MatrixOwedReplies: Sendable {
    struct Reply: Codable, Sendable, Equatable {
        var room: String
        var text: String
        var transactionID: String
        /// When its message was handled, and its place among that message's replies: the order replies go in.
        var handledAt: Date
        var order: Int
        /// Failed tries so far (rate limits not counted).
        var failures = 0
    }

    /// Where the replies are kept among the adapter's sealed values, by transaction id.
    static let namespace = "owed-reply"

    /// Tries a reply may fail before it is given up on: with the sync's backoff, a few minutes of a homeserver that
    /// keeps failing it.
    static let maximumFailures = 10

    let store: any IMKeyStore
    let seal: MatrixKeySeal

    /// The changes that keep `replies`, to be written with their message's `IMStateStore.markHandled(event:changing:)`.
    func keeping(_ replies: [Reply]) throws -> [IMKeyChange] {
        try replies.map { reply in
            IMKeyChange(
                namespace: Self.namespace, key: reply.transactionID, value: try seal.seal(reply, at: Self.place(reply.transactionID)))
        }
    }

    /// The replies owed, oldest first; and the keys of any that do not open (sealed under another pickle key), which
    /// can never be sent.
    func owed() async throws -> (replies: [Reply], unreadable: [String]) {
        var replies: [Reply] = []
        var unreadable: [String] = []
        for (key, sealed) in try await store.sealedValues(namespace: Self.namespace) {
            if let reply = try? seal.open(Reply.self, from: sealed, at: Self.place(key)) {
                replies.append(reply)
            } else {
                unreadable.append(key)
            }
        }
        replies.sort { ($0.handledAt, $0.order, $0.transactionID) < ($1.handledAt, $1.order, $1.transactionID) }
        return (replies, unreadable.sorted())
    }

    /// Forgets a reply that went, or that is given up on.
    func forget(_ transactionID: String) async throws {
        try await store.setSealedValues([IMKeyChange(namespace: Self.namespace, key: transactionID, value: nil)])
    }

    /// Counts a failed try; `true` when the reply is given up on (and forgotten), `false` when it is kept for the next.
    func failed(_ reply: Reply) async throws -> Bool {
        var reply = reply
        reply.failures += 1
        guard reply.failures < Self.maximumFailures else {
            try await forget(reply.transactionID)
            return true
        }
        try await store.setSealedValues(try keeping([reply]))
        return false
    }

    /// The associated data a reply is sealed with, so that a value copied to another key does not open.
    static func place(_ transactionID: String) -> String { "\(namespace)/\(transactionID)" }
}
