import Foundation
import SkillRelayDomain
import SkillRelayStore

/// A clock the test sets by hand.
final class TestClock: WallClock, @unchecked Sendable {
    // @unchecked: the lock guards `current`, the only state.
    private let lock = NSLock()
    private var current: Date

    init(_ start: Date = Date(timeIntervalSince1970: 1_800_000_000)) { current = start }

    func now() -> Date { lock.withLock { current } }

    func advance(by seconds: TimeInterval) { lock.withLock { current += seconds } }
}

/// The sample company shipped in `Data/`.
let sampleDataDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Data").path

/// A fresh in-memory store with the sample company imported.
func makeSampleStore(clock: TestClock = TestClock()) async throws -> SQLiteDirectoryStore {
    let store = SQLiteDirectoryStore(database: try AppDatabase.inMemory(), clock: clock)
    _ = try await store.importDirectory(try ImportFiles.read(directory: sampleDataDirectory), by: .cliOperator)
    return store
}

/// Writes CSV files into a fresh temporary directory and returns the parsed batch.
func batch(_ files: [ImportBatch.File: String]) throws -> ImportBatch {
    try ImportBatch.parse(files: files)
}
