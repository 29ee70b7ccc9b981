/// A stream's events, collected as they come, for a test to wait on (`Recorded.wait`), and whether it ended.
public final class CollectedEvents<Event: Sendable>: Sendable {
    public let events = Recorded<Event>()
    /// Holds one element once the stream has ended.
    public let ended = Recorded<Bool>()
    private let reader: Task<Void, Never>

    public init(_ stream: AsyncStream<Event>) {
        reader = Task { [events, ended] in
            for await event in stream { events.append(event) }
            ended.append(true)
        }
    }

    deinit { reader.cancel() }
}
