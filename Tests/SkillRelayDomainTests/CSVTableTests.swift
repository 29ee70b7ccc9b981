import Testing

@testable import SkillRelayDomain

@Suite struct CSVTableTests {
    @Test func readsQuotedFieldsWithCommasQuotesAndLineBreaks() throws {
        let table = try CSVTable(
            parsing: "\u{FEFF}slug,description\r\nk8s,\"Clusters, pods and \"\"operators\"\"\"\r\nml,\"two\nlines\"\n\nsql,plain\n")
        #expect(table.header == ["slug", "description"])
        #expect(table.records.map(\.fields) == [["k8s", "Clusters, pods and \"operators\""], ["ml", "two\nlines"], ["sql", "plain"]])
        #expect(table.records.map(\.line) == [2, 3, 6])
    }

    @Test func keepsEmptyTrailingFields() throws {
        let table = try CSVTable(parsing: "a,b,c\n1,,\n")
        #expect(table.records.map(\.fields) == [["1", "", ""]])
    }

    @Test func reportsAnUnclosedQuoteAtTheLineItStarts() {
        #expect(throws: CSVTable.SyntaxError(line: 3, message: "a quoted field is never closed")) {
            try CSVTable(parsing: "a,b\n1,2\n3,\"open\n\n")
        }
    }

    @Test func refusesTextAfterAClosingQuote() {
        #expect(throws: CSVTable.SyntaxError.self) { try CSVTable(parsing: "a,b\n\"x\"y,2\n") }
    }
}
