/// A column as one database's catalogue describes it.
struct CopyColumn: Sendable, Equatable {
    /// The name as that database spells it.
    var name: String
    var kind: ColumnKind
    /// The type as that database names it (PostgreSQL's `format_type`, SQLite's declared type), for casts and messages.
    var typeName: String

    var key: String { name.lowercased() }
}

/// One database seen through a consistent snapshot: its catalogue and its rows.
protocol CopyReader: Sendable {
    /// Every table (lower case) that holds data of its own: full-text indexes and their shadow tables left out.
    func tables() async throws -> Set<String>
    /// The table's stored columns (generated ones left out), in the table's order.
    func columns(of table: CopiedTable) async throws -> [CopyColumn]
    func count(_ table: CopiedTable) async throws -> Int
    /// Every row's values for `columns`, in primary key order, a batch at a time.
    func forEachBatch(
        of table: CopiedTable, columns: [CopyColumn], batchSize: Int, _ body: ([[CopyValue]]) async throws -> Void
    ) async throws
    /// The highest id the table's identity has handed out (SQLite's AUTOINCREMENT counter, PostgreSQL's sequence), if it
    /// has one and it has been used; it may be above the highest id left in the table.
    func identityHighWater(_ table: CopiedTable) async throws -> Int64?
}

/// The target: the same, inside the one transaction the copy happens in.
protocol CopyWriter: CopyReader {
    /// Inserts rows whose values are already of the columns' kinds.
    func insert(_ rows: [[CopyValue]], into table: CopiedTable, columns: [CopyColumn]) async throws
    /// `UPDATE table SET column = value WHERE id = id`.
    func update(_ table: CopiedTable, set column: CopyColumn, to value: CopyValue, id: Int64) async throws
    /// After explicit ids: the next id the table hands out is above both the highest id in it and `highWater`.
    func advanceIdentity(_ table: CopiedTable, past highWater: Int64?) async throws
    /// Before the first row: columns the target's triggers keep may be left until `finishBulkLoad` instead of being
    /// worked out row by row (PostgreSQL's org paths and counts, quadratic in rows that way).
    func startBulkLoad() async throws
    /// After the last row, before the checks: whatever `startBulkLoad` left is worked out, and triggers keep it again.
    func finishBulkLoad() async throws
}
