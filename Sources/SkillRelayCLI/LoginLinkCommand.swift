import ArgumentParser
import Foundation
import SkillRelayDomain
import SkillRelayStore

/// `skillrelay login-link HANDLE`: a one-time link that signs someone in to the web page.
struct LoginLinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login-link", abstract: "Print a one-time link that signs an employee in to the web page (valid 15 minutes).")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var configFile: ConfigFileOption

    @Argument(help: "The employee's handle.")
    var handle: String

    @Option(help: "Where people reach SkillRelay, as `serve --public-url` says.")
    var baseURL: String = "http://127.0.0.1:8080"

    func validate() throws {
        try PublicURL.check(baseURL, option: "--base-url")
    }

    func run() async throws {
        try await CLIErrors.reporting(with: try database.choice(config: try configFile.load())) { stores in
            let links = LoginLinks(service: SignInService(store: stores.web), baseURL: baseURL)
            let link = try await links.link(for: handle, by: .cliOperator)
            print(link.url)
            FileHandle.standardError.write(
                Data("The link signs in \(handle) once, until \(ISO8601DateFormatter().string(from: link.expiresAt)).\n".utf8))
        }
    }
}

/// The public address of the web page.
enum PublicURL {
    /// Refuses anything but an absolute http(s) URL without a query or fragment.
    static func check(_ text: String, option: String) throws {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host != nil,
            url.query == nil, url.fragment == nil
        else { throw ValidationError("\(option) must be an http or https URL such as https://skillrelay.example.org.") }
    }

    /// Whether the page is reached over TLS, so cookies must say `Secure`.
    static func isSecure(_ text: String) -> Bool {
        URL(string: text)?.scheme?.lowercased() == "https"
    }
}
