import Foundation

/// Who can be interrupted now, from everything SkillRelay knows of a person: the IM server's presence where it really
/// reports presence, and otherwise their working hours and the activity the bot saw. Pure rules, no I/O.
///
/// The seam for richer evidence (say, learned responsiveness by hour of the week): `effective` takes the whole
/// `Candidate`, so what a candidate carries can grow without changing its callers.
public enum Availability {
    /// How recently someone must have been seen in the IM to count as at their desk.
    public static let recentActivity: TimeInterval = 30 * 60

    /// One person's effective presence.
    ///
    /// - Outside their working hours: `offline`, whatever the IM server says.
    /// - Where the server reports presence: what it says (`unknown` when it said nothing).
    /// - Where it does not, or that is not known yet: `unknown` stays `unknown` (the IM adapter could not reach them,
    ///   so a question could not either) and `busy` stays `busy` (someone asked not to be disturbed); anyone else within
    ///   their working hours (everyone, for people without any) is `available`.
    public static func effective(presence: Presence?, reporting: PresenceReporting, candidate: Candidate, now: Date) -> Presence {
        guard candidate.isWithinWorkingHours(at: now) else { return .offline }
        let said = presence ?? .unknown
        if reporting == .reported { return said }
        switch said {
        case .unknown, .busy: return said
        case .available, .away, .offline: return .available
        }
    }

    /// Every candidate's effective presence, by handle; people whose presence was not asked for are left out.
    public static func effective(presence: [String: Presence], reporting: PresenceReporting, candidates: [Candidate], now: Date)
        -> [String: Presence]
    {
        var result: [String: Presence] = [:]
        for candidate in candidates {
            guard let said = presence[candidate.handle] else { continue }
            result[candidate.handle] = effective(presence: said, reporting: reporting, candidate: candidate, now: now)
        }
        return result
    }

    /// Whether the bot saw them in the IM within `recentActivity` of `now`.
    public static func isRecentlyActive(_ candidate: Candidate, now: Date) -> Bool {
        guard let seen = candidate.lastActiveAt else { return false }
        return now.timeIntervalSince(seen) <= recentActivity
    }

    /// The ranked candidates with those recently active in the IM first, each group in rank order: where presence is not
    /// reported, someone who just wrote or read a message is likelier at their desk than someone merely within hours.
    public static func recentlyActiveFirst(_ ranked: [Candidate], now: Date) -> [Candidate] {
        let active = ranked.filter { isRecentlyActive($0, now: now) }
        guard !active.isEmpty, active.count < ranked.count else { return ranked }
        return active + ranked.filter { !isRecentlyActive($0, now: now) }
    }
}
