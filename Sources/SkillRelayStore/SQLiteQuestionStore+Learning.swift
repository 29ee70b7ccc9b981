import Foundation
import GRDB
import SkillRelayDomain

// The learned routing's statistics, kept in the same transaction as the event that produces them: a delivery's
// outcome (answer, pass, or silence when its question closes) and a rating. Counts are decayed as they are written
// (see `RoutingEstimator`), so each row holds its value as of its `updatedAt`.
extension SQLiteQuestionStore {
    /// What one event adds to a person's statistics.
    struct Learned {
        var outcome = false
        var timely = false
        var passed = false
        var rated = 0.0
        var helpful = 0.0
    }

    /// A pending delivery got its answer or pass: the outcome is known.
    static func learnOutcome(_ db: Database, delivery: Int64, answered: Bool, now: Date, learning: RoutingLearning) throws {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT delivery.specialistId, question.topicId, delivery.deliveredAt
                        FROM delivery JOIN question ON question.id = delivery.questionId WHERE delivery.id = ?
                        """), arguments: [delivery])
        else { return }
        let deliveredAt: Date = row[2]
        let timely = answered && now.timeIntervalSince(deliveredAt) <= learning.timelySeconds
        try learn(
            db, employee: row[0], topic: row[1], deliveredAt: deliveredAt,
            Learned(outcome: true, timely: timely, passed: !answered), now: now, learning: learning)
    }

    /// A question closes: whoever still holds it and has had the time that counts left it unanswered. Those who
    /// received it more recently did not get their chance, and count for nothing.
    static func learnSilence(_ db: Database, question: Int64, now: Date, learning: RoutingLearning) throws {
        let rows = try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT delivery.specialistId, question.topicId, delivery.deliveredAt
                    FROM delivery JOIN question ON question.id = delivery.questionId
                    WHERE delivery.questionId = ? AND delivery.state = 'pending' AND delivery.deliveredAt <= ?
                    """), arguments: [question, now.addingTimeInterval(-learning.timelySeconds)])
        for row in rows {
            try learn(db, employee: row[0], topic: row[1], deliveredAt: row[2], Learned(outcome: true), now: now, learning: learning)
        }
    }

    /// The asker rated answer `answer`, or changed a rating (`previous`).
    static func learnRating(_ db: Database, answer: Int64, helpful: Bool, previous: Bool?, now: Date, learning: RoutingLearning) throws {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT delivery.specialistId, question.topicId, delivery.deliveredAt FROM answer
                        JOIN delivery ON delivery.id = answer.deliveryId JOIN question ON question.id = answer.questionId
                        WHERE answer.id = ?
                        """), arguments: [answer])
        else { return }
        var change = Learned()
        switch previous {
        case nil: (change.rated, change.helpful) = (1, helpful ? 1 : 0)
        case let before? where before != helpful: change.helpful = helpful ? 1 : -1
        default: return
        }
        try learn(db, employee: row[0], topic: row[1], deliveredAt: row[2], change, now: now, learning: learning)
    }

    /// Adds `change` to the person's statistics on the topic, and (for outcomes) to their responsiveness in the hour of
    /// the week the delivery was made and overall.
    static func learn(
        _ db: Database, employee: Int64, topic: Int64, deliveredAt: Date, _ change: Learned, now: Date, learning: RoutingLearning
    ) throws {
        var stat =
            try Row.fetchOne(
                db.cachedStatement(
                    sql: "SELECT outcomes, timely, passed, rated, helpful, updatedAt FROM routingStat WHERE employeeId = ? AND topicId = ?"),
                arguments: [employee, topic]
            ).map {
                OutcomeCounts(outcomes: $0[0], timely: $0[1], passed: $0[2], rated: $0[3], helpful: $0[4], updatedAt: $0[5])
            }?.decayed(to: now, halfLife: learning.halfLife) ?? OutcomeCounts()
        let outcome = change.outcome ? 1.0 : 0
        let timely = change.timely ? 1.0 : 0
        stat.outcomes += outcome
        stat.timely += timely
        stat.passed += change.passed ? 1 : 0
        stat.rated += change.rated
        stat.helpful = min(stat.rated, max(0, stat.helpful + change.helpful))
        let updatedAt = now.storedValue
        try db.cachedStatement(
            sql: """
                INSERT INTO routingStat (employeeId, topicId, outcomes, timely, passed, rated, helpful, updatedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (employeeId, topicId) DO UPDATE SET outcomes = excluded.outcomes, timely = excluded.timely,
                    passed = excluded.passed, rated = excluded.rated, helpful = excluded.helpful, updatedAt = excluded.updatedAt
                """
        ).execute(arguments: [employee, topic, stat.outcomes, stat.timely, stat.passed, stat.rated, stat.helpful, updatedAt])
        guard change.outcome else { return }
        for hour in [LearnedRecord.hourOfWeek(deliveredAt), -1] {
            var counts =
                try Row.fetchOne(
                    db.cachedStatement(sql: "SELECT outcomes, timely, updatedAt FROM routingHour WHERE employeeId = ? AND hourOfWeek = ?"),
                    arguments: [employee, hour]
                ).map { OutcomeCounts(outcomes: $0[0], timely: $0[1], updatedAt: $0[2]) }?.decayed(to: now, halfLife: learning.halfLife)
                ?? OutcomeCounts()
            counts.outcomes += outcome
            counts.timely += timely
            try db.cachedStatement(
                sql: """
                    INSERT INTO routingHour (employeeId, hourOfWeek, outcomes, timely, updatedAt) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (employeeId, hourOfWeek) DO UPDATE SET outcomes = excluded.outcomes, timely = excluded.timely,
                        updatedAt = excluded.updatedAt
                    """
            ).execute(arguments: [employee, hour, counts.outcomes, counts.timely, updatedAt])
        }
    }
}
