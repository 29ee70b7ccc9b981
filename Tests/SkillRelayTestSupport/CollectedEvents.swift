/// A stream's events, collected as they come, for a test to wait on (`Recorded.wait`).
public final class CollectedEvents<Event: Sendable>: Sendable {
    public let events = Recorded<Event>()
    private let reader: Task<Void, Never>

    public init(_ stream: AsyncStream<Event>) {
        reader = Task { [events] in
            for await event in stream { events.append(event) }
        }
    }

    deinit { reader.cancel() }
}
