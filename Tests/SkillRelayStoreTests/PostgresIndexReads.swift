import PostgresNIO
import SkillRelayTestSupport

/// How much a statement read, as PostgreSQL counts it, for tests of statements that must read no further than they
/// return, including statements run inside a function, whose plans `EXPLAIN` does not show.
enum PostgresIndexReads {
    /// The entries the transaction `connection` is in has read from `index` so far.
    static func entries(of index: String, on connection: PostgresConnection) async throws -> Int {
        let rows = try await connection.query("SELECT pg_stat_get_xact_tuples_returned(\(index)::regclass)", logger: TestPostgres.logger)
            .collect()
        guard let count = try rows.first?.decode(Int?.self) ?? nil else { throw NotCounted(index: index) }
        return count
    }

    /// PostgreSQL gave no count: a test must not read that as nothing read.
    struct NotCounted: Error { var index: String }
}
