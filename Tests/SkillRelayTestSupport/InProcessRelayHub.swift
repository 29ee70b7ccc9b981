import SkillRelayDomain
import Synchronization

/// A fake relay between `QuestionEvents` in one process, standing in for the database's: whatever one instance
/// forwards reaches every other instance's running relay, except one cut off (`cutOff`), which misses it until it
/// hears the others again (`hearAgain`) and is told so, as a relay whose connection dropped would be; one silenced
/// (`silence`), whose events reach nobody, as an instance killed before notifying them; and each is told when another
/// instance stopped (`stopped`).
public final class InProcessRelayHub: Sendable {
    public let forwarded = Recorded<(from: String, event: QuestionEvent)>()
    public let connected = Recorded<String>()
    private struct Running {
        var deliver: @Sendable (QuestionEvent) -> Void
        var missed: @Sendable (MissedEvents) -> Void
        var cutOff = false
        var silenced = false
    }
    private let running = Mutex<[String: Running]>([:])

    public init() {}

    public func relay(named name: String) -> Relay { Relay(name: name, hub: self) }

    /// From now on, the relay `name` misses what the others forward.
    public func cutOff(_ name: String) { running.withLock { $0[name]?.cutOff = true } }

    /// From now on, what the instance `name` forwards reaches no other, as what an instance killed before it could
    /// notify it would have published.
    public func silence(_ name: String) { running.withLock { $0[name]?.silenced = true } }

    /// The relay `name` hears the others again, and is told it may have missed some.
    public func hearAgain(_ name: String) {
        let missed = running.withLock { running -> (@Sendable (MissedEvents) -> Void)? in
            running[name]?.cutOff = false
            return running[name]?.missed
        }
        missed?(.all)
    }

    /// The instance `name` stopped: every other relay is told, as a relay that saw its listening connection go away
    /// would be.
    public func stopped(_ name: String) {
        let others = running.withLock { $0.filter { $0.key != name }.map(\.value.missed) }
        for missed in others { missed(.publishedByStoppedInstance) }
    }

    public struct Relay: QuestionEventRelay {
        let name: String
        let hub: InProcessRelayHub

        public func forward(_ event: QuestionEvent) {
            hub.forwarded.append((name, event))
            let others = hub.running.withLock { running -> [@Sendable (QuestionEvent) -> Void] in
                guard running[name]?.silenced != true else { return [] }
                return running.filter { $0.key != name && !$0.value.cutOff }.map(\.value.deliver)
            }
            for deliver in others { deliver(event) }
        }

        public func send(_ event: QuestionEvent) async throws { forward(event) }

        /// Hears the others once `run` has joined the hub.
        public var hasListened: Bool { hub.running.withLock { $0[name] != nil } }

        /// Nothing waits: `forward` hands an event on before it returns.
        public func flush(within limit: Duration) async {}

        public func run(delivering deliver: @escaping @Sendable (QuestionEvent) -> Void, missed: @escaping @Sendable (MissedEvents) -> Void)
            async throws
        {
            hub.running.withLock { $0[name] = Running(deliver: deliver, missed: missed) }
            hub.connected.append(name)
            defer { _ = hub.running.withLock { $0.removeValue(forKey: name) } }
            try await Task.sleep(for: .seconds(86_400))
        }
    }
}
