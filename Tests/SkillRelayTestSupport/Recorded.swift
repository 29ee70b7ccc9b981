import Foundation
import Synchronization

/// What happened, in order, as a test records it from several tasks; a test waits for what it expects with a deadline
/// rather than sleeping.
public final class Recorded<Event: Sendable>: Sendable {
    private struct State {
        var events: [Event] = []
        var nextWatcher = 0
        var watchers: [Int: AsyncStream<Void>.Continuation] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    public func append(_ event: Event) {
        let watchers = state.withLock { state in
            state.events.append(event)
            return Array(state.watchers.values)
        }
        for watcher in watchers { watcher.yield() }
    }

    public var all: [Event] { state.withLock { $0.events } }

    /// Returns once `condition` holds for what was recorded; throws `TimedOut` if it does not within `seconds`.
    public func wait(
        within seconds: Double, _ what: String, until condition: @escaping @Sendable ([Event]) -> Bool
    ) async throws {
        let (changes, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { state in
            defer { state.nextWatcher += 1 }
            state.watchers[state.nextWatcher] = continuation
            return state.nextWatcher
        }
        defer { _ = state.withLock { $0.watchers.removeValue(forKey: id) } }
        try await withDeadline(seconds: seconds, what) {
            if condition(self.all) { return }
            for await _ in changes where condition(self.all) { return }
            throw CancellationError()
        }
    }
}

/// A wait that took longer than the test allows.
public struct TimedOut: Error, CustomStringConvertible {
    public var what: String
    public init(what: String) { self.what = what }
    public var description: String { "timed out waiting for \(what)" }
}

/// `operation`, or `TimedOut` once `seconds` have passed (the operation is cancelled then, and must end when it is).
public func withDeadline<T: Sendable>(
    seconds: Double, _ what: String, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw TimedOut(what: what) }
        return value
    }
}
