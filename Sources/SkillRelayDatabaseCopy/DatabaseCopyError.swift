/// Why `db copy` stopped. Nothing was written to the target in any of these cases: the copy is one transaction.
public enum DatabaseCopyError: Error, Equatable, CustomStringConvertible {
    case noSuchSQLiteFile(String)
    case sameDatabase(String)
    /// The target's tables that already hold rows, with how many.
    case targetNotEmpty([TableCount])
    /// Tables the copier does not know (a newer schema than this version's), by side ("source" or "target").
    case unknownTables([String], side: String)
    case missingTable(String, side: String)
    /// A source column the target has nowhere to put.
    case columnNotInTarget(table: String, column: String)
    case unsupportedColumnType(String, String, String)
    case unconvertible(table: String, column: String, value: String, type: String)
    /// Tables whose row count in the target differs from the source's once copied.
    case countMismatch([CountMismatch])
    /// A trigger-kept column (org path, people below) that came out differently from the source's.
    case derivedMismatch(table: String, column: String, id: String, source: String, target: String)

    public struct TableCount: Equatable, Sendable {
        public var table: String
        public var rows: Int
    }

    public struct CountMismatch: Equatable, Sendable {
        public var table: String
        public var source: Int
        public var target: Int
    }

    public var description: String {
        switch self {
        case .noSuchSQLiteFile(let path):
            "there is no SQLite database at \(path)"
        case .sameDatabase(let location):
            "the source and the target are the same database (\(location))"
        case .targetNotEmpty(let tables):
            "the target is not empty (\(tables.map { "\($0.table): \($0.rows) rows" }.joined(separator: ", "))); "
                + "db copy only copies into an empty database, so that nothing in it is mixed with or overwritten by the copy"
        case .unknownTables(let tables, let side):
            "the \(side) has tables this version of skillrelay does not know how to copy (\(tables.joined(separator: ", "))); "
                + "use the skillrelay version that made them"
        case .missingTable(let table, let side):
            "the \(side) has no table \(table): it is not a SkillRelay database of this version"
        case .columnNotInTarget(let table, let column):
            "the target has no column \(table).\(column) to copy the source's into"
        case .unsupportedColumnType(let table, let column, let type):
            "\(table).\(column) has the type \(type), which db copy does not know how to convert"
        case .unconvertible(let table, let column, let value, let type):
            "\(table).\(column): the value \(value) cannot be stored as \(type)"
        case .countMismatch(let tables):
            "the copy does not have the source's rows, so it was rolled back: "
                + tables.map { "\($0.table) \($0.source) in the source, \($0.target) in the target" }.joined(separator: "; ")
        case .derivedMismatch(let table, let column, let id, let source, let target):
            "\(table) \(id): \(column) came out as \(target), not \(source) as in the source, so the copy was rolled back"
        }
    }
}
