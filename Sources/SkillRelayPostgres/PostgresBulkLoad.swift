import Logging
import PostgresNIO

/// Many employees written in one transaction (a full import, `db copy`): the org-path and count triggers stand aside
/// while the rows go in, and every path and count is worked out once before the commit. Row by row, each person
/// inserted or moved rewrites the row of every manager above them, so a load of n people was quadratic; see the
/// migration "pg v5 bulk loads rebuild paths and counts once". Edits of one person keep the triggers.
public enum PostgresBulkLoad {
    /// From here to the end of the transaction (`SET LOCAL`), the count triggers do nothing.
    public static func start(on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("SET LOCAL skillrelay.bulk = 'on'", logger: logger)
    }

    /// Every org path and count worked out from the manager column, then the triggers keep them again for the rest of
    /// the transaction.
    public static func finish(on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("SELECT rebuildOrgPathsAndCounts()", logger: logger)
        try await connection.query("SET LOCAL skillrelay.bulk = 'off'", logger: logger)
    }
}
