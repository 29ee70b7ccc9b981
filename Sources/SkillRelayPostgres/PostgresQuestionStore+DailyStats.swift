import Foundation
import PostgresNIO
import SkillRelayDomain

extension PostgresQuestionStore {
    public func dailyQuestionStats(from: Date, until: Date) async throws -> [DailyQuestionStats] {
        try await database.withoutTransaction { connection in
            // The day is the UTC date of the question's creation. The median is the nearest rank, as
            // `QuestionStats.percentile`: the ceil(n / 2)-th fastest first answer of the day.
            let rows = try await Self.rows(
                connection,
                """
                WITH asked AS (
                    SELECT to_char(question.createdAt AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, count(*) AS asked,
                        count(*) FILTER (WHERE question.relayed > 0) AS answered
                    FROM question WHERE question.createdAt >= \(from) AND question.createdAt < \(until)
                    GROUP BY day
                ),
                delays AS (
                    SELECT to_char(question.createdAt AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
                        (greatest(0, round(extract(epoch FROM answer.receivedAt - question.createdAt) * 1000)) / 1000.0)::float8 AS seconds
                    FROM question JOIN answer ON answer.questionId = question.id AND answer.rank = 1
                    WHERE question.createdAt >= \(from) AND question.createdAt < \(until)
                ),
                ranked AS (
                    SELECT day, seconds, row_number() OVER (PARTITION BY day ORDER BY seconds) AS position,
                        count(*) OVER (PARTITION BY day) AS total
                    FROM delays
                )
                SELECT asked.day, asked.asked, asked.answered, ranked.seconds
                FROM asked LEFT JOIN ranked ON ranked.day = asked.day AND ranked.position = (ranked.total + 1) / 2
                ORDER BY asked.day
                """)
            let parser = DateFormatter()
            parser.locale = Locale(identifier: "en_US_POSIX")
            parser.timeZone = TimeZone(identifier: "UTC")
            parser.dateFormat = "yyyy-MM-dd"
            return try rows.compactMap { row in
                let (dayText, asked, answered, median) = try row.decode((String, Int, Int, Double?).self)
                guard let day = parser.date(from: dayText) else { return nil }
                return DailyQuestionStats(day: day, asked: asked, answered: answered, medianFirstAnswerSeconds: median)
            }
        }
    }
}
