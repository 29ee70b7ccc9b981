import Foundation
import PostgresNIO
import SkillRelayDomain

extension PostgresQuestionStore: StatsStore {
    public func questionStats(since: Date?, top: Int) async throws -> QuestionStats {
        try await database.read { connection in
            guard
                let counts = try await Self.rows(
                    connection,
                    """
                    SELECT count(*), count(*) FILTER (WHERE status = 'open'), count(*) FILTER (WHERE status = 'answered'),
                        count(*) FILTER (WHERE status = 'expired'), count(*) FILTER (WHERE status = 'cancelled'),
                        count(*) FILTER (WHERE relayed > 0), coalesce(sum(relayed), 0)::bigint
                    FROM question WHERE (\(since)::timestamptz IS NULL OR question.createdAt >= \(since)::timestamptz)
                    """
                ).first
            else { throw DirectoryError.questionNotFound("") }
            let (asked, open, answered, expired, cancelled, withAnswers, relayedAnswers) = try counts.decode((Int, Int, Int, Int, Int, Int, Int).self)
            // The first relayed answer of each question is rank 1; its delay in whole milliseconds.
            let firstAnswers = try await Self.rows(
                connection,
                """
                SELECT (greatest(0, round(extract(epoch FROM answer.receivedAt - question.createdAt) * 1000)) / 1000.0)::float8
                FROM question JOIN answer ON answer.questionId = question.id AND answer.rank = 1
                WHERE (\(since)::timestamptz IS NULL OR question.createdAt >= \(since)::timestamptz)
                """
            ).map { try $0.decode(Double.self) }
            let unanswered = try await Self.rows(
                connection,
                """
                SELECT topic.slug, topic.name, count(*) FILTER (WHERE question.status = 'expired' AND question.relayed = 0) AS unanswered,
                    count(*) AS asked
                FROM question JOIN topic ON topic.id = question.topicId
                WHERE (\(since)::timestamptz IS NULL OR question.createdAt >= \(since)::timestamptz)
                GROUP BY topic.id
                HAVING count(*) FILTER (WHERE question.status = 'expired' AND question.relayed = 0) > 0
                ORDER BY unanswered DESC, topic.slug
                LIMIT \(top)
                """
            ).map { row in
                let (slug, name, unanswered, asked) = try row.decode((String, String, Int, Int).self)
                return QuestionStats.UnansweredTopic(topic: TopicReference(slug: slug, name: name), unanswered: unanswered, asked: asked)
            }
            // All time: the counters each specialist's record already keeps (bumped in the same transactions as the
            // deliveries and answers). A window: counted from the deliveries of the questions in it.
            let interruptedQuery: PostgresQuery =
                since == nil
                ? """
                SELECT employee.handle, employee.name, record.delivered AS deliveries, record.answered
                FROM specialistRecord AS record JOIN employee ON employee.id = record.employeeId
                WHERE record.delivered > 0
                ORDER BY deliveries DESC, employee.handle
                LIMIT \(top)
                """
                : """
                SELECT employee.handle, employee.name, count(*) AS deliveries, count(*) FILTER (WHERE delivery.state = 'answered')
                FROM delivery
                JOIN question ON question.id = delivery.questionId
                JOIN employee ON employee.id = delivery.specialistId
                WHERE (\(since)::timestamptz IS NULL OR question.createdAt >= \(since)::timestamptz)
                GROUP BY employee.id
                ORDER BY deliveries DESC, employee.handle
                LIMIT \(top)
                """
            let interrupted = try await Self.rows(connection, interruptedQuery).map { row in
                let (handle, name, deliveries, answered) = try row.decode((String, String, Int, Int).self)
                return QuestionStats.InterruptedSpecialist(handle: handle, name: name, deliveries: deliveries, answered: answered)
            }
            return QuestionStats(
                asked: asked, open: open, answered: answered, expired: expired, cancelled: cancelled, withAnswers: withAnswers,
                relayedAnswers: relayedAnswers, firstAnswerSeconds: firstAnswers, unansweredTopics: unanswered, mostInterrupted: interrupted,
                routing: try await routingFigures(connection, since: since))
        }
    }

    /// The deliveries of the questions in the window by outcome, and how much the learned routing knows.
    private func routingFigures(_ connection: PostgresConnection, since: Date?) async throws -> RoutingFigures {
        guard
            let row = try await Self.rows(
                connection,
                """
                SELECT count(*),
                    count(*) FILTER (WHERE delivery.state = 'answered'
                        AND extract(epoch FROM delivery.respondedAt - delivery.deliveredAt) <= \(learning.timelySeconds)),
                    count(*) FILTER (WHERE delivery.state = 'answered'),
                    count(*) FILTER (WHERE delivery.state = 'passed'),
                    count(*) FILTER (WHERE delivery.state = 'closed'),
                    count(*) FILTER (WHERE delivery.trial)
                FROM delivery JOIN question ON question.id = delivery.questionId
                WHERE (\(since)::timestamptz IS NULL OR question.createdAt >= \(since)::timestamptz)
                """
            ).first,
            let learned = try await Self.rows(connection, "SELECT count(DISTINCT employeeId), count(*) FROM routingStat").first
        else { return RoutingFigures() }
        let (deliveries, inTime, answered, passed, unanswered, trials) = try row.decode((Int, Int, Int, Int, Int, Int).self)
        let (people, pairs) = try learned.decode((Int, Int).self)
        return RoutingFigures(
            deliveries: deliveries, answeredInTime: inTime, answeredLate: answered - inTime, passed: passed, unanswered: unanswered,
            trials: trials, peopleLearned: people, pairsLearned: pairs)
    }
}
