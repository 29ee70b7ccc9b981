import ArgumentParser
import Foundation
import SkillRelayDatabaseCopy
import SkillRelayPostgres

/// Which database a command opens: a SQLite file, or a PostgreSQL database that several instances can share.
enum DatabaseChoice: Equatable, CustomStringConvertible {
    case sqlite(String)
    case postgres(PostgresLocation)

    /// The default when neither `--db`, `SKILLRELAY_DATABASE_URL` nor the config file's `database` names one.
    static let defaultPath = "skillrelay.sqlite"

    /// A database that cannot be used, said with where it was given (`--db`, the environment variable, the config file).
    struct Invalid: Error, CustomStringConvertible {
        var origin: String
        var reason: String

        var description: String { "\(origin): \(reason)" }
    }

    /// Reads a path, `sqlite:PATH`, or a `postgres://` / `postgresql://` URL; `origin` says where the text came from.
    init(parsing text: String, from origin: String) throws(Invalid) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw Invalid(origin: origin, reason: "no database given (a SQLite path, sqlite:PATH or postgres://…)") }
        let lowered = trimmed.lowercased()
        if PostgresLocation.isURL(trimmed) {
            do {
                self = .postgres(try PostgresLocation(url: trimmed))
            } catch {
                throw Invalid(origin: origin, reason: "\(error)")
            }
        } else if lowered.hasPrefix("postgres:") || lowered.hasPrefix("postgresql:") {
            throw Invalid(origin: origin, reason: "a PostgreSQL URL has the form postgres://user:password@host:port/dbname")
        } else if lowered.hasPrefix("sqlite:") {
            var path = String(trimmed.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path.removeFirst(2) }
            guard !path.isEmpty else {
                throw Invalid(origin: origin, reason: "sqlite: needs a file path after it, as in sqlite:/var/lib/skillrelay.sqlite")
            }
            self = .sqlite(path)
        } else if let scheme = trimmed.range(of: "^[A-Za-z][A-Za-z0-9+.-]*://", options: .regularExpression) {
            throw Invalid(
                origin: origin,
                reason: "\(trimmed[scheme].dropLast(3)) is not a database SkillRelay uses; give a SQLite path, sqlite:PATH or postgres://…")
        } else {
            self = .sqlite(trimmed)
        }
    }

    /// The same database as `db copy` names its ends.
    var copyEndpoint: DatabaseCopy.Endpoint {
        switch self {
        case .sqlite(let path): .sqlite(path: path)
        case .postgres(let location): .postgres(location)
        }
    }

    /// How to name it in messages: a path as given, a URL without its password.
    var description: String {
        switch self {
        case .sqlite(let path): path
        case .postgres(let location): location.description
        }
    }
}

/// Options every command that opens the database takes.
struct DatabaseOptions: ParsableArguments {
    static let environmentVariable = "SKILLRELAY_DATABASE_URL"

    @Option(
        name: .long,
        help: """
            The database: a SQLite file (PATH or sqlite:PATH) or postgres://user:password@host:port/dbname (default: \
            SKILLRELAY_DATABASE_URL, else the config file's database, else skillrelay.sqlite).
            """)
    var db: String?

    /// The flag, else the environment, else the config file, else `skillrelay.sqlite`.
    func choice(config: ConfigFile, environment: [String: String] = ProcessInfo.processInfo.environment) throws(DatabaseChoice.Invalid)
        -> DatabaseChoice
    {
        if let db { return try DatabaseChoice(parsing: db, from: "--db") }
        if let url = environment[Self.environmentVariable], !url.isEmpty { return try DatabaseChoice(parsing: url, from: Self.environmentVariable) }
        if let database = config.database { return try DatabaseChoice(parsing: database, from: "the config file's database") }
        return .sqlite(DatabaseChoice.defaultPath)
    }
}

/// `--config` for the commands other than `serve`: the same file, of which they read only `database`.
struct ConfigFileOption: ParsableArguments {
    @Option(help: "A JSON config file (as `serve --config` reads); this command reads only its `database`.")
    var config: String?

    /// The file, checked as `serve` checks it; an empty one without `--config`.
    func load() throws(ConfigFile.Invalid) -> ConfigFile {
        guard let config else { return ConfigFile() }
        return try ConfigFile.load(path: config)
    }
}
