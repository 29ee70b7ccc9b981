import Foundation
import SkillRelayDomain
import SkillRelayStore
import SkillRelayTestSupport

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
