import ArgumentParser
import SkillRelayDomain
import SkillRelayStore

/// `skillrelay import DIR`: upserts the CSV files in DIR, all or nothing.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import employees.csv, topics.csv and skills.csv from a directory, all or nothing.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var configFile: ConfigFileOption

    @Argument(help: "A directory holding any of employees.csv, topics.csv and skills.csv.")
    var directory: String

    func run() async throws {
        try await CLIErrors.reporting(with: try database.choice(config: try configFile.load())) { stores in
            let store = stores.directory
            let summary = try await store.importDirectory(try ImportFiles.read(directory: directory), by: .cliOperator)
            print("Imported \(summary.employees) employees, \(summary.topics) topics and \(summary.skills) skills into \(stores.name).")
        }
    }
}
