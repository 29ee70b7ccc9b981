import Foundation
import GRDB
import SkillRelayDomain

extension SQLiteQuestionStore: StatsStore {
    public func questionStats(since: Date?, top: Int) async throws -> QuestionStats {
        // Without a start, no filter at all. (Measured on 200k questions and 600k deliveries: 1.5 s a call with the
        // filter always on, the first-answer times decoded as dates in Swift and the deliveries counted anew.)
        let inWindow: SQL = since.map { "question.createdAt >= \($0)" } ?? "1"
        return try await database.read { db in
            let counts = try SQLRequest<Row>(
                literal: """
                    SELECT count(*) AS asked,
                        coalesce(sum(status = 'open'), 0) AS open,
                        coalesce(sum(status = 'answered'), 0) AS answered,
                        coalesce(sum(status = 'expired'), 0) AS expired,
                        coalesce(sum(status = 'cancelled'), 0) AS cancelled,
                        coalesce(sum(relayed > 0), 0) AS withAnswers,
                        coalesce(sum(relayed), 0) AS relayedAnswers
                    FROM question WHERE \(inWindow)
                    """
            ).fetchOne(db)!
            // The first relayed answer of each question is rank 1; its delay in whole milliseconds, computed by SQLite
            // (decoding two dates a row in Swift cost more than the query).
            let firstAnswers = try Double.fetchAll(
                db,
                SQLRequest<Double>(
                    literal: """
                        SELECT max(0, round((julianday(answer.receivedAt) - julianday(question.createdAt)) * 86400000)) / 1000.0
                        FROM question JOIN answer ON answer.questionId = question.id AND answer.rank = 1
                        WHERE \(inWindow)
                        """))
            let unanswered = try SQLRequest<Row>(
                literal: """
                    SELECT topic.slug, topic.name, sum(question.status = 'expired' AND question.relayed = 0) AS unanswered, count(*) AS asked
                    FROM question JOIN topic ON topic.id = question.topicId
                    WHERE \(inWindow)
                    GROUP BY topic.id
                    HAVING unanswered > 0
                    ORDER BY unanswered DESC, topic.slug
                    LIMIT \(top)
                    """
            ).fetchAll(db).map {
                QuestionStats.UnansweredTopic(
                    topic: TopicReference(slug: $0["slug"], name: $0["name"]), unanswered: $0["unanswered"], asked: $0["asked"])
            }
            // All time: the counters each specialist's record already keeps (bumped in the same transactions as the
            // deliveries and answers). A window: counted from the deliveries of the questions in it.
            let interruptedSQL: SQL =
                since == nil
                ? """
                SELECT employee.handle, employee.name, record.delivered AS deliveries, record.answered AS answered
                FROM specialistRecord AS record JOIN employee ON employee.id = record.employeeId
                WHERE record.delivered > 0
                ORDER BY deliveries DESC, employee.handle
                LIMIT \(top)
                """
                : """
                SELECT employee.handle, employee.name, count(*) AS deliveries, coalesce(sum(delivery.state = 'answered'), 0) AS answered
                FROM delivery
                JOIN question ON question.id = delivery.questionId
                JOIN employee ON employee.id = delivery.specialistId
                WHERE \(inWindow)
                GROUP BY employee.id
                ORDER BY deliveries DESC, employee.handle
                LIMIT \(top)
                """
            let interrupted = try SQLRequest<Row>(literal: interruptedSQL).fetchAll(db).map {
                QuestionStats.InterruptedSpecialist(handle: $0["handle"], name: $0["name"], deliveries: $0["deliveries"], answered: $0["answered"])
            }
            return QuestionStats(
                asked: counts["asked"], open: counts["open"], answered: counts["answered"], expired: counts["expired"],
                cancelled: counts["cancelled"],
                withAnswers: counts["withAnswers"], relayedAnswers: counts["relayedAnswers"], firstAnswerSeconds: firstAnswers,
                unansweredTopics: unanswered, mostInterrupted: interrupted, routing: try routingFigures(db, inWindow: inWindow))
        }
    }

    /// The deliveries of the questions in the window by outcome, and how much the learned routing knows.
    private func routingFigures(_ db: Database, inWindow: SQL) throws -> RoutingFigures {
        let row = try SQLRequest<Row>(
            literal: """
                SELECT count(*) AS deliveries,
                    coalesce(sum(delivery.state = 'answered'
                        AND (julianday(delivery.respondedAt) - julianday(delivery.deliveredAt)) * 86400 <= \(learning.timelySeconds)), 0) AS inTime,
                    coalesce(sum(delivery.state = 'answered'), 0) AS answered,
                    coalesce(sum(delivery.state = 'passed'), 0) AS passed,
                    coalesce(sum(delivery.state = 'closed'), 0) AS unanswered,
                    coalesce(sum(delivery.trial), 0) AS trials
                FROM delivery JOIN question ON question.id = delivery.questionId
                WHERE \(inWindow)
                """
        ).fetchOne(db)!
        let learned = try Row.fetchOne(db.cachedStatement(sql: "SELECT count(DISTINCT employeeId) AS people, count(*) AS pairs FROM routingStat"))!
        let inTime: Int = row["inTime"]
        return RoutingFigures(
            deliveries: row["deliveries"], answeredInTime: inTime, answeredLate: (row["answered"] as Int) - inTime, passed: row["passed"],
            unanswered: row["unanswered"], trials: row["trials"], peopleLearned: learned["people"], pairsLearned: learned["pairs"])
    }
}
