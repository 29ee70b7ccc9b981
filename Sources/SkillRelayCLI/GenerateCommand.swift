import ArgumentParser
import Foundation
import SkillRelayDomain
import SkillRelayStore

/// `skillrelay generate`: a synthetic directory in the import's CSV formats, for benchmarks.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate", abstract: "Write a synthetic company (employees.csv, topics.csv, skills.csv) into a directory.")

    @Option(help: "Employees in the org tree.")
    var employees: Int = 100_000

    @Option(help: "Topics in the topic tree.")
    var topics: Int = 2_000

    @Option(help: "Skill tags, spread over the employees with skewed topic popularity.")
    var skills: Int = 1_000_000

    @Option(help: "Random seed: the same seed gives the same company.")
    var seed: UInt64 = 42

    @Argument(help: "The directory to write (created if needed).")
    var directory: String

    func run() throws {
        let company: SyntheticDirectory
        do {
            company = try SyntheticDirectory(employees: employees, topics: topics, skills: skills, seed: seed)
        } catch {
            throw ValidationError(error.message)
        }
        try ImportFiles.write(company, to: directory)
        print("Wrote \(employees) employees, \(topics) topics and \(skills) skills to \(directory).")
    }
}
