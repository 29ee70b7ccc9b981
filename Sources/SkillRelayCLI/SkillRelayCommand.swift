import ArgumentParser

/// `skillrelay`: routes questions to the people who know.
@main
struct SkillRelayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "skillrelay",
        abstract: "SkillRelay routes questions to the people who know.",
        subcommands: [
            ServeCommand.self, ImportCommand.self, TokenCommand.self, LoginLinkCommand.self, LogCommand.self, GenerateCommand.self,
            SimulateCommand.self,
        ])
}

/// Options every command that opens the database takes.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "The SQLite database file.")
    var db: String = "skillrelay.sqlite"
}
