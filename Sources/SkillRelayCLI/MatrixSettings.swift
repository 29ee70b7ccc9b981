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
    /// The secret the bot's end-to-end encryption keys are sealed with in the database (never logged).
    var pickleKey: String = ""
    /// Whether the rooms the bot opens itself are end-to-end encrypted; it reads and writes encrypted rooms either way.
    var encryptRooms: Bool = true

    enum CodingKeys: String, CodingKey {
        case homeserver, accessToken, presenceConcurrency, presenceTimeoutMilliseconds, presenceCacheSeconds, sendConcurrency
        case sendBacklogConcurrency, pickleKey, encryptRooms
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
        pickleKey = try container.decodeIfPresent(String.self, forKey: .pickleKey) ?? ""
        encryptRooms = try container.decodeIfPresent(Bool.self, forKey: .encryptRooms) ?? true
    }

    /// Resolves the settings (the config file's `matrix` section, checked by `ConfigFile`, under the flag and over the
    /// environment) and checks that they say where and as whom to connect.
    static func resolve(homeserver: String?, file: MatrixSettings?, environment: [String: String]) throws -> MatrixSettings {
        var settings = file ?? MatrixSettings(homeserver: "", accessToken: "")
        if let homeserver { settings.homeserver = homeserver }
        if settings.homeserver.isEmpty { settings.homeserver = environment["SKILLRELAY_MATRIX_HOMESERVER"] ?? "" }
        if settings.accessToken.isEmpty { settings.accessToken = environment["SKILLRELAY_MATRIX_TOKEN"] ?? "" }
        if settings.pickleKey.isEmpty { settings.pickleKey = environment["SKILLRELAY_MATRIX_PICKLE_KEY"] ?? "" }
        guard settings.homeserver.hasPrefix("http://") || settings.homeserver.hasPrefix("https://") else {
            throw ValidationError(
                "--im matrix needs the homeserver URL: --matrix-homeserver, the config's matrix.homeserver or SKILLRELAY_MATRIX_HOMESERVER.")
        }
        guard !settings.accessToken.isEmpty else {
            throw ValidationError("--im matrix needs the bot's access token: the config's matrix.accessToken or SKILLRELAY_MATRIX_TOKEN.")
        }
        guard settings.pickleKey.count >= 16 else {
            throw ValidationError(
                """
                --im matrix needs a secret of at least 16 characters to seal the bot's end-to-end encryption keys in the database: \
                SKILLRELAY_MATRIX_PICKLE_KEY or the config's matrix.pickleKey (for example the output of `openssl rand -hex 32`). \
                Keep it with the access token and never change it: the bot's keys cannot be opened without it.
                """)
        }
        return settings
    }
}
