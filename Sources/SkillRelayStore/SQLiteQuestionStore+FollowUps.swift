import Foundation
import GRDB
import SkillRelayDomain

/// One answer's thread: the question, the answer and the specialist who gave it.
struct ThreadRow {
    var question: QuestionRow
    var answerId: Int64
    var rank: Int
    var deliveryId: Int64
    var deliveryPublicId: String
    var number: Int
    var specialistId: Int64
    var specialist: Recipient
    /// The IM's reference of the question as delivered to the specialist.
    var questionReference: String?
}

extension SQLiteQuestionStore {
    public func recordFollowUp(by author: FollowUpAuthor, text: String, openFor: TimeInterval, now: Date) async throws -> RecordedFollowUp {
        try await database.write { db in
            let thread = try Self.thread(db, of: author)
            let question = thread.question
            if let closedAt = question.closedAt, now >= closedAt.addingTimeInterval(openFor) {
                throw DirectoryError.threadClosed(question.publicId)
            }
            let side = author.side
            try db.executeCached(
                sql: "INSERT INTO followUp (questionId, answerId, sender, text, sentAt) VALUES (?, ?, ?, ?, ?)",
                arguments: [question.id, thread.answerId, side.rawValue, text, now])
            let recorded = RecordedFollowUp(
                questionID: question.publicId, deliveryID: thread.deliveryPublicId, specialistHandle: thread.specialist.handle,
                askerView: Self.followUp(rank: thread.rank, from: side, seenBy: .asker, number: thread.number, text: text, at: now),
                specialistView: Self.followUp(rank: thread.rank, from: side, seenBy: .specialist, number: thread.number, text: text, at: now))
            let asker = try Self.party(db, question.asker)
            let specialist = "employee:\(thread.specialistId)"
            let (sender, recipient) = side == .asker ? (asker, specialist) : (specialist, asker)
            try Self.log(
                db, at: now, direction: "in", kind: "follow_up", sender: sender, recipient: "skillrelay", questionID: question.publicId,
                deliveryID: thread.deliveryPublicId, text: text)
            try Self.log(
                db, at: now, direction: "out", kind: "follow_up_relay", sender: "skillrelay", recipient: recipient, questionID: question.publicId,
                deliveryID: side == .asker ? thread.deliveryPublicId : nil, text: text)
            switch side {
            case .asker:
                let replyTo = try Self.latestReference(db, answer: thread.answerId, side: .specialist) ?? thread.questionReference
                try Self.enqueue(
                    db,
                    .followUp(
                        FollowUpMessage(
                            questionID: question.publicId, deliveryID: thread.deliveryPublicId, recipient: thread.specialist, topic: question.topic,
                            followUp: recorded.specialistView, replyTo: replyTo)), now: now)
            case .specialist:
                if question.channel == .im, let askerRecipient = try Self.recipient(db, question.asker) {
                    try Self.enqueue(
                        db,
                        .followUp(
                            FollowUpMessage(
                                questionID: question.publicId, deliveryID: nil, recipient: askerRecipient, topic: question.topic,
                                followUp: recorded.askerView, replyTo: try Self.latestReference(db, answer: thread.answerId, side: .asker))),
                        now: now)
                }
                if let url = question.callbackURL {
                    try Self.enqueue(
                        db,
                        .callback(
                            CallbackMessage(
                                questionID: question.publicId, url: url, body: CallbackBody.followUp(question.publicId, recorded.askerView))),
                        now: now)
                }
            }
            return recorded
        }
    }

    public func thread(forMessageReference reference: String) async throws -> ThreadReference? {
        try await database.read { db in
            try Row.fetchOne(
                db,
                // A relayed answer or follow-up SkillRelay sent; or the question as delivered to a specialist whose answer
                // to it was relayed, which their thread continues.
                sql: """
                    SELECT question.publicId AS questionId, answer.rank, threadReference.side, delivery.publicId AS deliveryId
                    FROM threadReference JOIN answer ON answer.id = threadReference.answerId
                    JOIN question ON question.id = answer.questionId JOIN delivery ON delivery.id = answer.deliveryId
                    WHERE threadReference.reference = ?1 AND answer.rank IS NOT NULL
                    UNION ALL
                    SELECT question.publicId, answer.rank, 'specialist', delivery.publicId
                    FROM delivery JOIN answer ON answer.deliveryId = delivery.id JOIN question ON question.id = delivery.questionId
                    WHERE delivery.imReference = ?1 AND answer.rank IS NOT NULL
                    LIMIT 1
                    """, arguments: [reference]
            ).map { row in
                ThreadReference(
                    questionID: row["questionId"], rank: row["rank"], side: FollowUpSide(rawValue: row["side"]) ?? .asker,
                    deliveryID: row["deliveryId"])
            }
        }
    }

    public func openThreads(of asker: Asker, openFor: TimeInterval, now: Date) async throws -> [OpenThreads] {
        try await database.read { db in
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT question.publicId, topic.slug, topic.name, answer.rank, delivery.number
                        FROM question JOIN topic ON topic.id = question.topicId
                        JOIN answer ON answer.questionId = question.id AND answer.rank IS NOT NULL
                        JOIN delivery ON delivery.id = answer.deliveryId
                        WHERE question.askerKey = ? AND question.relayed > 0 AND (question.closedAt IS NULL OR question.closedAt > ?)
                        ORDER BY question.id DESC, answer.rank
                        """), arguments: [Self.askerKey(asker), now.addingTimeInterval(-openFor)])
            var threads: [OpenThreads] = []
            for row in rows {
                let id: String = row["publicId"]
                let answer = (rank: row["rank"] as Int, alias: "specialist \(row["number"] as Int)")
                if threads.last?.questionID == id {
                    threads[threads.count - 1].answers.append(answer)
                } else {
                    threads.append(OpenThreads(questionID: id, topic: TopicReference(slug: row["slug"], name: row["name"]), answers: [answer]))
                }
            }
            return threads
        }
    }

    // MARK: - Reading threads

    /// Every follow-up of a question's threads, oldest first, as the asker sees them.
    static func followUps(_ db: Database, question: Int64) throws -> [FollowUp] {
        try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT answer.rank, delivery.number, followUp.sender, followUp.text, followUp.sentAt
                    FROM followUp JOIN answer ON answer.id = followUp.answerId JOIN delivery ON delivery.id = answer.deliveryId
                    WHERE followUp.questionId = ? ORDER BY followUp.id
                    """), arguments: [question]
        ).map { followUp($0, seenBy: .asker) }
    }

    /// The threads of some of a specialist's deliveries: each relayed answer's rank and its follow-ups, oldest first,
    /// as the specialist sees them; by delivery id.
    static func threads(_ db: Database, deliveries: [String]) throws -> [String: (rank: Int, followUps: [FollowUp])] {
        guard !deliveries.isEmpty else { return [:] }
        var threads: [String: (rank: Int, followUps: [FollowUp])] = [:]
        let marks = databaseQuestionMarks(count: deliveries.count)
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT delivery.publicId, answer.rank FROM answer JOIN delivery ON delivery.id = answer.deliveryId
                WHERE delivery.publicId IN (\(marks)) AND answer.rank IS NOT NULL
                """, arguments: StatementArguments(deliveries))
        {
            threads[row["publicId"]] = (row["rank"], [])
        }
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT delivery.publicId, answer.rank, delivery.number, followUp.sender, followUp.text, followUp.sentAt
                FROM followUp JOIN answer ON answer.id = followUp.answerId JOIN delivery ON delivery.id = answer.deliveryId
                WHERE delivery.publicId IN (\(marks)) ORDER BY followUp.id
                """, arguments: StatementArguments(deliveries))
        {
            threads[row["publicId"]]?.followUps.append(followUp(row, seenBy: .specialist))
        }
        return threads
    }

    private static func followUp(_ row: Row, seenBy viewer: FollowUpSide) -> FollowUp {
        followUp(
            rank: row["rank"], from: FollowUpSide(rawValue: row["sender"]) ?? .asker, seenBy: viewer, number: row["number"], text: row["text"],
            at: row["sentAt"])
    }

    private static func followUp(rank: Int, from sender: FollowUpSide, seenBy viewer: FollowUpSide, number: Int, text: String, at: Date)
        -> FollowUp
    {
        FollowUp(
            rank: rank, from: sender, alias: FollowUp.alias(of: sender, seenBy: viewer, specialistNumber: number), text: text, sentAt: at)
    }

    // MARK: - Finding a thread

    /// The thread an author writes in, if they are part of it: the asker's own question and a relayed answer of it, or
    /// the specialist's own delivery whose answer was relayed. Anyone else learns nothing (the same error as for a
    /// thread that does not exist).
    static func thread(_ db: Database, of author: FollowUpAuthor) throws -> ThreadRow {
        let sql = """
            SELECT answer.id AS answerId, answer.rank, delivery.id AS deliveryId, delivery.publicId AS deliveryPublicId, delivery.number,
                delivery.imReference, employee.id AS specialistId, employee.handle, employee.imId, question.id AS questionRowId
            FROM answer JOIN delivery ON delivery.id = answer.deliveryId JOIN employee ON employee.id = delivery.specialistId
            JOIN question ON question.id = answer.questionId
            """
        let row: Row
        switch author {
        case .asker(let asker, let id, let rank):
            let question = try visibleQuestion(db, id, asker: asker, isAdmin: false)
            guard let found = try Row.fetchOne(db, sql: sql + " WHERE answer.questionId = ? AND answer.rank = ?", arguments: [question.id, rank])
            else { throw DirectoryError.answerNotFound(rank) }
            row = found
        case .specialist(let handle, let delivery):
            let owned = try Self.delivery(db, delivery, of: handle)
            guard let found = try Row.fetchOne(db, sql: sql + " WHERE answer.deliveryId = ? AND answer.rank IS NOT NULL", arguments: [owned.id])
            else { throw DirectoryError.noThread(delivery) }
            row = found
        }
        guard let question = try QuestionRow.fetch(db, id: row["questionRowId"]) else { throw DirectoryError.questionNotFound("") }
        return ThreadRow(
            question: question, answerId: row["answerId"], rank: row["rank"], deliveryId: row["deliveryId"],
            deliveryPublicId: row["deliveryPublicId"],
            number: row["number"], specialistId: row["specialistId"], specialist: Recipient(handle: row["handle"], imID: row["imId"]),
            questionReference: row["imReference"])
    }

    /// The IM reference of the last message SkillRelay sent into a thread on one side.
    static func latestReference(_ db: Database, answer: Int64, side: FollowUpSide) throws -> String? {
        try String.fetchOne(
            db.cachedStatement(sql: "SELECT reference FROM threadReference WHERE answerId = ? AND side = ? ORDER BY sentAt DESC LIMIT 1"),
            arguments: [answer, side.rawValue])
    }

    /// Keeps the IM's reference of a relayed answer or follow-up sent into one side's conversation.
    static func keepThreadReference(_ db: Database, key: ThreadReferenceKey, reference: String, now: Date, replacing: Bool) throws {
        guard
            let answer = try Int64.fetchOne(
                db.cachedStatement(
                    sql:
                        "SELECT answer.id FROM answer JOIN question ON question.id = answer.questionId WHERE question.publicId = ? AND answer.rank = ?"
                ),
                arguments: [key.questionID, key.rank])
        else { return }
        try db.executeCached(
            sql: "INSERT OR \(replacing ? "REPLACE" : "IGNORE") INTO threadReference (reference, answerId, side, sentAt) VALUES (?, ?, ?, ?)",
            arguments: [reference, answer, key.side.rawValue, now])
    }
}
