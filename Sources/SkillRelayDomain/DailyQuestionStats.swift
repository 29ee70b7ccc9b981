import Foundation

/// One UTC day's questions: how many were asked, how many got an answer, and how soon.
public struct DailyQuestionStats: Sendable, Equatable {
    /// The day's start, midnight UTC.
    public var day: Date
    /// Questions asked that day.
    public var asked: Int
    /// Of those, how many got at least one answer relayed.
    public var answered: Int
    /// The median seconds from asking to the first relayed answer, over that day's answered questions.
    public var medianFirstAnswerSeconds: Double?

    public init(day: Date, asked: Int, answered: Int, medianFirstAnswerSeconds: Double?) {
        self.day = day
        self.asked = asked
        self.answered = answered
        self.medianFirstAnswerSeconds = medianFirstAnswerSeconds
    }

    /// The share of the day's questions answered, 0 to 1 (0 on a day without questions).
    public var shareAnswered: Double { asked == 0 ? 0 : Double(answered) / Double(asked) }

    /// The UTC days from `days - 1` days before `now`'s day to that day, each once, oldest first, filled from `figures`
    /// (matched by day); days without questions are zeros.
    public static func days(_ days: Int, endingAt now: Date, from figures: [DailyQuestionStats]) -> [DailyQuestionStats] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let today = calendar.startOfDay(for: now)
        let byDay = Dictionary(figures.map { ($0.day, $0) }, uniquingKeysWith: { first, _ in first })
        return (0..<max(days, 0)).reversed().map { back in
            let day = calendar.date(byAdding: .day, value: -back, to: today)!
            return byDay[day] ?? DailyQuestionStats(day: day, asked: 0, answered: 0, medianFirstAnswerSeconds: nil)
        }
    }
}

extension StatsService {
    /// The last `days` UTC days up to `now`'s, oldest first, every day present; for an admin.
    public func daily(days: Int, now: Date, by caller: Caller) async throws -> [DailyQuestionStats] {
        try DirectoryPolicy.authorize(caller, to: .readStats)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let start = calendar.date(byAdding: .day, value: -(days - 1), to: calendar.startOfDay(for: now))!
        let figures = try await store.dailyQuestionStats(
            from: start, until: calendar.date(byAdding: .day, value: 1, to: calendar.startOfDay(for: now))!)
        return DailyQuestionStats.days(days, endingAt: now, from: figures)
    }
}
