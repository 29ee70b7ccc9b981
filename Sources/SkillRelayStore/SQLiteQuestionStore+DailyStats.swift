import Foundation
import GRDB
import SkillRelayDomain

extension SQLiteQuestionStore {
    public func dailyQuestionStats(from: Date, until: Date) async throws -> [DailyQuestionStats] {
        try await database.read { db in
            // Dates are stored as UTC text ("2027-01-15 09:30:00.000"): the day is its first ten characters. The median is
            // the nearest rank, as `QuestionStats.percentile`: the ceil(n / 2)-th fastest first answer of the day.
            let rows = try SQLRequest<Row>(
                literal: """
                    WITH asked AS (
                        SELECT substr(question.createdAt, 1, 10) AS day, count(*) AS asked, coalesce(sum(question.relayed > 0), 0) AS answered
                        FROM question WHERE question.createdAt >= \(from) AND question.createdAt < \(until)
                        GROUP BY day
                    ),
                    delays AS (
                        SELECT substr(question.createdAt, 1, 10) AS day,
                            max(0, round((julianday(answer.receivedAt) - julianday(question.createdAt)) * 86400000)) / 1000.0 AS seconds
                        FROM question JOIN answer ON answer.questionId = question.id AND answer.rank = 1
                        WHERE question.createdAt >= \(from) AND question.createdAt < \(until)
                    ),
                    ranked AS (
                        SELECT day, seconds, row_number() OVER (PARTITION BY day ORDER BY seconds) AS position,
                            count(*) OVER (PARTITION BY day) AS total
                        FROM delays
                    )
                    SELECT asked.day, asked.asked, asked.answered, ranked.seconds AS median
                    FROM asked LEFT JOIN ranked ON ranked.day = asked.day AND ranked.position = (ranked.total + 1) / 2
                    ORDER BY asked.day
                    """
            ).fetchAll(db)
            let parser = DateFormatter()
            parser.locale = Locale(identifier: "en_US_POSIX")
            parser.timeZone = TimeZone(identifier: "UTC")
            parser.dateFormat = "yyyy-MM-dd"
            return rows.compactMap { row in
                guard let day = parser.date(from: row["day"]) else { return nil }
                return DailyQuestionStats(day: day, asked: row["asked"], answered: row["answered"], medianFirstAnswerSeconds: row["median"])
            }
        }
    }
}
