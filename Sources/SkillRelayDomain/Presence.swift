/// Whether a person can be interrupted right now, as their IM server sees it.
public enum Presence: String, Sendable, Equatable, Codable, CaseIterable {
    /// Online and active: may receive a question in any wave.
    case available
    /// Idle or away: only in later waves, and only if the policy allows.
    case away
    /// Do not disturb: never.
    case busy
    /// Not signed in: never.
    case offline
    /// The IM server did not say (error, timeout, no IM id): never.
    case unknown
}

/// Someone whose presence is wanted: the directory handle and, where the IM server needs it, the IM id.
public struct PresenceQuery: Sendable, Equatable, Hashable {
    public var handle: String
    public var imID: String?

    public init(handle: String, imID: String?) {
        self.handle = handle
        self.imID = imID
    }
}

/// Reads presence from an IM server. One call for a whole batch, so an adapter can use a batch endpoint or fan out.
public protocol PresenceSource: Sendable {
    /// Each person's presence by handle; anyone the server cannot vouch for is `unknown`. Never throws: a failing
    /// server means nobody is known to be available.
    func presence(of people: [PresenceQuery]) async -> [String: Presence]
    /// Whether the IM server really reports presence: some servers switch it off (Synapse's `presence.enabled: false`)
    /// and then call everyone offline. Never throws: a server that cannot be asked is `unknown`.
    func probePresenceReporting() async -> PresenceReporting
}

/// Whether an IM server's presence means anything.
public enum PresenceReporting: String, Sendable, Equatable, Codable, CaseIterable {
    /// It reports presence: what it says decides who is available.
    case reported
    /// It does not (switched off): availability comes from working hours and recent activity instead.
    case notReported
    /// Not found out yet, or the server could not be asked: treated as `notReported`, and asked again soon.
    case unknown
}
