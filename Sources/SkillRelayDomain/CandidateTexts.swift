import Foundation

/// What one candidate read at one moment makes of people's time zones and working hours, each text made into its value
/// once, and whether the moment is within a person's hours worked out once for everyone who shares their zone and
/// hours: most people share a handful of them. Both stores' candidate reads keep one.
public struct CandidateTexts {
    private let now: Date
    private var zones: [String: TimeZone?] = [:]
    private var hours: [String: WorkingHours?] = [:]
    private var atWork: [Shift: Bool] = [:]

    /// A time zone and working hours as the directory stores them.
    private struct Shift: Hashable {
        var zone: String?
        var hours: String?
    }

    /// For a read at `now`.
    public init(at now: Date) {
        self.now = now
    }

    /// The time zone named `name` (nil for none, or for a name the system does not know).
    public mutating func timeZone(_ name: String?) -> TimeZone? {
        guard let name else { return nil }
        if let known = zones[name] { return known }
        let zone = TimeZone(identifier: name)
        zones[name] = zone
        return zone
    }

    /// The working hours stored as `text` (`WorkingHours(stored:)`), parsed the first time.
    public mutating func workingHours(_ text: String?) -> WorkingHours? {
        guard let text else { return nil }
        if let known = hours[text] { return known }
        let parsed = WorkingHours(stored: text)
        hours[text] = parsed
        return parsed
    }

    /// Whether the read's moment is within `candidate`'s working hours, which the directory stores as `zone` and
    /// `hours` (the texts `candidate`'s values were made from).
    public mutating func isAtWork(_ candidate: Candidate, zone: String?, hours: String?) -> Bool {
        let shift = Shift(zone: zone, hours: hours)
        if let known = atWork[shift] { return known }
        let isAtWork = candidate.isWithinWorkingHours(at: now)
        atWork[shift] = isAtWork
        return isAtWork
    }
}
