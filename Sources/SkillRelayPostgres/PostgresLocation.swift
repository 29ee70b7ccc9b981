import Foundation
import NIOSSL
import PostgresNIO

/// Where a PostgreSQL database is, from a `postgres://user:password@host:port/dbname?sslmode=…` URL (the form libpq and
/// every PostgreSQL tool read). `sslmode` is `disable`, `prefer` (the default, as libpq) or `require`.
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
        guard let host = components.host, !host.isEmpty else { throw PostgresSetupError.invalidURL(text, "no host") }
        guard let user = components.percentEncodedUser?.removingPercentEncoding, !user.isEmpty else {
            throw PostgresSetupError.invalidURL(text, "no user name")
        }
        let name = String(components.path.drop(while: { $0 == "/" }))
        guard !name.isEmpty, !name.contains("/") else { throw PostgresSetupError.invalidURL(text, "no database name after the host") }
        if let port = components.port, !(1...65535).contains(port) { throw PostgresSetupError.invalidURL(text, "port \(port) is out of range") }
        var tls = TLSMode.prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value, let mode = TLSMode(rawValue: value) else {
                    throw PostgresSetupError.invalidURL(text, "sslmode must be disable, prefer or require")
                }
                tls = mode
            default:
                throw PostgresSetupError.invalidURL(text, "unknown parameter \(item.name) (only sslmode is read)")
            }
        }
        self.host = host
        self.port = components.port ?? 5432
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
        components.host = host
        components.port = port
        components.path = "/" + database
        components.queryItems = [URLQueryItem(name: "sslmode", value: tls.rawValue)]
        return components.string ?? description
    }

    /// The URL without its password, for logs and error messages.
    public var description: String {
        "postgres://\(username)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)"
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
