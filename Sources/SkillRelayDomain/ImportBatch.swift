/// A directory import read from CSV files (`employees.csv`, `topics.csv`, `skills.csv`), each row with its line.
public struct ImportBatch: Sendable, Equatable {
    /// The file names an import directory may hold.
    public enum File: String, Sendable, CaseIterable {
        case employees = "employees.csv"
        case topics = "topics.csv"
        case skills = "skills.csv"

        /// Columns every file of this kind must have.
        var requiredColumns: [String] {
            switch self {
            case .employees: ["handle", "name", "email"]
            case .topics: ["slug", "name"]
            case .skills: ["handle", "topic", "level"]
            }
        }

        /// Columns a file of this kind may have.
        var knownColumns: [String] {
            switch self {
            case .employees: ["handle", "name", "email", "im_id", "manager", "admin", "active", "timezone", "working_hours"]
            case .topics: ["slug", "name", "parent", "aliases", "description"]
            case .skills: ["handle", "topic", "level"]
            }
        }
    }

    /// An employee and the line that describes them.
    public struct EmployeeRow: Sendable, Equatable {
        public var line: Int
        public var employee: Employee
    }

    /// A topic and the line that describes it.
    public struct TopicRow: Sendable, Equatable {
        public var line: Int
        public var topic: Topic
    }

    /// A skill tag and its line; the topic may be a slug or an alias.
    public struct SkillRow: Sendable, Equatable {
        public var line: Int
        public var handle: String
        public var topic: String
        public var level: Int
    }

    public var employees: [EmployeeRow] = []
    public var topics: [TopicRow] = []
    public var skills: [SkillRow] = []

    public init(employees: [EmployeeRow] = [], topics: [TopicRow] = [], skills: [SkillRow] = []) {
        self.employees = employees
        self.topics = topics
        self.skills = skills
    }

    /// Parses the files' texts, keyed by file name; throws every format problem found, by file and line.
    public static func parse(files: [File: String]) throws(ImportFailure) -> ImportBatch {
        var batch = ImportBatch()
        var problems: [ImportProblem] = []
        if files.isEmpty {
            throw ImportFailure(problems: [
                ImportProblem(file: "", line: 0, message: "no employees.csv, topics.csv or skills.csv to import")
            ])
        }
        for (file, text) in files.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            let table: CSVTable
            do {
                table = try CSVTable(parsing: text)
            } catch {
                problems.append(ImportProblem(file: file.rawValue, line: error.line, message: error.message))
                continue
            }
            let missing = file.requiredColumns.filter { !table.header.contains($0) }
            if !missing.isEmpty {
                problems.append(ImportProblem(file: file.rawValue, line: 1, message: "missing column(s): \(missing.joined(separator: ", "))"))
                continue
            }
            if let unknown = table.header.first(where: { !file.knownColumns.contains($0) }) {
                problems.append(ImportProblem(file: file.rawValue, line: 1, message: "unknown column '\(unknown)'"))
                continue
            }
            for record in table.records {
                let row = Row(header: table.header, record: record)
                guard record.fields.count == table.header.count else {
                    problems.append(
                        ImportProblem(
                            file: file.rawValue, line: record.line,
                            message: "\(record.fields.count) fields where the header has \(table.header.count)"))
                    continue
                }
                do {
                    switch file {
                    case .employees: batch.employees.append(try parseEmployee(row, line: record.line))
                    case .topics: batch.topics.append(try parseTopic(row, line: record.line))
                    case .skills: batch.skills.append(try parseSkill(row, line: record.line))
                    }
                } catch {
                    problems.append(ImportProblem(file: file.rawValue, line: record.line, message: error.message))
                }
            }
        }
        problems += duplicates(in: batch.employees.map { ($0.line, $0.employee.handle) }, file: .employees, what: "handle")
        problems += duplicates(in: batch.topics.map { ($0.line, $0.topic.slug) }, file: .topics, what: "slug")
        problems += duplicates(in: batch.skills.map { ($0.line, "\($0.handle) \($0.topic)") }, file: .skills, what: "skill")
        guard problems.isEmpty else { throw ImportFailure(problems: problems) }
        return batch
    }

    // MARK: - Rows

    private struct Row {
        var values: [String: String] = [:]

        init(header: [String], record: CSVTable.Record) {
            for (name, value) in zip(header, record.fields) { values[name] = value.trimmingWhitespace() }
        }

        subscript(_ column: String) -> String { values[column] ?? "" }

        func optional(_ column: String) -> String? {
            let value = self[column]
            return value.isEmpty ? nil : value
        }

        func flag(_ column: String, default defaultValue: Bool) throws(DirectoryError) -> Bool {
            switch self[column].lowercased() {
            case "": defaultValue
            case "true", "yes", "1": true
            case "false", "no", "0": false
            default: throw .invalidField(column, "must be true or false, not '\(self[column])'")
            }
        }
    }

    private static func parseEmployee(_ row: Row, line: Int) throws(DirectoryError) -> EmployeeRow {
        let employee = Employee(
            handle: row["handle"], name: row["name"], email: row["email"], imID: row.optional("im_id"),
            managerHandle: row.optional("manager"), isAdmin: try row.flag("admin", default: false),
            isActive: try row.flag("active", default: true), timeZone: row.optional("timezone"),
            workingHours: try row.optional("working_hours").map { (text) throws(DirectoryError) in try WorkingHours(parsing: text) })
        return EmployeeRow(line: line, employee: try employee.validated())
    }

    private static func parseTopic(_ row: Row, line: Int) throws(DirectoryError) -> TopicRow {
        let aliases = row["aliases"].split(separator: ";").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
        let topic = Topic(
            slug: row["slug"], name: row["name"], description: row["description"], parentSlug: row.optional("parent"),
            aliases: aliases)
        if let parent = topic.parentSlug { try DirectoryValidation.checkSlug(parent) }
        return TopicRow(line: line, topic: try topic.validated())
    }

    private static func parseSkill(_ row: Row, line: Int) throws(DirectoryError) -> SkillRow {
        try DirectoryValidation.checkHandle(row["handle"])
        guard DirectoryValidation.isValidSlug(row["topic"]) else { throw .topicNotFound(row["topic"]) }
        guard let level = Int(row["level"]) else { throw .invalidField("level", "must be a whole number from 1 to 5, not '\(row["level"])'") }
        try DirectoryValidation.checkLevel(level)
        return SkillRow(line: line, handle: row["handle"], topic: row["topic"], level: level)
    }

    private static func duplicates(in keys: [(line: Int, key: String)], file: File, what: String) -> [ImportProblem] {
        var firstLine: [String: Int] = [:]
        var problems: [ImportProblem] = []
        for (line, key) in keys {
            if let first = firstLine[key] {
                problems.append(ImportProblem(file: file.rawValue, line: line, message: "duplicate \(what) '\(key)' (first on line \(first))"))
            } else {
                firstLine[key] = line
            }
        }
        return problems
    }
}

/// One thing wrong with an import, where it is.
public struct ImportProblem: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var message: String

    public init(file: String, line: Int, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String { file.isEmpty ? message : "\(file):\(line): \(message)" }
}

/// An import that changed nothing, with every problem that stopped it, in file and line order.
public struct ImportFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var problems: [ImportProblem]

    public init(problems: [ImportProblem]) {
        self.problems = problems.sorted { ($0.file, $0.line) < ($1.file, $1.line) }
    }

    public var description: String { problems.map(\.description).joined(separator: "\n") }
}

/// What an import upserted.
public struct ImportSummary: Sendable, Equatable {
    public var employees: Int
    public var topics: Int
    public var skills: Int

    public init(employees: Int, topics: Int, skills: Int) {
        self.employees = employees
        self.topics = topics
        self.skills = skills
    }
}
