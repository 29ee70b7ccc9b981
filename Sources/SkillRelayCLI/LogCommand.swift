import ArgumentParser
import Foundation
import SkillRelayDomain
import SkillRelayStore

/// `skillrelay log export | purge`: the compliance log.
struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log", abstract: "Export or purge the compliance log.", subcommands: [Export.self, Purge.self])

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write compliance entries as JSON lines to standard output.")

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var configFile: ConfigFileOption

        @Option(help: "The first day or time to export, ISO-8601 (2026-11-01 or 2026-11-01T09:00:00Z).")
        var since: String

        @Option(help: "Export entries before this day or time.")
        var until: String?

        func run() async throws {
            guard let start = DateArgument.parse(since) else { throw ValidationError("--since must be a date such as 2026-11-01.") }
            let end = try until.map { text in
                guard let date = DateArgument.parse(text) else { throw ValidationError("--until must be a date such as 2026-12-01.") }
                return date
            }
            try await CLIErrors.reporting(with: try database.choice(config: try configFile.load())) { stores in
                let store = stores.questionStore(RoutingLearning())
                let encoder = JSONEncoder()
                encoder.outputFormatting = .sortedKeys
                encoder.dateEncodingStrategy = .iso8601
                let output = FileHandle.standardOutput
                for entry in try await store.complianceEntries(since: start, until: end) {
                    output.write(try encoder.encode(entry) + Data("\n".utf8))
                }
            }
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete compliance entries older than the retention period.")

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var configFile: ConfigFileOption

        @Option(help: "Days to keep.")
        var retentionDays: Int = QuestionSettings().retentionDays

        func run() async throws {
            guard retentionDays >= 1 else { throw ValidationError("--retention-days must be at least 1.") }
            try await CLIErrors.reporting(with: try database.choice(config: try configFile.load())) { stores in
                let store = stores.questionStore(RoutingLearning())
                let purged = try await store.purgeCompliance(before: Date().addingTimeInterval(-Double(retentionDays) * 86_400))
                print("Purged \(purged) entries older than \(retentionDays) days.")
            }
        }
    }
}

/// Dates on the command line: a day (taken as midnight UTC) or a full ISO-8601 time.
enum DateArgument {
    static func parse(_ text: String) -> Date? {
        let full = ISO8601DateFormatter()
        if let date = full.date(from: text) { return date }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        return day.date(from: text)
    }
}
