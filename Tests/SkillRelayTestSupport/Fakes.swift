import Foundation
import SkillRelayDomain
import Synchronization

/// A fake presence source: presence as the test sets it, whether it reports presence at all, and a count of calls.
public final class FakePresenceSource: PresenceSource, Sendable {
    private let state = Mutex<(presence: [String: Presence], calls: Int)>(([:], 0))
    private let reporting: Mutex<PresenceReporting>

    public init(_ presence: [String: Presence] = [:], reporting: PresenceReporting = .reported) {
        self.reporting = Mutex(reporting)
        state.withLock { $0.presence = presence }
    }

    public func setReporting(_ value: PresenceReporting) { reporting.withLock { $0 = value } }

    public func probePresenceReporting() async -> PresenceReporting { reporting.withLock { $0 } }

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

/// A messenger that passes every send on to another once its gate is open, holding it until then: an IM server that
/// has stopped answering, for as long as a test likes. (A fake, for tests.)
public final class GatedMessenger: Messenger, Sendable {
    let inner: any Messenger
    private let open: Mutex<Bool>

    public init(_ inner: any Messenger, open: Bool = true) {
        self.inner = inner
        self.open = Mutex(open)
    }

    public func setOpen(_ value: Bool) { open.withLock { $0 = value } }

    private func waitForGate() async throws {
        while !open.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
    }

    public func deliverQuestion(_ message: QuestionMessage, key: String) async throws -> String? {
        try await waitForGate()
        return try await inner.deliverQuestion(message, key: key)
    }

    public func deliverAnswer(_ message: AnswerMessage, key: String) async throws -> String? {
        try await waitForGate()
        return try await inner.deliverAnswer(message, key: key)
    }

    public func deliverFollowUp(_ message: FollowUpMessage, key: String) async throws -> String? {
        try await waitForGate()
        return try await inner.deliverFollowUp(message, key: key)
    }

    public func notifyClosed(_ message: ClosedMessage, key: String) async throws {
        try await waitForGate()
        try await inner.notifyClosed(message, key: key)
    }

    public func notifyAsker(_ message: AskerNotice, key: String) async throws {
        try await waitForGate()
        try await inner.notifyAsker(message, key: key)
    }

    public func deliverReveal(_ message: RevealNotice, key: String) async throws -> String? {
        try await waitForGate()
        return try await inner.deliverReveal(message, key: key)
    }

    public func introduce(_ introduction: Introduction, key: String) async throws -> String? {
        try await waitForGate()
        return try await inner.introduce(introduction, key: key)
    }
}
