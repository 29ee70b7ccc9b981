import Foundation
import NIOSSL
import PostgresNIO

/// Where a PostgreSQL database is, from a `postgres://user:password@host:port/dbname?sslmode=…` URL (the form libpq and
/// every PostgreSQL tool read). `sslmode` is `disable`, `prefer` (the default, as libpq) or `require`.
///
/// As with libpq, a host that begins with a slash is the directory of a Unix-domain socket (`.s.PGSQL.<port>` in it),
/// written percent-encoded in the host's place (`postgres://relay@%2Fvar%2Frun%2Fpostgresql/skills`) or as the `host`
/// parameter (`postgres://relay@/skills?host=/var/run/postgresql`); a `port` parameter names the port too. Over a
/// socket there is no TLS, whatever `sslmode` says (libpq ignores it there too): PostgreSQL on the same machine, and
/// with Debian's `peer` authentication no password either.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    public enum TLSMode: String, Sendable { case disable, prefer, require }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode

    /// Whether `text` names a PostgreSQL database rather than a SQLite file.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Parses a `postgres://` or `postgresql://` URL; a clear error for anything else.
    public init(url text: String) throws {
        guard Self.isURL(text), let components = URLComponents(string: text) else {
            throw PostgresSetupError.invalidURL(text, "expected postgres://user:password@host:port/dbname")
        }
        guard let user = components.percentEncodedUser?.removingPercentEncoding, !user.isEmpty else {
            throw PostgresSetupError.invalidURL(text, "no user name")
        }
        let name = String(components.path.drop(while: { $0 == "/" }))
        guard !name.isEmpty, !name.contains("/") else { throw PostgresSetupError.invalidURL(text, "no database name after the host") }
        var host = components.host ?? ""
        var port = components.port
        var tls = TLSMode.prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value, let mode = TLSMode(rawValue: value) else {
                    throw PostgresSetupError.invalidURL(text, "sslmode must be disable, prefer or require")
                }
                tls = mode
            case "host":
                host = item.value ?? ""
            case "port":
                guard let value = item.value, let number = Int(value) else { throw PostgresSetupError.invalidURL(text, "port must be a number") }
                port = number
            default:
                throw PostgresSetupError.invalidURL(text, "unknown parameter \(item.name) (only sslmode, host and port are read)")
            }
        }
        guard !host.isEmpty else {
            throw PostgresSetupError.invalidURL(text, "no host (for a Unix-domain socket, its directory: ?host=/var/run/postgresql)")
        }
        if let port, !(1...65535).contains(port) { throw PostgresSetupError.invalidURL(text, "port \(port) is out of range") }
        self.host = host
        self.port = port ?? 5432
        self.username = user
        self.password = components.percentEncodedPassword?.removingPercentEncoding
        self.database = name.removingPercentEncoding ?? name
        self.tls = tls
    }

    /// The URL, password included: what `open(url:)` reads.
    public var url: String {
        var components = URLComponents()
        components.scheme = "postgres"
        components.user = username
        components.password = password
        components.path = "/" + database
        components.queryItems = [URLQueryItem(name: "sslmode", value: tls.rawValue)]
        if socketDirectory != nil {
            components.queryItems? += [URLQueryItem(name: "host", value: host), URLQueryItem(name: "port", value: String(port))]
        } else {
            components.host = host
            components.port = port
        }
        return components.string ?? description
    }

    /// The URL without its password, for logs and error messages.
    public var description: String {
        let user = "\(username)\(password == nil ? "" : ":***")"
        if socketDirectory != nil { return "postgres://\(user)@/\(database)?host=\(host)&port=\(port)" }
        return "postgres://\(user)@\(host):\(port)/\(database)"
    }

    /// The directory of the Unix-domain socket to connect through, when the host is one (it begins with a slash).
    public var socketDirectory: String? { host.hasPrefix("/") ? host : nil }

    /// The pool's configuration: TCP (with TLS as `sslmode` says) or the Unix-domain socket.
    var clientConfiguration: PostgresClient.Configuration {
        if let socketDirectory {
            return PostgresClient.Configuration(
                unixSocketPath: Self.socketPath(in: socketDirectory, port: port), username: username, password: password, database: database)
        }
        return PostgresClient.Configuration(host: host, port: port, username: username, password: password, database: database, tls: clientTLS)
    }

    /// One connection's configuration, as `clientConfiguration`.
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        if let socketDirectory {
            return PostgresConnection.Configuration(
                unixSocketPath: Self.socketPath(in: socketDirectory, port: port), username: username, password: password, database: database)
        }
        return PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: try connectionTLS())
    }

    /// The socket PostgreSQL listens on for `port` in `directory`, named as every PostgreSQL client names it.
    static func socketPath(in directory: String, port: Int) -> String {
        (directory.hasSuffix("/") ? directory : directory + "/") + ".s.PGSQL.\(port)"
    }

    /// The same server and credentials, another database (the tests make one per test).
    public func with(database: String) -> PostgresLocation {
        var copy = self
        copy.database = database
        return copy
    }

    var clientTLS: PostgresClient.Configuration.TLS {
        switch tls {
        case .disable: .disable
        case .prefer: .prefer(.makeClientConfiguration())
        case .require: .require(.makeClientConfiguration())
        }
    }

    func connectionTLS() throws -> PostgresConnection.Configuration.TLS {
        switch tls {
        case .disable: .disable
        case .prefer: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
    }
}

/// Why SkillRelay could not start on a PostgreSQL database: said in words an operator can act on.
public enum PostgresSetupError: Error, CustomStringConvertible, Equatable {
    case invalidURL(String, String)
    case unreachable(String, String)
    case refused(String, String)

    public var description: String {
        switch self {
        case .invalidURL(let url, let why): "invalid PostgreSQL URL \(Self.redacted(url)): \(why)"
        case .unreachable(let location, let why): "cannot reach PostgreSQL at \(location): \(why)"
        case .refused(let location, let why): "PostgreSQL at \(location) refused SkillRelay: \(why)"
        }
    }

    /// The URL with any password replaced, so that an error message never prints it.
    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? url
    }
}
