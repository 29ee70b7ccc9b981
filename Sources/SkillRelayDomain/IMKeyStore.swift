import Foundation

/// Secrets an IM adapter keeps between restarts (Matrix: the bot's device keys, its Olm and Megolm sessions), as
/// opaque values by namespace and key. The adapter seals every value before it gets here, so the store never holds a
/// key in clear, and nothing here reads them.
public protocol IMKeyStore: Sendable {
    /// One value, if there is one.
    func sealedValue(namespace: String, key: String) async throws -> Data?
    /// Every value in a namespace, by key.
    func sealedValues(namespace: String) async throws -> [String: Data]
    /// Writes every change in one transaction: all of them or none (a `nil` value deletes its key).
    func setSealedValues(_ changes: [IMKeyChange]) async throws
}

/// One write to an `IMKeyStore`: a new value, or `nil` to delete.
public struct IMKeyChange: Sendable, Equatable {
    public var namespace: String
    public var key: String
    public var value: Data?

    public init(namespace: String, key: String, value: Data?) {
        self.namespace = namespace
        self.key = key
        self.value = value
    }
}
