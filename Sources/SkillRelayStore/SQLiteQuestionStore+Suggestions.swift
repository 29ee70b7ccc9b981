import Foundation
import GRDB
import SkillRelayDomain

// Suggested skills and stale tags, recorded in the same transactions as the ratings, answers, passes and closes that
// produce them. Each helper is called with one line from those places. Nothing here tags or untags anyone: a
// manager decides (SQLiteDirectoryStore+Suggestions).
extension SQLiteQuestionStore {
    /// After the asker rated a relayed answer: helpful, on a topic its author is not tagged with, it adds to (or opens) a
    /// suggestion to tag them; changed to unhelpful, it takes back the evidence it gave an open suggestion.
    static func noteRatingForSuggestions(_ db: Database, answer answerID: Int64, helpful: Bool, now: Date) throws {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT delivery.specialistId, question.id AS questionId, question.topicId FROM answer
                        JOIN delivery ON delivery.id = answer.deliveryId JOIN question ON question.id = answer.questionId
                        WHERE answer.id = ?
                        """), arguments: [answerID])
        else { return }
        let specialist: Int64 = row["specialistId"]
        let topic: Int64 = row["topicId"]
        guard helpful else {
            try withdrawEvidence(db, answer: answerID, now: now)
            return
        }
        guard try !isTagged(db, specialist, topic) else { return }
        var open = try openSuggestion(db, specialist, topic)
        if let existing = open, existing.kind != .suggested {
            // A stale flag on a tag that is gone since: nothing left to decide.
            try db.executeCached(sql: "DELETE FROM skillSuggestion WHERE id = ?", arguments: [existing.id])
            open = nil
        }
        let suggestionID: Int64
        if let open {
            suggestionID = open.id
        } else {
            guard try !isQuiet(db, specialist, topic, kind: .suggested, now: now) else { return }
            try db.executeCached(
                sql: """
                    INSERT INTO skillSuggestion (publicId, employeeId, topicId, kind, status, evidence, deliveries, createdAt, updatedAt)
                    VALUES (?, ?, ?, 'suggested', 'open', 0, 0, ?, ?)
                    """, arguments: [IdentifierGenerator.make(prefix: "sg"), specialist, topic, now, now])
            suggestionID = db.lastInsertedRowID
        }
        try db.executeCached(
            sql: "INSERT OR IGNORE INTO skillSuggestionEvidence (suggestionId, answerId) VALUES (?, ?)", arguments: [suggestionID, answerID])
        try db.executeCached(
            sql: """
                UPDATE skillSuggestion SET evidence = (SELECT count(*) FROM skillSuggestionEvidence WHERE suggestionId = ?1),
                    deliveries = (SELECT count(*) FROM skillSuggestionEvidence WHERE suggestionId = ?1), lastQuestionId = ?2, updatedAt = ?3
                WHERE id = ?1
                """, arguments: [suggestionID, row["questionId"] as Int64, now])
    }

    /// After a question closed: each specialist who still held it let it go unanswered. A cancelled question says
    /// nothing about them.
    static func noteUnansweredForSuggestions(_ db: Database, question: Int64, holders: [Int64], reason: CloseReason, now: Date) throws {
        guard reason != .cancelled else { return }
        for holder in holders { try reviewTag(db, specialist: holder, question: question, now: now) }
    }

    /// Whether a tagged specialist's recent deliveries on the question's topic make the tag look out of date: over the
    /// last `SuggestionRules.staleWindow`, at least `staleMinimumDeliveries` with a known outcome, of which at least
    /// `staleShare` passed or left unanswered until the question closed (expired or answered by others). Raises, updates
    /// or withdraws the open flag to match. Called when a delivery's outcome becomes known.
    static func reviewTag(_ db: Database, specialist: Int64, question: Int64, now: Date) throws {
        guard let topic = try Int64.fetchOne(db.cachedStatement(sql: "SELECT topicId FROM question WHERE id = ?"), arguments: [question])
        else { return }
        var open = try openSuggestion(db, specialist, topic)
        guard try isTagged(db, specialist, topic) else {
            // Not tagged (any more): a stale flag has nothing left to say.
            if let open, open.kind == .stale { try db.executeCached(sql: "DELETE FROM skillSuggestion WHERE id = ?", arguments: [open.id]) }
            return
        }
        if let existing = open, existing.kind == .suggested {
            // Tagged since the suggestion was made: nothing left to decide.
            try db.executeCached(sql: "DELETE FROM skillSuggestion WHERE id = ?", arguments: [existing.id])
            open = nil
        }
        let counts = try Row.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT count(*) AS known, coalesce(sum(delivery.state <> 'answered'), 0) AS missed
                    FROM delivery JOIN question ON question.id = delivery.questionId
                    WHERE delivery.specialistId = ? AND delivery.deliveredAt >= ? AND question.topicId = ?
                        AND (delivery.state IN ('answered', 'passed') OR (delivery.state = 'closed' AND question.status IN ('expired', 'answered')))
                    """), arguments: [specialist, now.addingTimeInterval(-SuggestionRules.staleWindow), topic])!
        let known: Int = counts["known"]
        let missed: Int = counts["missed"]
        let isStale = known >= SuggestionRules.staleMinimumDeliveries && Double(missed) >= SuggestionRules.staleShare * Double(known)
        if let open {
            if isStale {
                try db.executeCached(
                    sql: "UPDATE skillSuggestion SET evidence = ?, deliveries = ?, lastQuestionId = ?, updatedAt = ? WHERE id = ?",
                    arguments: [missed, known, question, now, open.id])
            } else {
                try db.executeCached(sql: "DELETE FROM skillSuggestion WHERE id = ?", arguments: [open.id])
            }
            return
        }
        guard isStale, try !isQuiet(db, specialist, topic, kind: .stale, now: now) else { return }
        try db.executeCached(
            sql: """
                INSERT INTO skillSuggestion (publicId, employeeId, topicId, kind, status, evidence, deliveries, lastQuestionId, createdAt, updatedAt)
                VALUES (?, ?, ?, 'stale', 'open', ?, ?, ?, ?, ?)
                """, arguments: [IdentifierGenerator.make(prefix: "sg"), specialist, topic, missed, known, question, now, now])
    }

    // MARK: - Helpers

    /// A rating taken back: the answer no longer counts for an open suggestion, which goes when nothing is left.
    private static func withdrawEvidence(_ db: Database, answer answerID: Int64, now: Date) throws {
        let suggestions = try Int64.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT skillSuggestionEvidence.suggestionId FROM skillSuggestionEvidence
                    JOIN skillSuggestion ON skillSuggestion.id = skillSuggestionEvidence.suggestionId
                    WHERE skillSuggestionEvidence.answerId = ? AND skillSuggestion.status = 'open'
                    """), arguments: [answerID])
        for suggestion in suggestions {
            try db.executeCached(
                sql: "DELETE FROM skillSuggestionEvidence WHERE suggestionId = ? AND answerId = ?", arguments: [suggestion, answerID])
            let left =
                try Int.fetchOne(
                    db.cachedStatement(sql: "SELECT count(*) FROM skillSuggestionEvidence WHERE suggestionId = ?"), arguments: [suggestion]) ?? 0
            if left == 0 {
                try db.executeCached(sql: "DELETE FROM skillSuggestion WHERE id = ?", arguments: [suggestion])
            } else {
                try db.executeCached(
                    sql: "UPDATE skillSuggestion SET evidence = ?, deliveries = ?, updatedAt = ? WHERE id = ?",
                    arguments: [left, left, now, suggestion])
            }
        }
    }

    private static func isTagged(_ db: Database, _ specialist: Int64, _ topic: Int64) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM skill WHERE employeeId = ? AND topicId = ?)"), arguments: [specialist, topic])
            ?? false
    }

    private static func openSuggestion(_ db: Database, _ specialist: Int64, _ topic: Int64) throws -> (id: Int64, kind: SkillSuggestion.Kind)? {
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT id, kind FROM skillSuggestion WHERE employeeId = ? AND topicId = ? AND status = 'open'"),
            arguments: [specialist, topic]
        ).map { ($0["id"], SkillSuggestion.Kind(rawValue: $0["kind"]) ?? .suggested) }
    }

    /// Whether a manager dismissed the same kind of suggestion for this person and topic within the quiet period.
    private static func isQuiet(_ db: Database, _ specialist: Int64, _ topic: Int64, kind: SkillSuggestion.Kind, now: Date) throws -> Bool {
        try Bool.fetchOne(
            db.cachedStatement(
                sql: """
                    SELECT EXISTS (SELECT 1 FROM skillSuggestion WHERE employeeId = ? AND topicId = ? AND kind = ? AND status = 'dismissed'
                        AND decidedAt > ?)
                    """), arguments: [specialist, topic, kind.rawValue, now.addingTimeInterval(-SuggestionRules.dismissalQuietPeriod)]) ?? false
    }
}
