import Foundation
import PostgresNIO
import SkillRelayDomain

// Suggested skills and stale tags, recorded in the same transactions as the ratings, answers, passes and closes that
// produce them. Each helper is called with one line from those places. Nothing here tags or untags anyone: a
// manager decides (the directory store's suggestions).
extension PostgresQuestionStore {
    /// After the asker rated a relayed answer: helpful, on a topic its author is not tagged with, it adds to (or opens) a
    /// suggestion to tag them; changed to unhelpful, it takes back the evidence it gave an open suggestion.
    static func noteRatingForSuggestions(_ connection: PostgresConnection, answer answerID: Int64, helpful: Bool, now: Date) async throws {
        guard
            let row = try await rows(
                connection,
                """
                SELECT delivery.specialistId, question.id, question.topicId FROM answer
                JOIN delivery ON delivery.id = answer.deliveryId JOIN question ON question.id = answer.questionId
                WHERE answer.id = \(answerID)
                """
            ).first
        else { return }
        let (specialist, question, topic) = try row.decode((Int64, Int64, Int64).self)
        guard helpful else {
            try await withdrawEvidence(connection, answer: answerID, now: now)
            return
        }
        guard try await !isTagged(connection, specialist, topic) else { return }
        var open = try await openSuggestion(connection, specialist, topic)
        if let existing = open, existing.kind != .suggested {
            // A stale flag on a tag that is gone since: nothing left to decide.
            try await execute(connection, "DELETE FROM skillSuggestion WHERE id = \(existing.id)")
            open = nil
        }
        let suggestionID: Int64
        if let open {
            suggestionID = open.id
        } else {
            guard try await !isQuiet(connection, specialist, topic, kind: .suggested, now: now) else { return }
            guard
                let id = try await value(
                    connection,
                    """
                    INSERT INTO skillSuggestion (publicId, employeeId, topicId, kind, status, evidence, deliveries, createdAt, updatedAt)
                    VALUES (\(IdentifierGenerator.make(prefix: "sg")), \(specialist), \(topic), 'suggested', 'open', 0, 0, \(now), \(now))
                    RETURNING id
                    """, as: Int64.self)
            else { return }
            suggestionID = id
        }
        try await execute(
            connection,
            "INSERT INTO skillSuggestionEvidence (suggestionId, answerId) VALUES (\(suggestionID), \(answerID)) ON CONFLICT DO NOTHING")
        try await execute(
            connection,
            """
            UPDATE skillSuggestion SET evidence = (SELECT count(*) FROM skillSuggestionEvidence WHERE suggestionId = \(suggestionID)),
                deliveries = (SELECT count(*) FROM skillSuggestionEvidence WHERE suggestionId = \(suggestionID)), lastQuestionId = \(question),
                updatedAt = \(now)
            WHERE id = \(suggestionID)
            """)
    }

    /// After a question closed: each specialist who still held it let it go unanswered. A cancelled question says
    /// nothing about them.
    static func noteUnansweredForSuggestions(_ connection: PostgresConnection, question: Int64, holders: [Int64], reason: CloseReason, now: Date)
        async throws
    {
        guard reason != .cancelled else { return }
        for holder in holders { try await reviewTag(connection, specialist: holder, question: question, now: now) }
    }

    /// Whether a tagged specialist's recent deliveries on the question's topic make the tag look out of date: over the
    /// last `SuggestionRules.staleWindow`, at least `staleMinimumDeliveries` with a known outcome, of which at least
    /// `staleShare` passed or left unanswered until the question closed (expired or answered by others). Raises, updates
    /// or withdraws the open flag to match. Called when a delivery's outcome becomes known.
    static func reviewTag(_ connection: PostgresConnection, specialist: Int64, question: Int64, now: Date) async throws {
        guard let topic = try await value(connection, "SELECT topicId FROM question WHERE id = \(question)", as: Int64.self) else { return }
        var open = try await openSuggestion(connection, specialist, topic)
        guard try await isTagged(connection, specialist, topic) else {
            // Not tagged (any more): a stale flag has nothing left to say.
            if let open, open.kind == .stale { try await execute(connection, "DELETE FROM skillSuggestion WHERE id = \(open.id)") }
            return
        }
        if let existing = open, existing.kind == .suggested {
            // Tagged since the suggestion was made: nothing left to decide.
            try await execute(connection, "DELETE FROM skillSuggestion WHERE id = \(existing.id)")
            open = nil
        }
        guard
            let counts = try await rows(
                connection,
                """
                SELECT count(*), count(*) FILTER (WHERE delivery.state <> 'answered')
                FROM delivery JOIN question ON question.id = delivery.questionId
                WHERE delivery.specialistId = \(specialist) AND delivery.deliveredAt >= \(now.addingTimeInterval(-SuggestionRules.staleWindow))
                    AND question.topicId = \(topic)
                    AND (delivery.state IN ('answered', 'passed') OR (delivery.state = 'closed' AND question.status IN ('expired', 'answered')))
                """
            ).first
        else { return }
        let (known, missed) = try counts.decode((Int, Int).self)
        let isStale = known >= SuggestionRules.staleMinimumDeliveries && Double(missed) >= SuggestionRules.staleShare * Double(known)
        if let open {
            if isStale {
                try await execute(
                    connection,
                    """
                    UPDATE skillSuggestion SET evidence = \(missed), deliveries = \(known), lastQuestionId = \(question), updatedAt = \(now)
                    WHERE id = \(open.id)
                    """)
            } else {
                try await execute(connection, "DELETE FROM skillSuggestion WHERE id = \(open.id)")
            }
            return
        }
        guard isStale, try await !isQuiet(connection, specialist, topic, kind: .stale, now: now) else { return }
        try await execute(
            connection,
            """
            INSERT INTO skillSuggestion (publicId, employeeId, topicId, kind, status, evidence, deliveries, lastQuestionId, createdAt, updatedAt)
            VALUES (\(IdentifierGenerator.make(prefix: "sg")), \(specialist), \(topic), 'stale', 'open', \(missed), \(known), \(question), \(now),
                \(now))
            """)
    }

    // MARK: - Helpers

    /// A rating taken back: the answer no longer counts for an open suggestion, which goes when nothing is left.
    private static func withdrawEvidence(_ connection: PostgresConnection, answer answerID: Int64, now: Date) async throws {
        let suggestions = try await rows(
            connection,
            """
            SELECT skillSuggestionEvidence.suggestionId FROM skillSuggestionEvidence
            JOIN skillSuggestion ON skillSuggestion.id = skillSuggestionEvidence.suggestionId
            WHERE skillSuggestionEvidence.answerId = \(answerID) AND skillSuggestion.status = 'open'
            """
        ).map { try $0.decode(Int64.self) }
        for suggestion in suggestions {
            try await execute(connection, "DELETE FROM skillSuggestionEvidence WHERE suggestionId = \(suggestion) AND answerId = \(answerID)")
            let left =
                try await value(connection, "SELECT count(*) FROM skillSuggestionEvidence WHERE suggestionId = \(suggestion)", as: Int.self) ?? 0
            if left == 0 {
                try await execute(connection, "DELETE FROM skillSuggestion WHERE id = \(suggestion)")
            } else {
                try await execute(
                    connection, "UPDATE skillSuggestion SET evidence = \(left), deliveries = \(left), updatedAt = \(now) WHERE id = \(suggestion)")
            }
        }
    }

    private static func isTagged(_ connection: PostgresConnection, _ specialist: Int64, _ topic: Int64) async throws -> Bool {
        try await value(
            connection, "SELECT EXISTS (SELECT 1 FROM skill WHERE employeeId = \(specialist) AND topicId = \(topic))", as: Bool.self) ?? false
    }

    private static func openSuggestion(_ connection: PostgresConnection, _ specialist: Int64, _ topic: Int64) async throws
        -> (id: Int64, kind: SkillSuggestion.Kind)?
    {
        guard
            let row = try await rows(
                connection,
                "SELECT id, kind FROM skillSuggestion WHERE employeeId = \(specialist) AND topicId = \(topic) AND status = 'open'"
            ).first
        else { return nil }
        let (id, kind) = try row.decode((Int64, String).self)
        return (id, SkillSuggestion.Kind(rawValue: kind) ?? .suggested)
    }

    /// Whether a manager dismissed the same kind of suggestion for this person and topic within the quiet period.
    private static func isQuiet(_ connection: PostgresConnection, _ specialist: Int64, _ topic: Int64, kind: SkillSuggestion.Kind, now: Date)
        async throws -> Bool
    {
        try await value(
            connection,
            """
            SELECT EXISTS (SELECT 1 FROM skillSuggestion WHERE employeeId = \(specialist) AND topicId = \(topic) AND kind = \(kind.rawValue)
                AND status = 'dismissed' AND decidedAt > \(now.addingTimeInterval(-SuggestionRules.dismissalQuietPeriod)))
            """, as: Bool.self) ?? false
    }
}
