/// What an IM adapter keeps between restarts: one conversation per person, where its inbound stream stopped, the
/// events it already handled, and which message carried which delivery.
public protocol IMStateStore: Sendable {
    /// The direct conversation (room) with a person, if there is one.
    func conversation(with imID: String) async throws -> String?
    /// Remembers the direct conversation with a person.
    func setConversation(_ conversation: String, with imID: String) async throws
    /// Where the inbound stream stopped (a Matrix `since` token).
    func inboundCursor() async throws -> String?
    /// Moves the inbound cursor on.
    func setInboundCursor(_ cursor: String) async throws
    /// Records an inbound event as handled; `false` if it was handled before.
    func markHandled(event id: String) async throws -> Bool
    /// The delivery an IM message carried.
    func delivery(forMessageReference reference: String) async throws -> String?
    /// The active employee with an IM id, as a caller; `nil` for anyone unknown or inactive.
    func caller(forIMID imID: String) async throws -> Caller?
}
