import Foundation
import GRDB
import SkillRelayDomain
import SkillRelayStore

/// Figure 2: selecting the 50 best specialists of a topic and its subtopics, against the raw C API running the same SQL.
enum CandidateBenchmark {
    struct Result {
        var store: [Duration] = []
        var raw: [Duration] = []
        var rows = 0
    }

    static func run(path: String, topics: Int, repetitions: Int) async throws -> Result {
        var result = Result()
        let database = try AppDatabase.open(path: path)
        let store = SQLiteDirectoryStore(database: database)
        let raw = try RawSQLite(path: path)
        let statement = try raw.prepare(SQLiteDirectoryStore.specialistsSQL)
        // The most popular topics, the roots (which include subtopics) and a spread of the rest.
        let roots = max(1, topics / 10)
        let sample = Array(Set((0..<10).map { $0 % topics } + (0..<roots).prefix(10) + stride(from: roots, to: topics, by: max(1, topics / 20))))
            .sorted()
        for repetition in 0..<repetitions {
            for index in sample {
                let slug = SyntheticDirectory.slug(index)
                var found = 0
                func measureStore() async throws {
                    result.store.append(
                        try await Measurement.time { found = try await store.specialists(for: slug, minimumLevel: 3, limit: 50).count })
                }
                func measureRaw() async {
                    result.raw.append(
                        await Measurement.time {
                            statement.bind([slug, 3, 50])
                            statement.run(columns: 2)
                        })
                }
                // Each goes first half the time: the second of a pair finds the CPU's caches warm.
                if repetition.isMultiple(of: 2) {
                    try await measureStore()
                    await measureRaw()
                } else {
                    await measureRaw()
                    try await measureStore()
                }
                result.rows += found
            }
        }
        return result
    }
}
