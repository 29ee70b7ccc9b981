import ArgumentParser
import Foundation
import SkillRelayDomain

extension RoutingPolicy: ExpressibleByArgument {}

/// Settings of the question flow: a JSON config file, then flags, each over the defaults.
struct QuestionOptions: ParsableArguments {
    @Option(help: "A JSON file of question settings (see the README); flags override it.")
    var config: String?

    @Option(help: "Specialists per wave (default 5).")
    var waveSize: Int?

    @Option(help: "Seconds between waves (default 120).")
    var waveInterval: Int?

    @Option(help: "Waves at most (default 3).")
    var maxWaves: Int?

    @Option(help: "Seconds until a question expires (default 1800).")
    var deadline: Int?

    @Option(help: "Answers relayed when the asker does not say (default 3).")
    var maxAnswers: Int?

    @Option(help: "Questions a specialist receives per hour at most (default 4).")
    var hourlyBudget: Int?

    @Option(help: "Questions a specialist receives in any 24 hours at most (default 4).")
    var dailyBudget: Int?

    @Option(help: "Questions one caller may ask per minute (default 30).")
    var asksPerMinute: Int?

    @Option(help: "Days the compliance log keeps an entry (default 365).")
    var retentionDays: Int?

    @Option(
        help: ArgumentHelp(
            "With learned routing, the chance of an answer in time a wave aims for (default 0.99).",
            discussion: "Lower interrupts fewer people, at the cost of a later first answer."))
    var waveConfidence: Double?

    @Flag(help: "Let away specialists receive questions from the second wave on.")
    var allowAway = false

    @Option(help: "How candidates are ordered: learned (from outcomes, the default) or static (by tags alone).")
    var routing: RoutingPolicy?

    /// The config file, checked (see `ConfigFile`); an empty one without `--config`.
    func configFile() throws(ConfigFile.Invalid) -> ConfigFile {
        guard let config else { return ConfigFile() }
        return try ConfigFile.load(path: config)
    }

    /// The settings these options describe over the config file's, checked.
    func settings(over file: ConfigFile) throws -> QuestionSettings {
        var settings = file.settings
        if let waveSize { settings.waveSize = waveSize }
        if let waveInterval { settings.waveIntervalSeconds = waveInterval }
        if let maxWaves { settings.maxWaves = maxWaves }
        if let deadline { settings.deadlineSeconds = deadline }
        if let maxAnswers { settings.defaultMaxAnswers = maxAnswers }
        if let hourlyBudget { settings.hourlyBudget = hourlyBudget }
        if let dailyBudget { settings.dailyBudget = dailyBudget }
        if let asksPerMinute { settings.asksPerMinute = asksPerMinute }
        if let retentionDays { settings.retentionDays = retentionDays }
        if allowAway { settings.allowAwayInLaterWaves = true }
        if let routing { settings.routing = routing }
        if let waveConfidence { settings.waveConfidence = waveConfidence }
        do {
            return try settings.validated()
        } catch {
            throw ValidationError(error.message)
        }
    }
}
