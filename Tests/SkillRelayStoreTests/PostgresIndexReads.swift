import PostgresNIO
import SkillRelayTestSupport

/// How much a statement read, as PostgreSQL counts it, for tests of statements that must read no further than they
/// return, including statements run inside a function, whose plans `EXPLAIN` does not show.
enum PostgresIndexReads {
    /// What `body` read from `relations` (entries of an index; rows of a table's sequential scans), and what it returned.
    /// Counted before and after it in the one transaction `connection` is in: PostgreSQL 15's counts "for the current
    /// transaction" also hold what the session's earlier transactions read and it has not yet reported (up to a second's
    /// worth), so a count alone could include reads from before the transaction began.
    static func entries<T>(
        of relations: [String], on connection: PostgresConnection, during body: () async throws -> T
    ) async throws -> (T, Int) {
        let before = try await total(of: relations, on: connection)
        let result = try await body()
        return (result, try await total(of: relations, on: connection) - before)
    }

    private static func total(of relations: [String], on connection: PostgresConnection) async throws -> Int {
        var total = 0
        for relation in relations {
            let rows = try await connection.query(
                "SELECT pg_stat_get_xact_tuples_returned(\(relation)::regclass)", logger: TestPostgres.logger
            ).collect()
            guard let count = try rows.first?.decode(Int?.self) ?? nil else { throw NotCounted(relation: relation) }
            total += count
        }
        return total
    }

    /// PostgreSQL gave no count: a test must not read that as nothing read.
    struct NotCounted: Error { var relation: String }
}
