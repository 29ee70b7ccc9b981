/// An error from a store behind the domain's ports that can say whether it only means the store is busy: its database
/// held by another writer (a backup, an operator's shell in a transaction) for longer than the store waits. Such a
/// request failed for now, not for good, and may be tried again in a moment.
public protocol StoreFailure: Error {
    /// Whether the store was busy rather than broken.
    var isBusy: Bool { get }
    /// Whether, more precisely, the database could not be reached at all (a database server down or restarting); the
    /// store reconnects by itself. Implies `isBusy`.
    var isUnreachable: Bool { get }
}

extension StoreFailure {
    /// A database in the process's own file is never out of reach.
    public var isUnreachable: Bool { false }
}
