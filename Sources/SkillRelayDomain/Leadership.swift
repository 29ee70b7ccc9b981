/// Which instance runs the work only one may run at a time (the IM's inbound loop): with several instances on one
/// database one leads, the others stand by, and one of them takes over when the leader dies.
public protocol Leadership: Sendable {
    /// Waits until this instance leads `name` (how the log names the work, e.g. "the Matrix sync"), then runs `body`. If
    /// the lead is lost, `body` is cancelled, and once it has ended this instance stands by again. Returns when `body`
    /// returns and throws what it throws (cancelled while leading, `body` is cancelled and its ending is the answer);
    /// throws `CancellationError` when cancelled while standing by.
    func whileLeading(_ name: String, _ body: @escaping @Sendable () async throws -> Void) async throws
}

/// One instance alone: it leads at once and never loses the lead (SQLite, and PostgreSQL with one instance).
public struct SoleInstance: Leadership {
    public init() {}

    public func whileLeading(_ name: String, _ body: @escaping @Sendable () async throws -> Void) async throws {
        try await body()
    }
}
