import Foundation
import PostgresNIO
import SkillRelayDomain

extension PostgresQuestionStore {
    /// Records an answer to a delivery and, among the first K, relays it with its label: all in the caller's transaction.
    static func recordAnswer(
        _ connection: PostgresConnection, delivery: DeliveryRow, id: String, text: String, labeling: AnswerLabeling, now: Date,
        learning: RoutingLearning
    ) async throws -> AnswerResult {
        if try await value(connection, "SELECT EXISTS (SELECT 1 FROM answer WHERE deliveryId = \(delivery.id))", as: Bool.self) == true {
            throw DirectoryError.deliveryAlreadyAnswered
        }
        guard let question = try await QuestionRow.fetch(connection, id: delivery.questionId) else { throw DirectoryError.deliveryNotFound(id) }
        guard
            let answerID = try await value(
                connection,
                "INSERT INTO answer (questionId, deliveryId, text, receivedAt) VALUES (\(question.id), \(delivery.id), \(text), \(now)) RETURNING id",
                as: Int64.self)
        else { throw DirectoryError.deliveryNotFound(id) }
        if delivery.state == .pending {
            try await learnOutcome(connection, delivery: delivery.id, answered: true, now: now, learning: learning)
        }
        try await execute(connection, "UPDATE delivery SET state = 'answered', respondedAt = \(now) WHERE id = \(delivery.id)")
        try await execute(connection, "UPDATE specialistRecord SET answered = answered + 1 WHERE employeeId = \(delivery.specialistId)")
        try await reviewTag(connection, specialist: delivery.specialistId, question: question.id, now: now)
        try await log(
            connection, at: now, direction: "in", kind: "answer", sender: "employee:\(delivery.specialistId)", recipient: "skillrelay",
            questionID: question.publicId, deliveryID: id, text: text)
        // The rank is decided here, inside the write transaction: two answers racing cannot both become answer K.
        guard question.status == .open, question.relayed < question.maxAnswers else {
            return AnswerResult(
                outcome: question.status == .answered ? .alreadyAnswered : .closed, questionID: question.publicId, relayed: nil,
                closedQuestion: false)
        }
        let rank = question.relayed + 1
        try await execute(connection, "UPDATE answer SET rank = \(rank) WHERE id = \(answerID)")
        try await execute(connection, "UPDATE question SET relayed = \(rank) WHERE id = \(question.id)")
        // The label too is decided here, once, from the directory as it stands, and kept with the answer.
        let label = try await answererLabel(connection, question: question, delivery: delivery, labeling: labeling)
        try await storeLabel(connection, label, answer: answerID)
        let relayed = RelayedAnswer(rank: rank, alias: "specialist \(delivery.number)", label: label, text: text, receivedAt: now)
        try await log(
            connection, at: now, direction: "out", kind: "relay", sender: "skillrelay", recipient: try await party(connection, question.asker),
            questionID: question.publicId, deliveryID: nil, text: text)
        if question.channel == .im, let asker = try await recipient(connection, question.asker) {
            try await enqueue(
                connection, .answer(AnswerMessage(questionID: question.publicId, asker: asker, answer: relayed, maxAnswers: question.maxAnswers)),
                now: now)
        }
        if let url = question.callbackURL {
            try await enqueue(
                connection,
                .callback(CallbackMessage(questionID: question.publicId, url: url, body: CallbackBody.answer(question.publicId, relayed))), now: now)
        }
        let closes = rank == question.maxAnswers
        if closes {
            var updated = question
            updated.relayed = rank
            try await close(connection, updated, reason: .answered, now: now, learning: learning)
        }
        return AnswerResult(outcome: .relayed(rank: rank), questionID: question.publicId, relayed: relayed, closedQuestion: closes)
    }
}

extension PostgresQuestionStore {
    public func recordAnswer(delivery id: String, by handle: String, text: String, labeling: AnswerLabeling, now: Date) async throws -> AnswerResult {
        try await write { connection in
            try await Self.recordAnswer(
                connection, delivery: try await Self.delivery(connection, id, of: handle), id: id, text: text, labeling: labeling, now: now,
                learning: learning)
        }
    }

    public func recordPass(delivery id: String, by handle: String, now: Date) async throws -> (questionID: String, nonePending: Bool) {
        let (questionID, nonePending) = try await write { connection in
            let delivery = try await Self.delivery(connection, id, of: handle)
            guard let question = try await QuestionRow.fetch(connection, id: delivery.questionId) else { throw DirectoryError.deliveryNotFound(id) }
            guard delivery.state == .pending else {
                if delivery.state == .closed { throw DirectoryError.questionClosed(id) }
                throw DirectoryError.deliveryAlreadyAnswered
            }
            try await Self.learnOutcome(connection, delivery: delivery.id, answered: false, now: now, learning: learning)
            try await Self.execute(connection, "UPDATE delivery SET state = 'passed', respondedAt = \(now) WHERE id = \(delivery.id)")
            try await Self.reviewTag(connection, specialist: delivery.specialistId, question: question.id, now: now)
            try await Self.log(
                connection, at: now, direction: "in", kind: "pass", sender: "employee:\(delivery.specialistId)", recipient: "skillrelay",
                questionID: question.publicId, deliveryID: id, text: nil)
            let pending =
                try await Self.value(
                    connection, "SELECT count(*) FROM delivery WHERE questionId = \(question.id) AND state = 'pending'", as: Int.self) ?? 0
            let nonePending = pending == 0 && question.status == .open
            if nonePending {
                // Everyone holding it passed or answered: the next wave need not wait for the interval.
                try await Self.execute(connection, "UPDATE question SET nextActionAt = \(now) WHERE id = \(question.id)")
            }
            return (question.publicId, nonePending)
        }
        return (questionID, nonePending)
    }

    public func inbox(of handle: String, page: PageRequest) async throws -> ListPage<InboxItem> {
        // One statement (`InboxPage`): the person, the cursor's place, the page, and each delivery's thread and reveal,
        // in one round trip instead of five, and without a transaction: one statement sees one snapshot.
        let rows = try await database.withoutTransaction { connection in
            try await connection.rows(
                PreparedQuery<InboxPage> {
                    $0.append(handle)
                    $0.append(page.after?.keys[0])
                    $0.append(page.limit + 1)
                })
        }
        guard let first = rows.first else { throw DirectoryError.employeeNotFound(handle) }
        let (known, cursorFound) = try first.decode((Bool, Bool).self)
        guard known else { throw DirectoryError.employeeNotFound(handle) }
        // The cursor names the last delivery shown, which must be this specialist's.
        guard cursorFound else { throw InvalidCursor() }
        var items: [InboxItem] = []
        for row in rows {
            let (
                _, _, id, state, deliveredAt, number, text, status, slug, name, rank, offeredBy, revealState, askerName, askerIMID, senders, texts,
                sentAts
            ) =
                try row.decode(
                    (
                        Bool, Bool, String?, String?, Date?, Int?, String?, String?, String?, String?, Int?, String?, String?, String?, String?,
                        [String]?, [String]?, [Date]?
                    ).self)
            // A specialist with no deliveries (on this page) still has the one row that says they exist.
            guard let id, let state, let deliveredAt, let number, let text, let status, let slug, let name else { continue }
            var item = InboxItem(
                id: id, topic: TopicReference(slug: slug, name: name), text: text, state: DeliveryState(rawValue: state) ?? .closed,
                questionStatus: QuestionStatus(rawValue: status) ?? .open, deliveredAt: deliveredAt)
            // A relayed answer has a thread; once answered, revealing with the asker stands somewhere.
            if let rank {
                item.rank = rank
                let (senders, texts, sentAts) = (senders ?? [], texts ?? [], sentAts ?? [])
                item.followUps = senders.indices.map { index in
                    Self.followUp(
                        rank: rank, from: FollowUpSide(rawValue: senders[index]) ?? .asker, seenBy: .specialist, number: number,
                        text: texts[index], at: sentAts[index])
                }
                if item.state == .answered {
                    var reveal: RevealRow?
                    if let offeredBy, let side = RevealSide(rawValue: offeredBy), let state = revealState.flatMap(RevealRow.State.init(rawValue:)) {
                        reveal = RevealRow(offeredBy: side, state: state)
                    }
                    item.reveal = Self.view(reveal, for: .specialist, other: RevealedPerson(name: askerName ?? "", imID: askerIMID))
                }
            }
            items.append(item)
        }
        return ListPage(rows: items, limit: page.limit, list: .inbox) { [$0.id] }
    }

    // MARK: - Presence and pause

    public func setLocalPresence(_ presence: Presence, of handle: String, now: Date) async throws {
        try await write { connection in
            let employee = try await Self.employee(connection, handle: handle)
            try await Self.execute(
                connection,
                """
                INSERT INTO localPresence (employeeId, status, updatedAt) VALUES (\(employee.id), \(presence.rawValue), \(now))
                ON CONFLICT (employeeId) DO UPDATE SET status = excluded.status, updatedAt = excluded.updatedAt
                """)
        }
    }

    public func localPresence(of handles: [String]) async throws -> [String: Presence] {
        guard !handles.isEmpty else { return [:] }
        return try await database.withoutTransaction { connection in
            var result = Dictionary(handles.map { ($0, Presence.offline) }) { first, _ in first }
            for row in try await Self.rows(
                connection,
                """
                SELECT employee.handle, localPresence.status FROM localPresence JOIN employee ON employee.id = localPresence.employeeId
                WHERE employee.handle = ANY(\(handles))
                """)
            {
                let (handle, status) = try row.decode((String, String).self)
                result[handle] = Presence(rawValue: status) ?? .offline
            }
            return result
        }
    }

    public func setPause(of handle: String, until: Date?, now: Date) async throws {
        try await write { connection in
            let employee = try await Self.employee(connection, handle: handle)
            try await Self.execute(connection, "UPDATE employee SET pausedUntil = \(until), updatedAt = \(now) WHERE id = \(employee.id)")
        }
    }

    // MARK: - Compliance

    public func logPolicyViolation(sender: String, rule: String, kind: String, now: Date) async throws {
        try await write { connection in
            try await Self.log(
                connection, at: now, direction: "in", kind: "policy_violation", sender: try await Self.internalName(connection, sender),
                recipient: "skillrelay", questionID: nil, deliveryID: nil, text: "\(kind) refused by rule '\(rule)'; text not kept")
        }
    }

    public func complianceEntries(since: Date, until: Date?) async throws -> [ComplianceEntry] {
        try await database.withoutTransaction { connection in
            try await Self.rows(
                connection,
                """
                SELECT at, direction, kind, sender, recipient, questionId, deliveryId, text FROM complianceEntry
                WHERE at >= \(since) AND (\(until)::timestamptz IS NULL OR at < \(until)::timestamptz) ORDER BY at, id
                """
            ).map { row in
                let (at, direction, kind, sender, recipient, questionID, deliveryID, text) = try row.decode(
                    (Date, String, String, String, String, String?, String?, String?).self)
                return ComplianceEntry(
                    at: at, direction: direction, kind: kind, sender: sender, recipient: recipient, questionID: questionID,
                    deliveryID: deliveryID, text: text)
            }
        }
    }

    public func purgeCompliance(before: Date) async throws -> Int {
        try await write { connection in
            try await Self.value(
                connection, "WITH purged AS (DELETE FROM complianceEntry WHERE at < \(before) RETURNING 1) SELECT count(*) FROM purged",
                as: Int.self) ?? 0
        }
    }

    // MARK: - Outbox

    public func purgeOutbox(before: Date) async throws -> Int {
        var total = 0
        // In slices, each its own short transaction: a first purge may meet millions of rows, and the ask path's
        // writes must not wait for all of them.
        while true {
            let deleted = try await write { connection in
                try await Self.value(
                    connection,
                    """
                    WITH purged AS (
                        DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE sentAt < \(before) OR failedAt < \(before) LIMIT 5000)
                        RETURNING 1
                    )
                    SELECT count(*) FROM purged
                    """, as: Int.self) ?? 0
            }
            total += deleted
            if deleted < 5000 { return total }
        }
    }

    /// Claims what it returns: the due messages in queueing order, leaving out those queued behind a message to the
    /// same destination that waits for its retry or that another instance holds, are leased to this instance for
    /// `claimLease` (cleared when they are marked). Two instances draining at once never get the same message, nor
    /// two messages of one destination; a dead instance's claims are taken up after the lease.
    ///
    /// Which messages are held back is decided from the held-back messages themselves, read first into a map from each
    /// destination to its first (`claimOutbox`, migration "pg v16"), then one pass over the due messages in queueing
    /// order, each looked up in it: whatever the table's statistics say, and however many destinations wait at once.
    /// Planned from the statistics of an outbox that was empty when last analysed (a new deployment, a fresh copy, until
    /// autovacuum looks again a minute later), a check for each message read every unsent message again for each one
    /// it considered, first as a join (92 ms a claim on average and up to 1.9 s in figure-3 runs on a fresh copy, the
    /// drain 9 to 27 s behind after the load), then, as a subquery meant to probe the destination's index, through a
    /// range of the id index (24 to 73 ms a claim).
    public func pendingOutbox(now: Date, limit: Int, excluding destinations: Set<String>) async throws -> [OutboxItem] {
        let mine = claims.outbox(at: now)
        let rows = try await database.withoutTransaction { connection in
            try await connection.rows(Self.outboxClaim(now: now, limit: limit, mine: mine, excluding: destinations))
                .map { try $0.decode((Int64, String, Int, Date, Bool).self) }
        }
        claims.holdOutbox(rows.map(\.0), until: now.addingTimeInterval(Self.claimLease))
        return rows.sorted { $0.0 < $1.0 }.compactMap { id, json, attempts, createdAt, deferred in
            guard let message = try? JSONDecoder().decode(OutboxMessage.self, from: Data(json.utf8)) else { return nil }
            return OutboxItem(id: id, message: message, attempts: attempts, createdAt: createdAt, deferred: deferred)
        }
    }

    /// `pendingOutbox`'s claim, for an instance holding the claims `mine`: one statement, `claimOutbox` (migration
    /// "pg v11", one pass since "pg v15", the held-back destinations looked up since "pg v16"), which takes
    /// `outboxClaimLock` itself. Returns each claimed message's id, message, attempts, queueing time and whether it was
    /// put off.
    static func outboxClaim(now: Date, limit: Int, mine: [Int64], excluding destinations: Set<String>) -> PreparedQuery<OutboxClaim> {
        PreparedQuery {
            $0.append(outboxClaimLock)
            $0.append(now)
            $0.append(limit)
            $0.append(mine)
            $0.append(Array(destinations))
            $0.append(now.addingTimeInterval(claimLease))
        }
    }

    /// Without the write lock: the messages are this instance's claims, and keeping their references writes each
    /// delivery's or thread's own row, as the IM's echoes of the same messages do (with the same references).
    public func markOutboxSent(_ ids: [Int64], references: [String: String], now: Date) async throws {
        guard references.keys.contains(where: { ThreadReferenceKey($0) != nil }) else {
            // Only questions' references (a drain of questions): the marks and the references in one statement,
            // `markQuestionsSent` (migration "pg v15"), the references in the keys' order (see `keepReferences`).
            let sent = references.sorted { $0.key < $1.key }
            try await database.withoutTransaction { connection in
                _ = try await connection.rows(
                    PreparedQuery<QuestionsSentMark> {
                        $0.append(ids)
                        $0.append(now)
                        $0.append(sent.map(\.key))
                        $0.append(sent.map(\.value))
                    })
            }
            claims.releaseOutbox(ids)
            return
        }
        try await writeClaimed { connection in
            try await Self.execute(
                connection, "UPDATE outbox SET sentAt = \(now), attempts = attempts + 1, claimedUntil = NULL WHERE id = ANY(\(ids))")
            try await Self.keepReferences(connection, references, now: now, replacing: true)
        }
        claims.releaseOutbox(ids)
    }

    public var outboxClaimLease: TimeInterval? { Self.claimLease }

    public func releaseClaims(now: Date) async throws {
        // Only claims still this instance's, as for a renewal; a row marked meanwhile (sent, given up, a wave recorded)
        // has no claim left to give back.
        let outbox = claims.outbox(at: now)
        let questions = claims.questions(at: now)
        guard !outbox.isEmpty || !questions.isEmpty else { return }
        try await writeClaimed { connection in
            try await Self.execute(
                connection, "UPDATE outbox SET claimedUntil = NULL WHERE id = ANY(\(outbox)) AND sentAt IS NULL AND failedAt IS NULL")
            try await Self.execute(connection, "UPDATE question SET claimedUntil = NULL WHERE publicId = ANY(\(questions))")
        }
        claims.releaseOutbox(outbox)
        claims.releaseQuestions(questions)
    }

    public func renewOutboxClaims(_ ids: [Int64], now: Date) async throws {
        // Only claims still this instance's: one that lapsed may be another instance's by now.
        let held = Set(claims.outbox(at: now))
        let renewing = ids.filter(held.contains)
        guard !renewing.isEmpty else { return }
        let until = now.addingTimeInterval(Self.claimLease)
        let renewed = try await claiming(Self.outboxClaimLock) { connection in
            try await Self.rows(
                connection,
                """
                UPDATE outbox SET claimedUntil = \(until)
                WHERE id = ANY(\(renewing)) AND sentAt IS NULL AND failedAt IS NULL
                RETURNING id
                """
            ).map { try $0.decode(Int64.self) }
        }
        claims.extendOutbox(renewed, until: until)
    }

    /// Keeps the IM's references of sent messages by `OutboxMessage.referenceKey`: a question's with its delivery, a
    /// thread message's with its answer's thread. Without `replacing`, a reference already kept stays as it is (with
    /// the time it was kept, which orders a thread's messages).
    static func keepReferences(_ connection: PostgresConnection, _ references: [String: String], now: Date, replacing: Bool) async throws {
        var deliveries: (keys: [String], events: [String]) = ([], [])
        // In the keys' order: a drain's marks and the IM's echoes, which may keep the same references at once, take their
        // rows' locks in one order and so never wait for each other in a circle.
        for (key, event) in references.sorted(by: { $0.key < $1.key }) {
            if let thread = ThreadReferenceKey(key) {
                try await keepThreadReference(connection, key: thread, reference: event, now: now, replacing: replacing)
            } else {
                deliveries.keys.append(key)
                deliveries.events.append(event)
            }
        }
        // The questions' references, however many a drain sent, in one round trip.
        guard !deliveries.keys.isEmpty else { return }
        try await execute(
            connection,
            """
            UPDATE delivery SET imReference = sent.event
            FROM unnest(\(deliveries.keys)::text[], \(deliveries.events)::text[]) AS sent(key, event)
            WHERE delivery.publicId = sent.key AND (\(replacing) OR delivery.imReference IS NULL)
            """)
    }

    public func markOutboxFailed(_ id: Int64, error: String, retryAt: Date?) async throws {
        let now = clock.now()
        try await write { connection in
            if let retryAt {
                try await Self.execute(
                    connection,
                    "UPDATE outbox SET attempts = attempts + 1, lastError = \(error), nextAttemptAt = \(retryAt), claimedUntil = NULL WHERE id = \(id)"
                )
                try await releaseBehind(connection, id)
                return
            }
            try await Self.execute(
                connection, "UPDATE outbox SET attempts = attempts + 1, lastError = \(error), failedAt = \(now), claimedUntil = NULL WHERE id = \(id)"
            )
            try await releaseBehind(connection, id)
            // Given up: the compliance log says which message never arrived, to whom, and why.
            guard let row = try await Self.rows(connection, "SELECT message, attempts FROM outbox WHERE id = \(id)").first else { return }
            let (json, attempts) = try row.decode((String, Int).self)
            guard let message = try? JSONDecoder().decode(OutboxMessage.self, from: Data(json.utf8)) else { return }
            let (questionID, deliveryID) = message.references
            let destination = message.destination
            let recipient = destination.hasPrefix("person:") ? "employee:" + destination.dropFirst("person:".count) : destination
            let named = (try? await Self.internalName(connection, recipient)) ?? recipient
            try await Self.log(
                connection, at: now, direction: "out", kind: "undelivered", sender: "skillrelay", recipient: named, questionID: questionID,
                deliveryID: deliveryID, text: "gave up after \(attempts) tries: \(error)")
        }
        claims.releaseOutbox([id])
    }

    public func deferOutbox(_ id: Int64, until: Date, reason: String) async throws {
        try await write { connection in
            try await Self.execute(
                connection, "UPDATE outbox SET lastError = \(reason), nextAttemptAt = \(until), claimedUntil = NULL WHERE id = \(id)")
            try await releaseBehind(connection, id)
        }
        claims.releaseOutbox([id])
    }

    /// A message that failed or was put off stops its destination's worker: the messages this instance claimed behind
    /// it were never tried, and go back to the queue (held back behind it while it waits, due at once if it was given up).
    private func releaseBehind(_ connection: PostgresConnection, _ id: Int64) async throws {
        let mine = claims.outbox(at: clock.now()).filter { $0 > id }
        guard !mine.isEmpty else { return }
        let released = try await Self.rows(
            connection,
            """
            UPDATE outbox SET claimedUntil = NULL
            WHERE id = ANY(\(mine)) AND sentAt IS NULL AND failedAt IS NULL
                AND destination = (SELECT destination FROM outbox WHERE id = \(id))
            RETURNING id
            """
        ).map { try $0.decode(Int64.self) }
        claims.releaseOutbox(released)
    }

    /// When the earliest open question, outbox message or held answer is next due; a row another instance holds is due
    /// when its lease ends (this instance's own claims count as SQLite's rows would).
    public func nextDueTime() async throws -> Date? {
        let now = clock.now()
        let (questions, outbox) = (claims.questions(at: now), claims.outbox(at: now))
        // One statement, so no transaction: one round trip where a read transaction of three statements made five.
        return try await database.withoutTransaction { connection in
            guard
                let row = try await Self.rows(
                    connection,
                    """
                    SELECT
                        (SELECT min(CASE WHEN claimedUntil > nextActionAt AND NOT publicId = ANY(\(questions)) THEN claimedUntil ELSE nextActionAt END)
                            FROM question WHERE status = 'open'),
                        (SELECT min(CASE WHEN claimedUntil > nextAttemptAt AND NOT id = ANY(\(outbox)) THEN claimedUntil ELSE nextAttemptAt END)
                            FROM outbox WHERE sentAt IS NULL AND failedAt IS NULL),
                        (SELECT min(relayAt) FROM heldAnswer WHERE state = 'held')
                    """
                ).first
            else { return nil }
            let (question, message, held) = try row.decode((Date?, Date?, Date?).self)
            return [question, message, held].compactMap { $0 }.min()
        }
    }
}

/// The outbox's claim (`PostgresQuestionStore.outboxClaim`).
enum OutboxClaim: PreparedSQL {
    static let name = "skillrelay_outbox_claim_v1"
    static let sql = """
        SELECT claimedId, claimedMessage, claimedAttempts, claimedCreatedAt, deferred
        FROM claimOutbox($1::bigint, $2::timestamptz, $3::bigint, $4::bigint[], $5::text[], $6::timestamptz)
        """
}

/// The marks of a drain that sent only questions, with each delivery's IM reference (`markOutboxSent`).
enum QuestionsSentMark: PreparedSQL {
    static let name = "skillrelay_questions_sent_v1"
    static let sql = "SELECT markQuestionsSent($1::bigint[], $2::timestamptz, $3::text[], $4::text[])"
}
