import ArgumentParser
import Foundation
import SkillRelayDomain

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
        let url = URL(fileURLWithPath: directory)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try Self.write(url.appendingPathComponent("employees.csv"), company.employeesCSV)
        try Self.write(url.appendingPathComponent("topics.csv"), company.topicsCSV)
        try Self.write(url.appendingPathComponent("skills.csv"), company.skillsCSV)
        print("Wrote \(employees) employees, \(topics) topics and \(skills) skills to \(directory).")
    }

    /// Streams a file in 1 MiB chunks rather than building it whole in memory.
    static func write(_ url: URL, _ produce: ((String) -> Void) -> Void) throws {
        FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        var buffer = ""
        buffer.reserveCapacity(1 << 20)
        produce { line in
            buffer += line
            if buffer.utf8.count >= 1 << 20 {
                handle.write(Data(buffer.utf8))
                buffer.removeAll(keepingCapacity: true)
            }
        }
        handle.write(Data(buffer.utf8))
    }
}
