import Foundation

/// An API token as listed: never its secret, which is shown once at creation and stored only as a hash.
public struct APIToken: Sendable, Equatable {
    /// Who a token speaks for.
    public enum Owner: Sendable, Equatable {
        case employee(String)
        case bot(String)
    }

    /// The token's public id (`tok_…`), used to revoke it.
    public var id: String
    public var owner: Owner
    public var createdAt: Date
    public var revokedAt: Date?
    public var lastUsedAt: Date?

    public init(id: String, owner: Owner, createdAt: Date, revokedAt: Date? = nil, lastUsedAt: Date? = nil) {
        self.id = id
        self.owner = owner
        self.createdAt = createdAt
        self.revokedAt = revokedAt
        self.lastUsedAt = lastUsedAt
    }
}

/// A token just created, with the secret its owner must keep.
public struct IssuedToken: Sendable, Equatable {
    public var token: APIToken
    /// The bearer secret: shown this once, never stored.
    public var secret: String

    public init(token: APIToken, secret: String) {
        self.token = token
        self.secret = secret
    }
}
