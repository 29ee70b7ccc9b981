import ArgumentParser
import Foundation
import SkillRelayDomain
import SkillRelayStore

/// `skillrelay token create | list | revoke`.
struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Create, list and revoke API tokens.",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token; its secret is printed once.")

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var configFile: ConfigFileOption

        @Option(help: "The handle of the employee the token speaks for.")
        var employee: String?

        @Option(help: "The name of a bot: a token with no employee behind it.")
        var bot: String?

        func validate() throws {
            guard (employee == nil) != (bot == nil) else { throw ValidationError("Give exactly one of --employee and --bot.") }
        }

        func run() async throws {
            try await CLIErrors.reporting(with: try database.choice(config: try configFile.load())) { stores in
                let store = stores.directory
                let owner: APIToken.Owner = if let employee { .employee(employee) } else { .bot(bot!) }
                let issued = try await store.createToken(for: owner, by: .cliOperator)
                print(issued.secret)
                FileHandle.standardError.write(Data("Token \(issued.token.id) created; the secret above is shown only this once.\n".utf8))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens, newest first.")

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var configFile: ConfigFileOption

        func run() async throws {
            try await CLIErrors.reporting(with: try database.choice(config: try configFile.load())) { stores in
                let store = stores.directory
                // Every token, read a page at a time.
                var page = PageRequest(limit: PageRequest.maximumLimit)
                repeat {
                    let tokens = try await store.tokens(by: .cliOperator, page: page)
                    for token in tokens.items { print(Self.line(token)) }
                    page.after = tokens.next
                } while page.after != nil
            }
        }

        static func line(_ token: APIToken) -> String {
            let owner =
                switch token.owner {
                case .employee(let handle): "employee \(handle)"
                case .bot(let name): "bot \(name)"
                }
            let format = ISO8601DateFormatter()
            let state = token.revokedAt.map { "revoked \(format.string(from: $0))" } ?? "active"
            let used = token.lastUsedAt.map { "last used \(format.string(from: $0))" } ?? "never used"
            return "\(token.id)\t\(owner)\tcreated \(format.string(from: token.createdAt))\t\(state)\t\(used)"
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by its id (tok_…).")

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var configFile: ConfigFileOption

        @Argument(help: "The token's id, as `token list` shows it.")
        var id: String

        func run() async throws {
            try await CLIErrors.reporting(with: try database.choice(config: try configFile.load())) { stores in
                let store = stores.directory
                let token = try await store.revokeToken(id, by: .cliOperator)
                print("Revoked \(token.id).")
            }
        }
    }
}
