/// An error from a store behind the domain's ports that can say whether it only means the store is busy: its database
/// held by another writer (a backup, an operator's shell in a transaction) for longer than the store waits. Such a
/// request failed for now, not for good, and may be tried again in a moment.
public protocol StoreFailure: Error {
    /// Whether the store was busy rather than broken.
    var isBusy: Bool { get }
}
