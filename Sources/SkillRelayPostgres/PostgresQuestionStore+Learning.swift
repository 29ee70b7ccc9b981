import Foundation
import PostgresNIO
import SkillRelayDomain

// The learned routing's statistics, kept in the same transaction as the event that produces them: a delivery's
// outcome (answer, pass, or silence when its question closes) and a rating. Counts are decayed as they are written
// (see `RoutingEstimator`), so each row holds its value as of its `updatedAt`.
extension PostgresQuestionStore {
    /// What one event adds to a person's statistics.
    struct Learned {
        var outcome = false
        var timely = false
        var passed = false
        var rated = 0.0
        var helpful = 0.0
    }

    /// A pending delivery got its answer or pass: the outcome is known.
    static func learnOutcome(_ connection: PostgresConnection, delivery: Int64, answered: Bool, now: Date, learning: RoutingLearning) async throws {
        guard
            let row = try await rows(
                connection,
                """
                SELECT delivery.specialistId, question.topicId, delivery.deliveredAt
                FROM delivery JOIN question ON question.id = delivery.questionId WHERE delivery.id = \(delivery)
                """
            ).first
        else { return }
        let (employee, topic, deliveredAt) = try row.decode((Int64, Int64, Date).self)
        let timely = answered && now.timeIntervalSince(deliveredAt) <= learning.timelySeconds
        try await learn(
            connection, employee: employee, topic: topic, deliveredAt: deliveredAt, Learned(outcome: true, timely: timely, passed: !answered),
            now: now, learning: learning)
    }

    /// A question closes: whoever still holds it and has had the time that counts left it unanswered. Those who
    /// received it more recently did not get their chance, and count for nothing.
    static func learnSilence(_ connection: PostgresConnection, question: Int64, now: Date, learning: RoutingLearning) async throws {
        let silent = try await rows(
            connection,
            """
            SELECT delivery.specialistId, question.topicId, delivery.deliveredAt
            FROM delivery JOIN question ON question.id = delivery.questionId
            WHERE delivery.questionId = \(question) AND delivery.state = 'pending'
                AND delivery.deliveredAt <= \(now.addingTimeInterval(-learning.timelySeconds))
            ORDER BY delivery.id
            """
        ).map { try $0.decode((Int64, Int64, Date).self) }
        for (employee, topic, deliveredAt) in silent {
            try await learn(
                connection, employee: employee, topic: topic, deliveredAt: deliveredAt, Learned(outcome: true), now: now, learning: learning)
        }
    }

    /// The asker rated answer `answer`, or changed a rating (`previous`).
    static func learnRating(
        _ connection: PostgresConnection, answer: Int64, helpful: Bool, previous: Bool?, now: Date, learning: RoutingLearning
    ) async throws {
        guard
            let row = try await rows(
                connection,
                """
                SELECT delivery.specialistId, question.topicId, delivery.deliveredAt FROM answer
                JOIN delivery ON delivery.id = answer.deliveryId JOIN question ON question.id = answer.questionId
                WHERE answer.id = \(answer)
                """
            ).first
        else { return }
        var change = Learned()
        switch previous {
        case nil: (change.rated, change.helpful) = (1, helpful ? 1 : 0)
        case let before? where before != helpful: change.helpful = helpful ? 1 : -1
        default: return
        }
        let (employee, topic, deliveredAt) = try row.decode((Int64, Int64, Date).self)
        try await learn(connection, employee: employee, topic: topic, deliveredAt: deliveredAt, change, now: now, learning: learning)
    }

    /// Adds `change` to the person's statistics on the topic, and (for outcomes) to their responsiveness in the hour of
    /// the week the delivery was made and overall.
    static func learn(
        _ connection: PostgresConnection, employee: Int64, topic: Int64, deliveredAt: Date, _ change: Learned, now: Date,
        learning: RoutingLearning
    ) async throws {
        var stat =
            try await rows(
                connection,
                "SELECT outcomes, timely, passed, rated, helpful, updatedAt FROM routingStat WHERE employeeId = \(employee) AND topicId = \(topic)"
            ).first.map { row in
                let (outcomes, timely, passed, rated, helpful, updatedAt) = try row.decode((Double, Double, Double, Double, Double, Date).self)
                return OutcomeCounts(outcomes: outcomes, timely: timely, passed: passed, rated: rated, helpful: helpful, updatedAt: updatedAt)
            }?.decayed(to: now, halfLife: learning.halfLife) ?? OutcomeCounts()
        let outcome = change.outcome ? 1.0 : 0
        let timely = change.timely ? 1.0 : 0
        stat.outcomes += outcome
        stat.timely += timely
        stat.passed += change.passed ? 1 : 0
        stat.rated += change.rated
        stat.helpful = min(stat.rated, max(0, stat.helpful + change.helpful))
        try await execute(
            connection,
            """
            INSERT INTO routingStat (employeeId, topicId, outcomes, timely, passed, rated, helpful, updatedAt)
            VALUES (\(employee), \(topic), \(stat.outcomes), \(stat.timely), \(stat.passed), \(stat.rated), \(stat.helpful), \(now))
            ON CONFLICT (employeeId, topicId) DO UPDATE SET outcomes = excluded.outcomes, timely = excluded.timely,
                passed = excluded.passed, rated = excluded.rated, helpful = excluded.helpful, updatedAt = excluded.updatedAt
            """)
        guard change.outcome else { return }
        for hour in [LearnedRecord.hourOfWeek(deliveredAt), -1] {
            var counts =
                try await rows(
                    connection, "SELECT outcomes, timely, updatedAt FROM routingHour WHERE employeeId = \(employee) AND hourOfWeek = \(hour)"
                ).first.map { row in
                    let (outcomes, timely, updatedAt) = try row.decode((Double, Double, Date).self)
                    return OutcomeCounts(outcomes: outcomes, timely: timely, updatedAt: updatedAt)
                }?.decayed(to: now, halfLife: learning.halfLife) ?? OutcomeCounts()
            counts.outcomes += outcome
            counts.timely += timely
            try await execute(
                connection,
                """
                INSERT INTO routingHour (employeeId, hourOfWeek, outcomes, timely, updatedAt)
                VALUES (\(employee), \(hour), \(counts.outcomes), \(counts.timely), \(now))
                ON CONFLICT (employeeId, hourOfWeek) DO UPDATE SET outcomes = excluded.outcomes, timely = excluded.timely,
                    updatedAt = excluded.updatedAt
                """)
        }
    }
}
