import ArgumentParser

/// `skillrelay`: routes questions to the people who know.
@main
struct SkillRelayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "skillrelay",
        abstract: "SkillRelay routes questions to the people who know.",
        subcommands: [
            ServeCommand.self, ImportCommand.self, TokenCommand.self, LoginLinkCommand.self, LogCommand.self, GenerateCommand.self,
            SimulateCommand.self, DbCommand.self,
        ])
}
