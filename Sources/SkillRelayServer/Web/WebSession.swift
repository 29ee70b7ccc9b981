import SkillRelayDomain

/// What a web session keeps: whose it is, the token its forms must carry, and a one-time notice for the next page.
public struct WebSession: Codable, Sendable, Equatable {
    public var handle: String
    /// The per-session anti-forgery token every POST must echo.
    public var csrf: String
    /// Shown once on the next page, then cleared.
    public var notice: String?

    public init(handle: String, csrf: String, notice: String? = nil) {
        self.handle = handle
        self.csrf = csrf
        self.notice = notice
    }
}

/// Whoever the session belongs to, as the directory knows them on this request.
public struct WebUser: Sendable, Equatable {
    public var person: SignedInPerson
    public var csrf: String

    public var caller: Caller { person.caller }
}
