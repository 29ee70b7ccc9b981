import Foundation

/// A candidate read's time zones and working hours, each text made into its value once a read: most people share a
/// handful of them. Both stores' candidate reads keep one.
public struct CandidateTexts {
    private var zones: [String: TimeZone?] = [:]
    private var hours: [String: WorkingHours?] = [:]

    public init() {}

    /// The time zone named `name` (nil for none, or for a name the system does not know).
    public mutating func timeZone(_ name: String?) -> TimeZone? {
        guard let name else { return nil }
        if let known = zones[name] { return known }
        let zone = TimeZone(identifier: name)
        zones[name] = zone
        return zone
    }

    /// The working hours written as `text`, made by `parse` the first time (nil for none, or for a text it rejects).
    public mutating func workingHours(_ text: String?, parse: (String) -> WorkingHours?) -> WorkingHours? {
        guard let text else { return nil }
        if let known = hours[text] { return known }
        let parsed = parse(text)
        hours[text] = parsed
        return parsed
    }
}
