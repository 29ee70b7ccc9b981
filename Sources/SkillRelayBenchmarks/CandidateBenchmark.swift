import Foundation
import GRDB
import SkillRelayDomain
import SkillRelayPostgres
import SkillRelayStore

/// Figure 2: selecting the 50 best specialists of a topic and its subtopics, against the raw C API running the same SQL;
/// and, given a copy of the company on PostgreSQL, the PostgreSQL store's port of the query on the same topics.
enum CandidateBenchmark {
    struct Result {
        var store: [Duration] = []
        var raw: [Duration] = []
        var postgres: [Duration] = []
        var rows = 0
        /// Queries whose PostgreSQL answer differed from SQLite's (same people in the same order): must be none.
        var postgresDisagreements = 0
    }

    static func run(path: String, postgres: PostgresLocation?, topics: Int, repetitions: Int) async throws -> Result {
        var result = Result()
        let database = try AppDatabase.open(path: path)
        let store = SQLiteDirectoryStore(database: database)
        var postgresDatabase: PostgresAppDatabase?
        if let postgres {
            postgresDatabase = try await PostgresAppDatabase.open(url: postgres.url, logger: BenchDatabase.logger, maximumConnections: 2)
        }
        let postgresStore = postgresDatabase.map { PostgresDirectoryStore(database: $0) }
        do {
            try await measure(
                store: store, raw: RawSQLite(path: path), postgres: postgresStore, topics: topics, repetitions: repetitions, into: &result)
        } catch {
            await postgresDatabase?.close()
            throw error
        }
        await postgresDatabase?.close()
        return result
    }

    private static func measure(
        store: SQLiteDirectoryStore, raw: RawSQLite, postgres: PostgresDirectoryStore?, topics: Int, repetitions: Int, into result: inout Result
    ) async throws {
        let statement = try raw.prepare(SQLiteDirectoryStore.specialistsSQL)
        // The most popular topics, the roots (which include subtopics) and a spread of the rest.
        let roots = max(1, topics / 10)
        let sample = Array(Set((0..<10).map { $0 % topics } + (0..<roots).prefix(10) + stride(from: roots, to: topics, by: max(1, topics / 20))))
            .sorted()
        for repetition in 0..<repetitions {
            for index in sample {
                let slug = SyntheticDirectory.slug(index)
                var found: [Specialist] = []
                func measureStore() async throws {
                    result.store.append(try await Measurement.time { found = try await store.specialists(for: slug, minimumLevel: 3, limit: 50) })
                }
                func measureRaw() async {
                    result.raw.append(
                        await Measurement.time {
                            statement.bind([slug, 3, 50])
                            statement.run(columns: 2)
                        })
                }
                var foundThere: [Specialist]?
                func measurePostgres() async throws {
                    guard let postgres else { return }
                    result.postgres.append(
                        try await Measurement.time { foundThere = try await postgres.specialists(for: slug, minimumLevel: 3, limit: 50) })
                }
                // Each goes first in turn: the second of a pair finds the CPU's caches warm.
                switch repetition % 3 {
                case 0:
                    try await measureStore()
                    await measureRaw()
                    try await measurePostgres()
                case 1:
                    await measureRaw()
                    try await measurePostgres()
                    try await measureStore()
                default:
                    try await measurePostgres()
                    try await measureStore()
                    await measureRaw()
                }
                result.rows += found.count
                if let foundThere, foundThere != found { result.postgresDisagreements += 1 }
            }
        }
    }
}
