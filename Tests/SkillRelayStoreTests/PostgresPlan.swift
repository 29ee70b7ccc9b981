import Foundation
import PostgresNIO
import SkillRelayTestSupport
import Testing

/// A statement's plan as PostgreSQL ran it (`EXPLAIN (ANALYZE, FORMAT JSON)`), for tests of how much a statement reads.
enum PostgresPlan {
    /// The top node of `query`'s plan, run on `connection` (in whatever transaction and settings it is in).
    static func explained(_ query: PostgresQuery, on connection: PostgresConnection) async throws -> [String: Any] {
        let explain = PostgresQuery(unsafeSQL: "EXPLAIN (ANALYZE, FORMAT JSON) " + query.sql, binds: query.binds)
        let text = try #require(try await connection.query(explain, logger: TestPostgres.logger).collect().first).decode(String.self)
        let plan = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]]).first?["Plan"]
        return try #require(plan as? [String: Any])
    }

    /// The rows a plan's scans of `alias` read: those returned and those a filter removed, in every loop (per-loop
    /// figures are averages, which newer PostgreSQL versions give with decimals).
    static func rowsRead(in node: [String: Any], alias: String) -> Double {
        var read = 0.0
        if node["Alias"] as? String == alias {
            read += (figure("Actual Rows", of: node) + figure("Rows Removed by Filter", of: node)) * max(1, figure("Actual Loops", of: node))
        }
        for child in node["Plans"] as? [[String: Any]] ?? [] { read += rowsRead(in: child, alias: alias) }
        return read
    }

    /// One of a plan node's figures, 0 where the node has none.
    static func figure(_ key: String, of node: [String: Any]) -> Double {
        (node[key] as? NSNumber)?.doubleValue ?? 0
    }
}
