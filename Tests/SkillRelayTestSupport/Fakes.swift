import Foundation
import SkillRelayDomain
import Synchronization

/// A fake presence source: presence as the test sets it, and a count of calls.
public final class FakePresenceSource: PresenceSource, Sendable {
    private let state = Mutex<(presence: [String: Presence], calls: Int)>(([:], 0))

    public init(_ presence: [String: Presence] = [:]) { state.withLock { $0.presence = presence } }

    public func set(_ handle: String, _ presence: Presence) { state.withLock { $0.presence[handle] = presence } }

    public var calls: Int { state.withLock { $0.calls } }

    public func presence(of people: [PresenceQuery]) async -> [String: Presence] {
        state.withLock { state in
            state.calls += 1
            return Dictionary(uniqueKeysWithValues: people.map { ($0.handle, state.presence[$0.handle] ?? .unknown) })
        }
    }
}

/// A fake callback sender: records what it was asked to POST, and fails the first `failures` tries.
public final class FakeCallbackSender: CallbackSender, Sendable {
    public struct Failure: Error {}

    private let state: Mutex<(posts: [CallbackMessage], keys: [String], failuresLeft: Int)>

    public init(failures: Int = 0) { state = Mutex(([], [], failures)) }

    public var posts: [CallbackMessage] { state.withLock { $0.posts } }
    public var keys: [String] { state.withLock { $0.keys } }

    public func post(_ message: CallbackMessage, key: String) async throws {
        try state.withLock { state in
            if state.failuresLeft > 0 {
                state.failuresLeft -= 1
                throw Failure()
            }
            state.posts.append(message)
            state.keys.append(key)
        }
    }
}
