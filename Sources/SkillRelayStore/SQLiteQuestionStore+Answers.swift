import Foundation
import GRDB
import SkillRelayDomain

extension SQLiteQuestionStore {
    public func recordAnswer(delivery id: String, by handle: String, text: String, labeling: AnswerLabeling, now: Date) async throws -> AnswerResult {
        try await database.write { db in
            try Self.recordAnswer(
                db, delivery: try Self.delivery(db, id, of: handle), id: id, text: text, labeling: labeling, now: now, learning: learning)
        }
    }

    /// Records an answer to a delivery and, among the first K, relays it with its label: all in the caller's transaction.
    static func recordAnswer(
        _ db: Database, delivery: DeliveryRow, id: String, text: String, labeling: AnswerLabeling, now: Date, learning: RoutingLearning
    ) throws -> AnswerResult {
        if try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM answer WHERE deliveryId = ?)"), arguments: [delivery.id]) == true {
            throw DirectoryError.deliveryAlreadyAnswered
        }
        guard let question = try QuestionRow.fetch(db, id: delivery.questionId) else { throw DirectoryError.deliveryNotFound(id) }
        try db.executeCached(
            sql: "INSERT INTO answer (questionId, deliveryId, text, receivedAt) VALUES (?, ?, ?, ?)",
            arguments: [question.id, delivery.id, text, now])
        let answerID = db.lastInsertedRowID
        if delivery.state == .pending {
            try Self.learnOutcome(db, delivery: delivery.id, answered: true, now: now, learning: learning)
        }
        try db.executeCached(sql: "UPDATE delivery SET state = 'answered', respondedAt = ? WHERE id = ?", arguments: [now, delivery.id])
        try db.executeCached(sql: "UPDATE specialistRecord SET answered = answered + 1 WHERE employeeId = ?", arguments: [delivery.specialistId])
        try Self.reviewTag(db, specialist: delivery.specialistId, question: question.id, now: now)
        try Self.log(
            db, at: now, direction: "in", kind: "answer", sender: "employee:\(delivery.specialistId)", recipient: "skillrelay",
            questionID: question.publicId, deliveryID: id, text: text)
        // The rank is decided here, inside the write transaction: two answers racing cannot both become answer K.
        guard question.status == .open, question.relayed < question.maxAnswers else {
            return AnswerResult(
                outcome: question.status == .answered ? .alreadyAnswered : .closed, questionID: question.publicId, relayed: nil,
                closedQuestion: false)
        }
        let rank = question.relayed + 1
        try db.executeCached(sql: "UPDATE answer SET rank = ? WHERE id = ?", arguments: [rank, answerID])
        try db.executeCached(sql: "UPDATE question SET relayed = ? WHERE id = ?", arguments: [rank, question.id])
        // The label too is decided here, once, from the directory as it stands, and kept with the answer.
        let label = try Self.answererLabel(db, question: question, delivery: delivery, labeling: labeling)
        try Self.storeLabel(db, label, answer: answerID)
        let relayed = RelayedAnswer(rank: rank, alias: "specialist \(delivery.number)", label: label, text: text, receivedAt: now)
        try Self.log(
            db, at: now, direction: "out", kind: "relay", sender: "skillrelay", recipient: try Self.party(db, question.asker),
            questionID: question.publicId, deliveryID: nil, text: text)
        if question.channel == .im, let asker = try Self.recipient(db, question.asker) {
            try Self.enqueue(
                db, .answer(AnswerMessage(questionID: question.publicId, asker: asker, answer: relayed, maxAnswers: question.maxAnswers)),
                now: now)
        }
        if let url = question.callbackURL {
            try Self.enqueue(
                db, .callback(CallbackMessage(questionID: question.publicId, url: url, body: CallbackBody.answer(question.publicId, relayed))),
                now: now)
        }
        let closes = rank == question.maxAnswers
        if closes {
            var updated = question
            updated.relayed = rank
            try Self.close(db, updated, reason: .answered, now: now, learning: learning)
        }
        return AnswerResult(outcome: .relayed(rank: rank), questionID: question.publicId, relayed: relayed, closedQuestion: closes)
    }

    public func recordPass(delivery id: String, by handle: String, now: Date) async throws -> (questionID: String, nonePending: Bool) {
        try await database.write { db in
            let delivery = try Self.delivery(db, id, of: handle)
            guard let question = try QuestionRow.fetch(db, id: delivery.questionId) else { throw DirectoryError.deliveryNotFound(id) }
            guard delivery.state == .pending else {
                if delivery.state == .closed { throw DirectoryError.questionClosed(id) }
                throw DirectoryError.deliveryAlreadyAnswered
            }
            try Self.learnOutcome(db, delivery: delivery.id, answered: false, now: now, learning: learning)
            try db.executeCached(sql: "UPDATE delivery SET state = 'passed', respondedAt = ? WHERE id = ?", arguments: [now, delivery.id])
            try Self.reviewTag(db, specialist: delivery.specialistId, question: question.id, now: now)
            try Self.log(
                db, at: now, direction: "in", kind: "pass", sender: "employee:\(delivery.specialistId)", recipient: "skillrelay",
                questionID: question.publicId, deliveryID: id, text: nil)
            let pending =
                try Int.fetchOne(
                    db.cachedStatement(sql: "SELECT count(*) FROM delivery WHERE questionId = ? AND state = 'pending'"), arguments: [question.id])
                ?? 0
            let nonePending = pending == 0 && question.status == .open
            if nonePending {
                // Everyone holding it passed or answered: the next wave need not wait for the interval.
                try db.executeCached(sql: "UPDATE question SET nextActionAt = ? WHERE id = ?", arguments: [now, question.id])
            }
            return (question.publicId, nonePending)
        }
    }

    public func inbox(of handle: String, page: PageRequest) async throws -> ListPage<InboxItem> {
        try await database.read { db in
            let employee = try SQLiteDirectoryStore.employeeRecord(db, handle: handle)
            // The cursor names the last delivery shown, which must be this specialist's: its time and row are the key.
            var after: (at: DatabaseValue, id: Int64) = (Date.distantFuture.databaseValue, Int64.max)
            if let cursor = page.after {
                guard
                    let row = try Row.fetchOne(
                        db.cachedStatement(sql: "SELECT deliveredAt, id FROM delivery WHERE publicId = ? AND specialistId = ?"),
                        arguments: [cursor.keys[0], employee.id!])
                else { throw InvalidCursor() }
                after = (row[0], row[1])
            }
            let rows = try Row.fetchAll(db, sql: Self.inboxSQL, arguments: [employee.id!, after.at, after.id, page.limit + 1]).map { row in
                InboxItem(
                    id: row["publicId"], topic: TopicReference(slug: row["slug"], name: row["name"]), text: row["text"],
                    state: DeliveryState(rawValue: row["state"]) ?? .closed, questionStatus: QuestionStatus(rawValue: row["status"]) ?? .open,
                    deliveredAt: row["deliveredAt"])
            }
            var items = rows
            let threads = try Self.threads(db, deliveries: rows.map(\.id))
            let reveals = try Self.specialistReveals(db, deliveries: rows.filter { $0.state == .answered }.map(\.id))
            for index in items.indices {
                if let thread = threads[items[index].id] {
                    items[index].rank = thread.rank
                    items[index].followUps = thread.followUps
                }
                if let reveal = reveals[items[index].id] {
                    items[index].rank = reveal.rank
                    items[index].reveal = reveal.view
                }
            }
            return ListPage(rows: items, limit: page.limit, list: .inbox) { [$0.id] }
        }
    }

    /// Specialist ?1's deliveries before (time ?2, row ?3), newest first, ?4 at most: a range of `deliveryBySpecialist`.
    package static let inboxSQL = """
        SELECT delivery.publicId, delivery.state, delivery.deliveredAt, question.text, question.status, topic.slug, topic.name
        FROM delivery JOIN question ON question.id = delivery.questionId JOIN topic ON topic.id = question.topicId
        WHERE delivery.specialistId = ?1 AND delivery.deliveredAt <= ?2 AND (delivery.deliveredAt, delivery.id) < (?2, ?3)
        ORDER BY delivery.deliveredAt DESC, delivery.id DESC LIMIT ?4
        """

    // MARK: - Presence and pause

    public func setLocalPresence(_ presence: Presence, of handle: String, now: Date) async throws {
        try await database.write { db in
            let employee = try SQLiteDirectoryStore.employeeRecord(db, handle: handle)
            try db.executeCached(
                sql: """
                    INSERT INTO localPresence (employeeId, status, updatedAt) VALUES (?, ?, ?)
                    ON CONFLICT (employeeId) DO UPDATE SET status = excluded.status, updatedAt = excluded.updatedAt
                    """, arguments: [employee.id!, presence.rawValue, now])
        }
    }

    public func localPresence(of handles: [String]) async throws -> [String: Presence] {
        guard !handles.isEmpty else { return [:] }
        return try await database.read { db in
            var result = Dictionary(handles.map { ($0, Presence.offline) }, uniquingKeysWith: { first, _ in first })
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT employee.handle, localPresence.status FROM localPresence JOIN employee ON employee.id = localPresence.employeeId
                    WHERE employee.handle IN (\(databaseQuestionMarks(count: handles.count)))
                    """, arguments: StatementArguments(handles))
            for row in rows { result[row["handle"]] = Presence(rawValue: row["status"]) ?? .offline }
            return result
        }
    }

    public func setPause(of handle: String, until: Date?, now: Date) async throws {
        try await database.write { db in
            let employee = try SQLiteDirectoryStore.employeeRecord(db, handle: handle)
            try db.executeCached(sql: "UPDATE employee SET pausedUntil = ?, updatedAt = ? WHERE id = ?", arguments: [until, now, employee.id!])
        }
    }

    // MARK: - Compliance

    public func logPolicyViolation(sender: String, rule: String, kind: String, now: Date) async throws {
        try await database.write { db in
            try Self.log(
                db, at: now, direction: "in", kind: "policy_violation", sender: try Self.internalName(db, sender), recipient: "skillrelay",
                questionID: nil, deliveryID: nil, text: "\(kind) refused by rule '\(rule)'; text not kept")
        }
    }

    public func complianceEntries(since: Date, until: Date?) async throws -> [ComplianceEntry] {
        try await database.read { db in
            try Row.fetchAll(
                db.cachedStatement(sql: "SELECT * FROM complianceEntry WHERE at >= ? AND (? IS NULL OR at < ?) ORDER BY at, id"),
                arguments: [since, until, until]
            ).map { row in
                ComplianceEntry(
                    at: row["at"], direction: row["direction"], kind: row["kind"], sender: row["sender"], recipient: row["recipient"],
                    questionID: row["questionId"], deliveryID: row["deliveryId"], text: row["text"])
            }
        }
    }

    public func purgeCompliance(before: Date) async throws -> Int {
        try await database.write { db in
            try db.executeCached(sql: "DELETE FROM complianceEntry WHERE at < ?", arguments: [before])
            return db.changesCount
        }
    }

    // MARK: - Outbox

    public func purgeOutbox(before: Date) async throws -> Int {
        var total = 0
        // In slices, each its own short transaction: a first purge may meet millions of rows, and the ask path's
        // writes must not wait for all of them. The oldest rows come first in rowid order, so each slice finds its
        // rows at once.
        while true {
            let deleted = try await database.write { db in
                try db.executeCached(
                    sql: """
                        DELETE FROM outbox WHERE id IN (
                            SELECT id FROM outbox WHERE sentAt < ? OR failedAt < ? LIMIT 5000
                        )
                        """, arguments: [before, before])
                return db.changesCount
            }
            total += deleted
            if deleted < 5000 { return total }
        }
    }

    /// The due messages in queueing order, leaving out those queued behind a message to the same destination that
    /// waits for its retry. Read by `outboxDueById`, each destination's earlier messages by `outboxPendingByDestination`.
    /// (`Scripts/claim-held-back.sh` times a copy of it: change both.)
    static func pendingOutboxSQL(excluding count: Int = 0) -> String {
        """
        SELECT id, message, attempts, createdAt, nextAttemptAt > createdAt AS deferred FROM outbox AS due
        WHERE sentAt IS NULL AND failedAt IS NULL AND nextAttemptAt <= :now
        AND NOT EXISTS (
            SELECT 1 FROM outbox AS earlier
            WHERE earlier.destination = due.destination AND earlier.id < due.id
            AND earlier.sentAt IS NULL AND earlier.failedAt IS NULL AND earlier.nextAttemptAt > :now
        )
        \(count == 0 ? "" : "AND destination NOT IN (" + (1...count).map { ":busy\($0)" }.joined(separator: ", ") + ")")
        ORDER BY id LIMIT :limit
        """
    }

    public func pendingOutbox(now: Date, limit: Int, excluding destinations: Set<String>) async throws -> [OutboxItem] {
        let sql = Self.pendingOutboxSQL(excluding: destinations.count)
        return try await database.read { db in
            var arguments: [String: (any DatabaseValueConvertible)?] = ["now": now.storedValue, "limit": limit]
            for (index, destination) in destinations.enumerated() { arguments["busy\(index + 1)"] = destination }
            return try Row.fetchAll(db.cachedStatement(sql: sql), arguments: StatementArguments(arguments)).compactMap { row in
                guard let message = try? JSONDecoder().decode(OutboxMessage.self, from: Data((row["message"] as String).utf8)) else { return nil }
                return OutboxItem(
                    id: row["id"], message: message, attempts: row["attempts"], createdAt: row["createdAt"], deferred: row["deferred"])
            }
        }
    }

    public func markOutboxSent(_ ids: [Int64], references: [String: String], now: Date) async throws {
        try await database.write { db in
            let sent = try db.cachedStatement(sql: "UPDATE outbox SET sentAt = ?, attempts = attempts + 1 WHERE id = ?")
            let sentAt = now.storedValue
            for id in ids { try sent.execute(arguments: [sentAt, id]) }
            try Self.keepReferences(db, references, now: now, replacing: true)
        }
    }

    /// Keeps the IM's references of sent messages by `OutboxMessage.referenceKey`: a question's with its delivery, a
    /// thread message's with its answer's thread. Without `replacing`, a reference already kept stays as it is (with
    /// the time it was kept, which orders a thread's messages).
    static func keepReferences(_ db: Database, _ references: [String: String], now: Date, replacing: Bool) throws {
        let reference = try db.cachedStatement(
            sql: "UPDATE delivery SET imReference = ? WHERE publicId = ?" + (replacing ? "" : " AND imReference IS NULL"))
        for (key, event) in references {
            if let thread = ThreadReferenceKey(key) {
                try keepThreadReference(db, key: thread, reference: event, now: now, replacing: replacing)
            } else {
                try reference.execute(arguments: [event, key])
            }
        }
    }

    /// Nothing to renew: one process owns a SQLite outbox, and its messages are never claimed.
    public func renewOutboxClaims(_ ids: [Int64], now: Date) async throws {}

    public var outboxClaimLease: TimeInterval? { nil }

    /// Nothing to give back: one process owns a SQLite database, and claims nothing.
    public func releaseClaims(now: Date) async throws {}

    public func markOutboxFailed(_ id: Int64, error: String, retryAt: Date?) async throws {
        let now = clock.now()
        try await database.write { db in
            if let retryAt {
                try db.executeCached(
                    sql: "UPDATE outbox SET attempts = attempts + 1, lastError = ?, nextAttemptAt = ? WHERE id = ?", arguments: [error, retryAt, id])
                return
            }
            try db.executeCached(
                sql: "UPDATE outbox SET attempts = attempts + 1, lastError = ?, failedAt = ? WHERE id = ?", arguments: [error, now, id])
            // Given up: the compliance log says which message never arrived, to whom, and why.
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT message, attempts FROM outbox WHERE id = ?"), arguments: [id]),
                let message = try? JSONDecoder().decode(OutboxMessage.self, from: Data((row["message"] as String).utf8))
            else { return }
            let (questionID, deliveryID) = message.references
            let destination = message.destination
            let recipient = destination.hasPrefix("person:") ? "employee:" + destination.dropFirst("person:".count) : destination
            try Self.log(
                db, at: now, direction: "out", kind: "undelivered", sender: "skillrelay",
                recipient: (try? Self.internalName(db, recipient)) ?? recipient, questionID: questionID, deliveryID: deliveryID,
                text: "gave up after \(row["attempts"] as Int) tries: \(error)")
        }
    }

    public func deferOutbox(_ id: Int64, until: Date, reason: String) async throws {
        try await database.write { db in
            try db.executeCached(sql: "UPDATE outbox SET lastError = ?, nextAttemptAt = ? WHERE id = ?", arguments: [reason, until, id])
        }
    }

    public func nextDueTime() async throws -> Date? {
        try await database.read { db in
            let question = try Date.fetchOne(db.cachedStatement(sql: "SELECT min(nextActionAt) FROM question WHERE status = 'open'"))
            let outbox = try Date.fetchOne(db.cachedStatement(sql: "SELECT min(nextAttemptAt) FROM outbox WHERE sentAt IS NULL AND failedAt IS NULL"))
            let held = try Date.fetchOne(db.cachedStatement(sql: "SELECT min(relayAt) FROM heldAnswer WHERE state = 'held'"))
            return [question, outbox, held].compactMap { $0 }.min()
        }
    }
}
