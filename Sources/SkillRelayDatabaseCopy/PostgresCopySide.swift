import Foundation
import Logging
import NIOCore
import PostgresNIO
import SkillRelayPostgres

/// A PostgreSQL database as `db copy` sees it: one connection, inside a `REPEATABLE READ READ ONLY` transaction when
/// read (one snapshot for the whole copy) or a write transaction holding SkillRelay's write lock when written.
struct PostgresCopySide: CopyWriter {
    let connection: PostgresConnection
    let logger: Logger

    // MARK: - Catalogue

    func tables() async throws -> Set<String> {
        let rows = try await connection.query(
            """
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
            """, logger: logger)
        var names: Set<String> = []
        for try await name in rows.decode(String.self) { names.insert(name) }
        return names
    }

    func columns(of table: CopiedTable) async throws -> [CopyColumn] {
        let rows = try await connection.query(
            """
            SELECT a.attname::text, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
            WHERE a.attrelid = to_regclass(quote_ident(current_schema()) || '.' || quote_ident(\(table.key)))
            AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
            ORDER BY a.attnum
            """, logger: logger)
        var columns: [CopyColumn] = []
        for try await (name, type) in rows.decode((String, String).self) {
            guard let kind = Self.kind(type) else { throw DatabaseCopyError.unsupportedColumnType(table.name, name, type) }
            columns.append(CopyColumn(name: name, kind: kind, typeName: type))
        }
        return columns
    }

    static func kind(_ type: String) -> ColumnKind? {
        switch type {
        case "bigint", "integer", "smallint": .integer
        case "double precision", "real": .real
        case "text", "character varying": .text
        case "bytea": .blob
        case "boolean": .boolean
        case "timestamp with time zone": .timestamp
        default: nil
        }
    }

    func count(_ table: CopiedTable) async throws -> Int {
        let rows = try await connection.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(Self.quoted(table.key))"), logger: logger)
        for try await count in rows.decode(Int64.self) { return Int(count) }
        return 0
    }

    // MARK: - Rows

    func forEachBatch(
        of table: CopiedTable, columns: [CopyColumn], batchSize: Int, _ body: ([[CopyValue]]) async throws -> Void
    ) async throws {
        let list = columns.map { column in
            switch column.kind {
            // Exact microseconds, never through a floating-point Date.
            case .timestamp: "(extract(epoch FROM \(Self.quoted(column.key))) * 1000000)::bigint"
            case .integer: "\(Self.quoted(column.key))::bigint"
            default: Self.quoted(column.key)
            }
        }
        let order = try await primaryKey(of: table).map(Self.quoted).joined(separator: ", ")
        let sql = "SELECT \(list.joined(separator: ", ")) FROM \(Self.quoted(table.key))" + (order.isEmpty ? "" : " ORDER BY \(order)")
        var batch: [[CopyValue]] = []
        batch.reserveCapacity(batchSize)
        // The rows stream in as they are read: a large table never sits in memory whole.
        for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger) {
            var values: [CopyValue] = []
            values.reserveCapacity(columns.count)
            for (cell, column) in zip(row, columns) { values.append(try Self.value(cell, of: column)) }
            batch.append(values)
            if batch.count == batchSize {
                try await body(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty { try await body(batch) }
    }

    private func primaryKey(of table: CopiedTable) async throws -> [String] {
        let rows = try await connection.query(
            """
            SELECT a.attname::text FROM pg_index i
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
            WHERE i.indrelid = to_regclass(quote_ident(current_schema()) || '.' || quote_ident(\(table.key))) AND i.indisprimary
            ORDER BY a.attnum
            """, logger: logger)
        var names: [String] = []
        for try await name in rows.decode(String.self) { names.append(name) }
        return names
    }

    static func value(_ cell: PostgresCell, of column: CopyColumn) throws -> CopyValue {
        guard cell.bytes != nil else { return .null }
        switch column.kind {
        case .integer: return .integer(try cell.decode(Int64.self))
        case .real: return .real(try cell.decode(Double.self))
        case .text: return .text(try cell.decode(String.self))
        case .blob: return .blob(Array(buffer: try cell.decode(ByteBuffer.self)))
        case .boolean: return .boolean(try cell.decode(Bool.self))
        case .timestamp: return .timestamp(microseconds: try cell.decode(Int64.self))
        }
    }

    /// The identity column's sequence, if the table has one: (column, sequence).
    private func identity(of table: CopiedTable) async throws -> (column: String, sequence: String)? {
        let rows = try await connection.query(
            """
            SELECT a.attname::text, pg_get_serial_sequence(quote_ident(current_schema()) || '.' || quote_ident(\(table.key)), a.attname)
            FROM pg_attribute a
            WHERE a.attrelid = to_regclass(quote_ident(current_schema()) || '.' || quote_ident(\(table.key))) AND a.attidentity <> ''
            """, logger: logger)
        for try await (column, sequence) in rows.decode((String, String).self) { return (column, sequence) }
        return nil
    }

    func identityHighWater(_ table: CopiedTable) async throws -> Int64? {
        guard let identity = try await identity(of: table) else { return nil }
        let rows = try await connection.query("SELECT pg_sequence_last_value(\(identity.sequence)::regclass)", logger: logger)
        for try await value in rows.decode(Int64?.self) { return value }
        return nil
    }

    // MARK: - Writing

    func insert(_ rows: [[CopyValue]], into table: CopiedTable, columns: [CopyColumn]) async throws {
        guard !rows.isEmpty else { return }
        var bindings = PostgresBindings(capacity: rows.count * columns.count)
        var tuples: [String] = []
        tuples.reserveCapacity(rows.count)
        for row in rows {
            var placeholders: [String] = []
            for (value, column) in zip(row, columns) {
                Self.bind(value, into: &bindings)
                placeholders.append("$\(bindings.count)::\(column.typeName)")
            }
            tuples.append("(" + placeholders.joined(separator: ", ") + ")")
        }
        let sql = "INSERT INTO \(Self.quoted(table.key)) (\(columns.map { Self.quoted($0.key) }.joined(separator: ", "))) VALUES "
        try await connection.query(PostgresQuery(unsafeSQL: sql + tuples.joined(separator: ", "), binds: bindings), logger: logger)
    }

    func update(_ table: CopiedTable, set column: CopyColumn, to value: CopyValue, id: Int64) async throws {
        var bindings = PostgresBindings()
        Self.bind(value, into: &bindings)
        bindings.append(id)
        let sql = "UPDATE \(Self.quoted(table.key)) SET \(Self.quoted(column.key)) = $1::\(column.typeName) WHERE id = $2"
        try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
    }

    func advanceIdentity(_ table: CopiedTable, past highWater: Int64?) async throws {
        guard let identity = try await identity(of: table) else { return }
        // greatest() skips NULLs, and setval(…, NULL) changes nothing: an empty table without a mark keeps its sequence.
        let sql = """
            SELECT setval($1::regclass, greatest((SELECT max(\(Self.quoted(identity.column))) FROM \(Self.quoted(table.key))), $2::bigint))
            """
        var bindings = PostgresBindings()
        bindings.append(identity.sequence)
        bindings.append(highWater)
        try await connection.query(PostgresQuery(unsafeSQL: sql, binds: bindings), logger: logger)
    }

    func startBulkLoad() async throws {
        try await PostgresBulkLoad.start(on: connection, logger: logger)
    }

    func finishBulkLoad() async throws {
        try await PostgresBulkLoad.finish(on: connection, logger: logger)
    }

    static func bind(_ value: CopyValue, into bindings: inout PostgresBindings) {
        switch value {
        case .null: bindings.appendNull()
        case .integer(let number): bindings.append(number)
        case .real(let number): bindings.append(number)
        case .text(let text): bindings.append(text)
        case .blob(let bytes): bindings.append(ByteBuffer(bytes: bytes))
        case .boolean(let flag): bindings.append(flag)
        // As text: PostgreSQL reads every microsecond of it exactly.
        case .timestamp(let microseconds): bindings.append(CopyTime.postgresText(microseconds))
        }
    }

    /// An identifier as PostgreSQL names it (the catalogue's lower-case spelling), quoted.
    static func quoted(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
