import Foundation

/// When someone may be interrupted, in their own time zone: one or more segments such as `Mon-Fri 09:00-17:30`, written
/// comma-separated (`Mon-Thu 08:00-16:00, Fri 08:00-12:00`). A segment covers whole weekdays (a range may wrap, as in
/// `Sun-Thu` or `Fri-Mon`) and one stretch of each of those days; it never crosses midnight (`24:00` may end one), so
/// a night shift is two segments.
public struct WorkingHours: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// A day of the week, numbered as `Calendar` numbers them (Sunday 1 … Saturday 7).
    public enum Weekday: Int, Sendable, CaseIterable, Comparable {
        case sunday = 1
        case monday, tuesday, wednesday, thursday, friday, saturday

        /// The three-letter English abbreviation used in the directory (`Mon`).
        public var abbreviation: String { Self.abbreviations[rawValue - 1] }

        static let abbreviations = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]

        init?(abbreviation: String) {
            guard let index = Self.abbreviations.firstIndex(where: { $0.caseInsensitiveCompare(abbreviation) == .orderedSame }) else { return nil }
            self.init(rawValue: index + 1)
        }

        public static func < (a: Weekday, b: Weekday) -> Bool { a.rawValue < b.rawValue }
    }

    /// Some weekdays, from `start` through `end` (wrapping past Saturday), each from `opens` until `closes` (minutes after
    /// local midnight, `closes` at most 1440).
    public struct Segment: Sendable, Equatable, Hashable {
        public var start: Weekday
        public var end: Weekday
        public var opens: Int
        public var closes: Int

        public init(start: Weekday, end: Weekday, opens: Int, closes: Int) {
            self.start = start
            self.end = end
            self.opens = opens
            self.closes = closes
        }

        /// Whether the segment's days include `day`.
        public func covers(_ day: Weekday) -> Bool {
            start <= end ? (start...end).contains(day) : day >= start || day <= end
        }
    }

    public var segments: [Segment]

    public init(segments: [Segment]) {
        self.segments = segments
    }

    /// Working hours as a store keeps them (always written by `description`): `nil` for none, and for a value that no
    /// longer parses.
    public init?(stored text: String?) {
        guard let text, let parsed = try? WorkingHours(parsing: text) else { return nil }
        self = parsed
    }

    /// Parses the directory's notation; throws `invalidField("working_hours", …)` saying what is wrong.
    public init(parsing text: String) throws(DirectoryError) {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingWhitespace() }
        guard !parts.isEmpty, !parts.contains(where: \.isEmpty) else {
            throw Self.invalid("'\(text)' is not of the form 'Mon-Fri 09:00-17:30' (segments separated by commas)")
        }
        var segments: [Segment] = []
        for part in parts { segments.append(try Self.segment(part)) }
        self.init(segments: segments)
    }

    /// Whether `date` falls in one of the segments, read on the wall clock of `timeZone`.
    public func contains(_ date: Date, in timeZone: TimeZone) -> Bool {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.weekday, .hour, .minute], from: date)
        guard let weekday = parts.weekday.flatMap(Weekday.init(rawValue:)), let hour = parts.hour, let minute = parts.minute else {
            return false
        }
        let minutes = hour * 60 + minute
        return segments.contains { $0.covers(weekday) && $0.opens <= minutes && minutes < $0.closes }
    }

    /// The notation back, one canonical spelling: `Mon-Fri 09:00-17:30, Sat 10:00-12:00`.
    public var description: String {
        segments.map { segment in
            let days = segment.start == segment.end ? segment.start.abbreviation : "\(segment.start.abbreviation)-\(segment.end.abbreviation)"
            return "\(days) \(Self.clock(segment.opens))-\(Self.clock(segment.closes))"
        }.joined(separator: ", ")
    }

    // MARK: - Parsing

    private static func segment(_ text: String) throws(DirectoryError) -> Segment {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard words.count == 2 else { throw invalid("'\(text)' is not of the form 'Mon-Fri 09:00-17:30'") }
        let days = words[0].split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard (1...2).contains(days.count), let start = Weekday(abbreviation: days[0]), let end = Weekday(abbreviation: days.last!) else {
            throw invalid("'\(words[0])' is not a day or a range of days such as Mon-Fri (Mon, Tue, Wed, Thu, Fri, Sat, Sun)")
        }
        let times = words[1].split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard times.count == 2, let opens = minutes(times[0]), let closes = minutes(times[1]) else {
            throw invalid("'\(words[1])' is not a time range such as 09:00-17:30")
        }
        guard opens < closes else {
            throw invalid("'\(words[1])' must end after it starts; a segment cannot cross midnight, so split it in two")
        }
        return Segment(start: start, end: end, opens: opens, closes: closes)
    }

    /// `HH:MM` as minutes after midnight, `24:00` included.
    private static func minutes(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let hour = Int(parts[0]), let minute = Int(parts[1]), (0...59).contains(minute), (0...24).contains(hour),
            hour < 24 || minute == 0
        else { return nil }
        return hour * 60 + minute
    }

    private static func clock(_ minutes: Int) -> String {
        let hour = minutes / 60
        let minute = minutes % 60
        return (hour < 10 ? "0" : "") + "\(hour):" + (minute < 10 ? "0" : "") + "\(minute)"
    }

    private static func invalid(_ message: String) -> DirectoryError { .invalidField("working_hours", message) }
}
