import Logging
import PostgresNIO

/// One connection inside a transaction, with the logger every statement needs: the stores' SQL reads like GRDB's
/// `db` (`rows`, `value`, `execute`), values always bound, results decoded by position.
struct PostgresStatements {
    let connection: PostgresConnection
    let logger: Logger

    /// Runs a statement and discards what it returns.
    func execute(_ query: PostgresQuery) async throws {
        try await connection.query(query, logger: logger)
    }

    /// Every row, each made by `make`.
    func rows<T>(_ query: PostgresQuery, _ make: (PostgresRow) throws -> T) async throws -> [T] {
        var made: [T] = []
        for try await row in try await connection.query(query, logger: logger) {
            made.append(try make(row))
        }
        return made
    }

    /// The first row, made by `make`, if there is one.
    func row<T>(_ query: PostgresQuery, _ make: (PostgresRow) throws -> T) async throws -> T? {
        var found: T?
        for try await row in try await connection.query(query, logger: logger) where found == nil {
            found = try make(row)
        }
        return found
    }

    /// The first column of every row.
    func values<T: PostgresDecodable>(_ query: PostgresQuery, _ type: T.Type = T.self) async throws -> [T] {
        try await rows(query) { try $0.decode(T.self) }
    }

    /// The first column of the first row, if there is one (a NULL there reads as `nil` too).
    func value<T: PostgresDecodable>(_ query: PostgresQuery, _ type: T.Type = T.self) async throws -> T? where T._DecodableType == T {
        try await row(query) { try $0.decode(T?.self) } ?? nil
    }

    /// How many rows a statement with `RETURNING` returned: the count of rows it changed.
    func changes(_ query: PostgresQuery) async throws -> Int {
        try await rows(query) { _ in () }.count
    }
}

/// SQL put together from fixed fragments, with every value bound (`$n`), for the few queries whose shape depends on
/// the request (filters, orders, cursors).
struct DynamicSQL {
    private(set) var sql = ""
    private(set) var binds = PostgresBindings()

    init(_ sql: String = "") {
        self.sql = sql
    }

    /// Appends a fixed fragment.
    mutating func append(_ fragment: String) {
        sql += fragment
    }

    /// Binds a value and returns its placeholder.
    mutating func bind<T: PostgresDynamicTypeEncodable>(_ value: T) -> String {
        binds.append(value)
        return "$\(binds.count)"
    }

    /// Binds an optional value (NULL when absent) and returns its placeholder.
    mutating func bind<T: PostgresDynamicTypeEncodable>(_ value: T?) -> String {
        binds.append(value)
        return "$\(binds.count)"
    }

    var query: PostgresQuery { PostgresQuery(unsafeSQL: sql, binds: binds) }
}

extension PostgresAppDatabase {
    /// `write`, with the statements helper. An error of the transaction's own (a `DirectoryError`, an `ImportFailure`)
    /// comes out as it was thrown, not wrapped in postgres-nio's `PostgresTransactionError`, so callers see the same
    /// errors as from SQLite's store.
    func writing<T: Sendable>(_ body: (PostgresStatements) async throws -> T) async throws -> T {
        try await write { connection in try await body(PostgresStatements(connection: connection, logger: logger)) }
    }

    /// `read`, with the statements helper.
    func reading<T: Sendable>(_ body: (PostgresStatements) async throws -> T) async throws -> T {
        try await read { connection in try await body(PostgresStatements(connection: connection, logger: logger)) }
    }

    /// `withoutTransaction`, with the statements helper: for a read of one statement.
    func readingOneStatement<T: Sendable>(_ body: (PostgresStatements) async throws -> T) async throws -> T {
        try await readingWithoutSnapshot(body)
    }

    /// `withoutTransaction`, with the statements helper, for a read of several statements that need no common
    /// snapshot: lookups of ids that never change, then one statement. Saves `read`'s BEGIN and COMMIT.
    func readingWithoutSnapshot<T: Sendable>(_ body: (PostgresStatements) async throws -> T) async throws -> T {
        try await withoutTransaction { connection in try await body(PostgresStatements(connection: connection, logger: logger)) }
    }
}
