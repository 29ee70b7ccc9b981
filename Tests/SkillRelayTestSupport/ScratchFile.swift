import Foundation

/// A SQLite database file a test makes in the temporary directory, and removes with its `-wal` and `-shm` companions:
/// removing the file alone left those behind on every run.
public struct ScratchSQLiteFile: Sendable {
    public let path: String

    public init(_ prefix: String) {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString).sqlite").path
    }

    public func remove() { Self.remove(path) }

    /// Removes the database at `path` and its companions.
    public static func remove(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
}
