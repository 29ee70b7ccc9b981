import Foundation

/// A one-time sign-in link's secret and when it stops working.
public struct LoginLink: Sendable, Equatable {
    /// The secret that goes into the link; only its hash is stored.
    public var secret: String
    public var expiresAt: Date

    public init(secret: String, expiresAt: Date) {
        self.secret = secret
        self.expiresAt = expiresAt
    }
}

/// Someone signed in to the web page, as the directory knows them right now.
public struct SignedInPerson: Sendable, Equatable {
    public var caller: Caller
    public var name: String

    public init(caller: Caller, name: String) {
        self.caller = caller
        self.name = name
    }
}

/// What a person has set about themselves in the embedded `local` IM.
public struct PersonalStatus: Sendable, Equatable {
    /// `offline` for someone who never set a presence.
    public var presence: Presence
    /// No questions until then, if set and still ahead.
    public var pausedUntil: Date?

    public init(presence: Presence, pausedUntil: Date?) {
        self.presence = presence
        self.pausedUntil = pausedUntil
    }
}

/// Login links and the facts the web page needs about whoever signed in. Each method is one transaction.
public protocol SignInStore: Sendable {
    /// Stores a new link for an active employee; `employeeNotFound` for anyone else.
    func createLoginLink(_ link: LoginLink, for handle: String, now: Date) async throws
    /// The active employee an unused, unexpired link belongs to; changes nothing.
    func loginLinkOwner(secret: String, now: Date) async throws -> SignedInPerson?
    /// Marks an unused, unexpired link used and returns whom it signs in; of two racing redeemers only one gets a person.
    func redeemLoginLink(secret: String, now: Date) async throws -> SignedInPerson?
    /// The person behind a handle with their current roles, or `nil` when unknown or inactive.
    func signedInPerson(handle: String) async throws -> SignedInPerson?
    /// The person's presence in the `local` IM and their pause.
    func personalStatus(of handle: String, now: Date) async throws -> PersonalStatus
    /// Deletes links that expired before `before`; returns how many.
    func purgeLoginLinks(before: Date) async throws -> Int
}

/// Passwordless sign-in: a person gets a one-time link from someone who already knows them (the operator's CLI, or
/// the IM server that proved their account), and the link starts a web session.
public struct SignInService: Sendable {
    let store: any SignInStore
    let clock: any WallClock
    /// How long a link works.
    public let linkLifetime: TimeInterval

    public init(store: any SignInStore, clock: any WallClock = SystemWallClock(), linkLifetime: TimeInterval = 15 * 60) {
        self.store = store
        self.clock = clock
        self.linkLifetime = linkLifetime
    }

    /// Issues a link for `handle`: the operator or an admin for anyone, an employee only for themselves.
    public func issueLink(for handle: String, by caller: Caller) async throws -> LoginLink {
        guard caller.isAdmin || caller.handle == handle else {
            throw DirectoryError.forbidden("A sign-in link is only for yourself; an admin may make one for anyone.")
        }
        let now = clock.now()
        let link = LoginLink(secret: SecretText.make(prefix: "sl_"), expiresAt: now.addingTimeInterval(linkLifetime))
        try await store.createLoginLink(link, for: handle, now: now)
        return link
    }

    /// Whom a link would sign in, without using it up (for the page that asks to confirm).
    public func preview(secret: String) async throws -> SignedInPerson? {
        guard SecretText.isPlausible(secret) else { return nil }
        return try await store.loginLinkOwner(secret: secret, now: clock.now())
    }

    /// Uses a link up: whom it signs in, or `nil` when it is unknown, used or expired.
    public func redeem(secret: String) async throws -> SignedInPerson? {
        guard SecretText.isPlausible(secret) else { return nil }
        return try await store.redeemLoginLink(secret: secret, now: clock.now())
    }

    /// The person a session names, with the roles the directory gives them now (never a copy from sign-in time).
    public func person(handle: String) async throws -> SignedInPerson? {
        try await store.signedInPerson(handle: handle)
    }

    /// The caller's presence and pause.
    public func status(of caller: Caller) async throws -> PersonalStatus {
        guard let handle = caller.handle else { throw DirectoryError.forbidden("Only employees have a presence.") }
        return try await store.personalStatus(of: handle, now: clock.now())
    }

    /// Forgets links that can no longer be used.
    public func purgeExpiredLinks() async throws -> Int {
        try await store.purgeLoginLinks(before: clock.now())
    }
}

/// Random secrets for links and forms: a prefix and 256 bits in base64url.
public enum SecretText {
    /// A fresh secret from the system's CSPRNG.
    public static func make(prefix: String = "") -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return prefix
            + Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Whether text could be such a secret at all: short and of base64url characters, so junk never reaches the database.
    public static func isPlausible(_ text: String) -> Bool {
        (8...128).contains(text.utf8.count)
            && text.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
            }
    }
}

/// Sign-in links as people open them: the service's secret behind the page's public address.
public struct LoginLinks: Sendable {
    let service: SignInService
    /// Where people reach the web page, e.g. `https://skillrelay.example.org`.
    public let baseURL: String

    public init(service: SignInService, baseURL: String) {
        self.service = service
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
    }

    /// A fresh one-time link for `handle`, issued by `caller`, and when it stops working.
    public func link(for handle: String, by caller: Caller) async throws -> (url: String, expiresAt: Date) {
        let link = try await service.issueLink(for: handle, by: caller)
        return ("\(baseURL)/login?token=\(link.secret)", link.expiresAt)
    }
}
