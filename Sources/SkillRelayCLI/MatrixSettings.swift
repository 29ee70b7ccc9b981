import ArgumentParser
import Foundation

/// How to reach a Matrix homeserver: from flags, else the config file's `matrix` section, else the environment.
struct MatrixSettings: Codable, Equatable {
    var homeserver: String
    var accessToken: String
    // The default presence pool: a cold pool takes one round trip, not several.
    var presenceConcurrency: Int = 50
    var presenceTimeoutMilliseconds: Int = 1000
    var presenceCacheSeconds: Int = 15
    // People whose messages are sent at once: 1 suits a Synapse without workers (see OutboxDispatcher); and when a
    // drain finds a backlog (more than a few waves' worth of people).
    var sendConcurrency: Int = 1
    var sendBacklogConcurrency: Int = 32

    enum CodingKeys: String, CodingKey {
        case homeserver, accessToken, presenceConcurrency, presenceTimeoutMilliseconds, presenceCacheSeconds, sendConcurrency
        case sendBacklogConcurrency
    }

    init(homeserver: String, accessToken: String) {
        self.homeserver = homeserver
        self.accessToken = accessToken
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        homeserver = try container.decodeIfPresent(String.self, forKey: .homeserver) ?? ""
        accessToken = try container.decodeIfPresent(String.self, forKey: .accessToken) ?? ""
        presenceConcurrency = try container.decodeIfPresent(Int.self, forKey: .presenceConcurrency) ?? 50
        presenceTimeoutMilliseconds = try container.decodeIfPresent(Int.self, forKey: .presenceTimeoutMilliseconds) ?? 1000
        presenceCacheSeconds = try container.decodeIfPresent(Int.self, forKey: .presenceCacheSeconds) ?? 15
        sendConcurrency = try container.decodeIfPresent(Int.self, forKey: .sendConcurrency) ?? 1
        sendBacklogConcurrency = try container.decodeIfPresent(Int.self, forKey: .sendBacklogConcurrency) ?? 32
    }

    /// The `matrix` section of a config file, if it has one.
    static func fromConfig(_ path: String?) throws -> MatrixSettings? {
        struct File: Decodable { var matrix: MatrixSettings? }
        guard let path, let data = FileManager.default.contents(atPath: path) else { return nil }
        return try JSONDecoder().decode(File.self, from: data).matrix
    }

    /// Resolves the settings and checks them.
    static func resolve(homeserver: String?, configPath: String?, environment: [String: String]) throws -> MatrixSettings {
        var settings = try fromConfig(configPath) ?? MatrixSettings(homeserver: "", accessToken: "")
        if let homeserver { settings.homeserver = homeserver }
        if settings.homeserver.isEmpty { settings.homeserver = environment["SKILLRELAY_MATRIX_HOMESERVER"] ?? "" }
        if settings.accessToken.isEmpty { settings.accessToken = environment["SKILLRELAY_MATRIX_TOKEN"] ?? "" }
        guard settings.homeserver.hasPrefix("http://") || settings.homeserver.hasPrefix("https://") else {
            throw ValidationError(
                "--im matrix needs the homeserver URL: --matrix-homeserver, the config's matrix.homeserver or SKILLRELAY_MATRIX_HOMESERVER.")
        }
        guard !settings.accessToken.isEmpty else {
            throw ValidationError("--im matrix needs the bot's access token: the config's matrix.accessToken or SKILLRELAY_MATRIX_TOKEN.")
        }
        guard settings.presenceConcurrency >= 1, settings.presenceTimeoutMilliseconds >= 1, settings.presenceCacheSeconds >= 0,
            settings.sendConcurrency >= 1, settings.sendBacklogConcurrency >= 1
        else {
            throw ValidationError(
                "matrix.presenceConcurrency, presenceTimeoutMilliseconds, sendConcurrency and sendBacklogConcurrency must be at least 1.")
        }
        return settings
    }
}
