/// A CSV file read by RFC 4180 rules: a header row and records, each with the line it starts on.
public struct CSVTable: Sendable, Equatable {
    /// One record and the line it starts on (1-based, the header being line 1).
    public struct Record: Sendable, Equatable {
        public var line: Int
        public var fields: [String]
    }

    public var header: [String]
    public var records: [Record]

    /// A syntax error: an unterminated quote or a stray character after a closing quote.
    public struct SyntaxError: Error, Sendable, Equatable {
        public var line: Int
        public var message: String
    }

    /// Parses CSV text; blank lines are skipped, a byte-order mark is ignored, and `\r\n` counts as one line break.
    public init(parsing text: String) throws(SyntaxError) {
        var rows: [Record] = []
        var fields: [String] = []
        var field = ""
        var line = 1
        var recordLine = 1
        var inQuotes = false
        var afterQuote = false
        var iterator = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = iterator.next()
        if pending == "\u{FEFF}" { pending = iterator.next() }

        func endRecord() {
            fields.append(field)
            field = ""
            if !(fields.count == 1 && fields[0].isEmpty) {
                rows.append(Record(line: recordLine, fields: fields))
            }
            fields = []
        }

        while let scalar = pending {
            pending = iterator.next()
            if inQuotes {
                if scalar == "\"" {
                    if pending == "\"" {
                        field.unicodeScalars.append("\"")
                        pending = iterator.next()
                    } else {
                        inQuotes = false
                        afterQuote = true
                    }
                } else {
                    if scalar == "\n" { line += 1 }
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case ",":
                fields.append(field)
                field = ""
                afterQuote = false
            case "\r" where pending == "\n":
                continue
            case "\n", "\r":
                endRecord()
                afterQuote = false
                line += 1
                recordLine = line
            case "\"" where field.isEmpty && !afterQuote:
                inQuotes = true
            default:
                if afterQuote {
                    throw SyntaxError(line: line, message: "unexpected character after a closing quote")
                }
                if scalar == "\"" {
                    throw SyntaxError(line: line, message: "a quote inside an unquoted field")
                }
                field.unicodeScalars.append(scalar)
            }
        }
        if inQuotes { throw SyntaxError(line: recordLine, message: "a quoted field is never closed") }
        if !field.isEmpty || !fields.isEmpty { endRecord() }
        guard let first = rows.first else {
            self.header = []
            self.records = []
            return
        }
        self.header = first.fields.map { $0.trimmingWhitespace().lowercased() }
        self.records = Array(rows.dropFirst())
    }
}
