import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import SkillRelayDomain
import SkillRelayLocalIM
import SkillRelayServer
import SkillRelayStore

/// `skillrelay serve`: migrates the database, loads the sample data on a first start, and serves until SIGINT/SIGTERM.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the SkillRelay server.")

    @OptionGroup var database: DatabaseOptions

    @Option(help: "The address to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "The port to listen on.")
    var port: Int = 8080

    @Option(help: "The directory of CSV files loaded when the database is empty.")
    var data: String = "Data"

    @Option(help: "The secret that signs callbacks to bots (default: SKILLRELAY_CALLBACK_SECRET, else one made and kept in the database).")
    var callbackSecret: String?

    @OptionGroup var questionOptions: QuestionOptions

    @Option(help: "The IM server: local (embedded) or matrix.")
    var im: String = "local"

    @Option(help: "The Matrix homeserver URL (with --im matrix); the bot's token comes from the config or SKILLRELAY_MATRIX_TOKEN.")
    var matrixHomeserver: String?

    @Option(help: "Where people reach SkillRelay, for sign-in links and cookies (default: http://HOST:PORT); https makes cookies Secure.")
    var publicURL: String?

    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Flag(help: "Check the config file and the flags, say whether they are valid and exit, without opening the database or starting anything.")
    var checkConfig = false

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical.")
        }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 to 65535.") }
        guard ["local", "matrix"].contains(im) else { throw ValidationError("--im must be local or matrix.") }
        try PublicURL.check(resolvedPublicURL, option: "--public-url")
        let file = try questionOptions.configFile()
        _ = try questionOptions.settings(over: file)
        _ = try database.choice(config: file)
        if im == "matrix" {
            _ = try MatrixSettings.resolve(homeserver: matrixHomeserver, file: file.matrix, environment: ProcessInfo.processInfo.environment)
        }
    }

    func run() async throws {
        if checkConfig {
            // validate() has checked everything by now.
            print("skillrelay: the configuration is valid (\(questionOptions.config.map { "config file \($0)" } ?? "no config file"), --im \(im)).")
            return
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = Logger.Level(rawValue: logLevel) ?? .info
            return handler
        }
        let logger = Logger(label: "skillrelay")
        let stores = try await CLIErrors.reporting {
            try await Stores.open(try database.choice(config: try questionOptions.configFile()), logger: logger)
        }
        do {
            try await serve(stores, logger: logger)
        } catch {
            await stores.close()
            throw error
        }
        await stores.close()
        logger.info("stopped")
    }

    private func serve(_ stores: Stores, logger: Logger) async throws {
        let store = stores.directory
        // Several instances starting together on an empty database load the sample directory once.
        try await stores.firstStart {
            if try await stores.isEmpty() { try await loadSampleData(into: store, name: stores.name, logger: logger) }
        }
        let environmentSecret = ProcessInfo.processInfo.environment["SKILLRELAY_CALLBACK_SECRET"]
        let secret: String
        if let given = callbackSecret ?? environmentSecret {
            secret = given
        } else {
            secret = try await stores.setting("callbackSecret") { IdentifierGenerator.make(prefix: "whsec") }
        }
        let file = try questionOptions.configFile()
        let settings = try questionOptions.settings(over: file)
        let signIn = SignInService(store: stores.web)
        let loginLinks = LoginLinks(service: signIn, baseURL: resolvedPublicURL)
        let wiring: Wiring
        if im == "matrix" {
            let matrix = try MatrixSettings.resolve(homeserver: matrixHomeserver, file: file.matrix, environment: ProcessInfo.processInfo.environment)
            logger.info("IM: matrix", metadata: ["skillrelay.matrix.homeserver": "\(matrix.homeserver)"])
            wiring = try Wiring.matrix(
                stores: stores, settings: settings, callbackSecret: secret, matrix: matrix, loginLinks: loginLinks, logger: logger)
        } else {
            wiring = try Wiring.local(stores: stores, settings: settings, callbackSecret: secret, logger: logger)
        }
        do {
            try await wiring.check()
        } catch {
            try? await wiring.shutdown()
            throw error
        }
        let web = Wiring.web(
            stores: stores, signIn: signIn, publicURL: resolvedPublicURL, localIM: im == "local", settings: settings, logger: logger)
        let app = buildApplication(
            store: store, questions: wiring.questions, pump: wiring.pump, web: web, services: wiring.services,
            configuration: ServerConfiguration(host: host, port: port), logger: logger)
        try await printHowToSignIn(firstActiveAdmin: stores.firstActiveAdmin, links: loginLinks, database: stores.name)
        let services = ServiceGroup(
            configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await services.run()
        } catch {
            try? await wiring.shutdown()
            throw error
        }
        try await wiring.shutdown()
    }

    /// The web page's address unless `--public-url` says otherwise.
    var resolvedPublicURL: String {
        publicURL ?? "http://\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }

    /// How to sign in to the web page. On a loopback address with the embedded IM (trying SkillRelay out on one's own
    /// machine) that includes a link for the first admin; anywhere else links are only made on request.
    private func printHowToSignIn(firstActiveAdmin: @Sendable () async throws -> String?, links: LoginLinks, database: String) async throws {
        var lines = ["SkillRelay's web page: \(resolvedPublicURL)/"]
        let loopback = ["127.0.0.1", "localhost", "::1"].contains(host)
        if loopback, im == "local", let admin = try await firstActiveAdmin() {
            let link = try await links.link(for: admin, by: .cliOperator)
            lines.append("Sign in as \(admin) (an admin), once, within 15 minutes: \(link.url)")
        }
        lines.append("A sign-in link for anyone: skillrelay login-link HANDLE --db \(database) --base-url \(resolvedPublicURL)")
        // Written straight away, not buffered: whoever started the server is waiting for the link.
        FileHandle.standardOutput.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }

    private func loadSampleData(into store: any DirectoryStore, name: String, logger: Logger) async throws {
        guard FileManager.default.fileExists(atPath: data) else {
            logger.warning("empty database and no sample data", metadata: ["skillrelay.data": "\(data)"])
            return
        }
        let summary = try await CLIErrors.reporting {
            try await store.importDirectory(try ImportFiles.read(directory: data), by: .cliOperator)
        }
        logger.info(
            "first start: loaded the sample directory",
            metadata: [
                "skillrelay.data": "\(data)", "skillrelay.employees": "\(summary.employees)", "skillrelay.topics": "\(summary.topics)",
                "skillrelay.skills": "\(summary.skills)",
            ])
        logger.info("make a token to call the API: skillrelay token create --db \(name) --employee HANDLE")
    }
}
