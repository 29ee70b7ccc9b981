import Foundation
import GRDBSQLite

/// The raw SQLite C API: the baseline SkillRelay's store is measured against.
final class RawSQLite {
    private var db: OpaquePointer?

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    init(path: String) throws {
        guard sqlite3_open(path, &db) == SQLITE_OK else { throw Failure(description: "cannot open \(path)") }
        try execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON")
    }

    deinit { sqlite3_close(db) }

    func execute(_ sql: String) throws {
        guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else { throw Failure(description: String(cString: sqlite3_errmsg(db))) }
    }

    /// A prepared statement, reset and re-bound for each use.
    final class Statement {
        let handle: OpaquePointer?
        init(_ handle: OpaquePointer?) { self.handle = handle }
        deinit { sqlite3_finalize(handle) }

        func bind(_ values: [Any?]) {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
            for (index, value) in values.enumerated() {
                let position = Int32(index + 1)
                switch value {
                case let text as String: sqlite3_bind_text(handle, position, text, -1, unsafeBitCast(-1, to: sqlite3_destructor_type.self))
                case let number as Int: sqlite3_bind_int64(handle, position, Int64(number))
                case let number as Int64: sqlite3_bind_int64(handle, position, number)
                case let flag as Bool: sqlite3_bind_int(handle, position, flag ? 1 : 0)
                case let real as Double: sqlite3_bind_double(handle, position, real)
                default: sqlite3_bind_null(handle, position)
                }
            }
        }

        /// Steps to the end, returning the rows' columns as Int64 and text.
        @discardableResult
        func run(columns: Int = 0) -> [[String]] {
            var rows: [[String]] = []
            while sqlite3_step(handle) == SQLITE_ROW {
                guard columns > 0 else { continue }
                rows.append((0..<Int32(columns)).map { String(cString: sqlite3_column_text(handle, $0)) })
            }
            return rows
        }
    }

    func prepare(_ sql: String) throws -> Statement {
        var handle: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &handle, nil) == SQLITE_OK else { throw Failure(description: String(cString: sqlite3_errmsg(db))) }
        return Statement(handle)
    }

    var lastInsertedRowID: Int64 { sqlite3_last_insert_rowid(db) }

    /// The single number a `SELECT count(*) …` answers.
    func count(_ sql: String) throws -> Int {
        let statement = try prepare(sql)
        guard let value = statement.run(columns: 1).first?.first.flatMap({ Int($0) }) else { throw Failure(description: "no count from \(sql)") }
        return value
    }
}
