import Testing

@testable import SkillRelayDomain

@Suite struct SyntheticDirectoryTests {
    func lines(_ produce: ((String) -> Void) -> Void) -> [String] {
        var text = ""
        produce { text += $0 }
        return text.split(separator: "\n").map(String.init)
    }

    @Test func writesExactlyTheRequestedRowsAsAValidImport() throws {
        let company = try SyntheticDirectory(employees: 300, topics: 40, skills: 2_500)
        let employees = lines(company.employeesCSV)
        let topics = lines(company.topicsCSV)
        let skills = lines(company.skillsCSV)
        #expect(employees.count == 301 && topics.count == 41 && skills.count == 2_501)
        let pairs = skills.dropFirst().map { $0.split(separator: ",").prefix(2).joined(separator: ",") }
        #expect(Set(pairs).count == 2_500)
        let batch = try ImportBatch.parse(files: [
            .employees: employees.joined(separator: "\n"), .topics: topics.joined(separator: "\n"), .skills: skills.joined(separator: "\n"),
        ])
        #expect(batch.skills.count == 2_500)
    }

    @Test func popularityIsSkewedAndTheSameSeedGivesTheSameCompany() throws {
        let company = try SyntheticDirectory(employees: 1_000, topics: 100, skills: 5_000, seed: 7)
        let skills = lines(company.skillsCSV)
        #expect(skills == lines(company.skillsCSV))
        let topic0 = skills.filter { $0.contains(",topic-0,") }.count
        let topic90 = skills.filter { $0.contains(",topic-90,") }.count
        #expect(topic0 > 5 * max(1, topic90))
        #expect(skills != lines(try SyntheticDirectory(employees: 1_000, topics: 100, skills: 5_000, seed: 8).skillsCSV))
    }

    @Test func impossibleSizesAreRefused() {
        #expect(throws: DirectoryError.self) { try SyntheticDirectory(employees: 2, topics: 2, skills: 5) }
        #expect(throws: DirectoryError.self) { try SyntheticDirectory(employees: 0, topics: 2, skills: 0) }
    }
}
