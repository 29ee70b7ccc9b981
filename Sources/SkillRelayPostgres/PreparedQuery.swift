import PostgresNIO

/// The text of a statement the ask path runs on every request, prepared once per connection (`PreparedQuery`).
/// PostgreSQL parses and plans an unnamed statement at every call, about a millisecond each under figure 3's load; a
/// prepared one is parsed once, and planned once its generic plan is as good as the custom ones (for these lookups by
/// key, after the fifth call). Every parameter is cast to the type its Swift value is sent as (`Int` as `bigint`,
/// `Date` as `timestamptz`), since a prepared statement's parameter types are fixed when it is prepared.
protocol PreparedSQL: Sendable {
    /// Unique among the statements prepared on one connection: change it with the text.
    static var name: String { get }
    static var sql: String { get }
}

/// A statement of `Statement`'s text with this call's values, its rows as they come.
struct PreparedQuery<Statement: PreparedSQL>: PostgresPreparedStatement {
    typealias Row = PostgresRow
    static var name: String { Statement.name }
    static var sql: String { Statement.sql }

    private let bindings: PostgresBindings

    /// The values in the order of the statement's parameters (`$1`, `$2`, …).
    init(_ bind: (inout PostgresBindings) throws -> Void) rethrows {
        var bindings = PostgresBindings()
        try bind(&bindings)
        self.bindings = bindings
    }

    func makeBindings() throws -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}

extension PostgresConnection {
    /// Every row of a prepared statement.
    func rows<Statement>(_ query: PreparedQuery<Statement>) async throws -> [PostgresRow] {
        var rows: [PostgresRow] = []
        for try await row in try await execute(query, logger: logger) { rows.append(row) }
        return rows
    }
}
