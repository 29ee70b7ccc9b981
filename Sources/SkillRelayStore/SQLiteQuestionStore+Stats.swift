import Foundation
import GRDB
import SkillRelayDomain

extension SQLiteQuestionStore: StatsStore {
    public func questionStats(since: Date?, top: Int) async throws -> QuestionStats {
        let start = since ?? Date.distantPast
        return try await writer.read { db in
            let counts = try SQLRequest<Row>(
                literal: """
                    SELECT count(*) AS asked,
                        coalesce(sum(status = 'open'), 0) AS open,
                        coalesce(sum(status = 'answered'), 0) AS answered,
                        coalesce(sum(status = 'expired'), 0) AS expired,
                        coalesce(sum(status = 'cancelled'), 0) AS cancelled,
                        coalesce(sum(relayed > 0), 0) AS withAnswers,
                        coalesce(sum(relayed), 0) AS relayedAnswers
                    FROM question WHERE createdAt >= \(start)
                    """
            ).fetchOne(db)!
            // The first relayed answer of each question is rank 1.
            let firstAnswers = try SQLRequest<Row>(
                literal: """
                    SELECT question.createdAt, answer.receivedAt FROM question
                    JOIN answer ON answer.questionId = question.id AND answer.rank = 1
                    WHERE question.createdAt >= \(start)
                    """
            ).fetchAll(db).map { row -> Double in
                let asked: Date = row["createdAt"]
                let received: Date = row["receivedAt"]
                return max(0, received.timeIntervalSince(asked))
            }
            let unanswered = try SQLRequest<Row>(
                literal: """
                    SELECT topic.slug, topic.name, sum(question.status = 'expired' AND question.relayed = 0) AS unanswered, count(*) AS asked
                    FROM question JOIN topic ON topic.id = question.topicId
                    WHERE question.createdAt >= \(start)
                    GROUP BY topic.id
                    HAVING unanswered > 0
                    ORDER BY unanswered DESC, topic.slug
                    LIMIT \(top)
                    """
            ).fetchAll(db).map {
                QuestionStats.UnansweredTopic(
                    topic: TopicReference(slug: $0["slug"], name: $0["name"]), unanswered: $0["unanswered"], asked: $0["asked"])
            }
            let interrupted = try SQLRequest<Row>(
                literal: """
                    SELECT employee.handle, employee.name, count(*) AS deliveries, coalesce(sum(delivery.state = 'answered'), 0) AS answered
                    FROM delivery
                    JOIN question ON question.id = delivery.questionId
                    JOIN employee ON employee.id = delivery.specialistId
                    WHERE question.createdAt >= \(start)
                    GROUP BY employee.id
                    ORDER BY deliveries DESC, employee.handle
                    LIMIT \(top)
                    """
            ).fetchAll(db).map {
                QuestionStats.InterruptedSpecialist(handle: $0["handle"], name: $0["name"], deliveries: $0["deliveries"], answered: $0["answered"])
            }
            return QuestionStats(
                asked: counts["asked"], open: counts["open"], answered: counts["answered"], expired: counts["expired"],
                cancelled: counts["cancelled"],
                withAnswers: counts["withAnswers"], relayedAnswers: counts["relayedAnswers"], firstAnswerSeconds: firstAnswers,
                unansweredTopics: unanswered, mostInterrupted: interrupted)
        }
    }
}
