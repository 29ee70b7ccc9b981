import Foundation
import PostgresNIO
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

// Follow-ups after a relayed answer, as `SQLiteQuestionStore+FollowUps` keeps them.
extension PostgresQuestionStore {
    public func recordFollowUp(by author: FollowUpAuthor, text: String, openFor: TimeInterval, now: Date) async throws -> RecordedFollowUp {
        try await database.write { connection in
            let thread = try await Self.thread(connection, of: author)
            let question = thread.question
            if let closedAt = question.closedAt, now >= closedAt.addingTimeInterval(openFor) {
                throw DirectoryError.threadClosed(question.publicId)
            }
            let side = author.side
            try await Self.execute(
                connection,
                """
                INSERT INTO followUp (questionId, answerId, sender, text, sentAt)
                VALUES (\(question.id), \(thread.answerId), \(side.rawValue), \(text), \(now))
                """)
            let recorded = RecordedFollowUp(
                questionID: question.publicId, deliveryID: thread.deliveryPublicId, specialistHandle: thread.specialist.handle,
                askerView: Self.followUp(rank: thread.rank, from: side, seenBy: .asker, number: thread.number, text: text, at: now),
                specialistView: Self.followUp(rank: thread.rank, from: side, seenBy: .specialist, number: thread.number, text: text, at: now))
            let asker = try await Self.party(connection, question.asker)
            let specialist = "employee:\(thread.specialistId)"
            let (sender, recipient) = side == .asker ? (asker, specialist) : (specialist, asker)
            try await Self.log(
                connection, at: now, direction: "in", kind: "follow_up", sender: sender, recipient: "skillrelay", questionID: question.publicId,
                deliveryID: thread.deliveryPublicId, text: text)
            try await Self.log(
                connection, at: now, direction: "out", kind: "follow_up_relay", sender: "skillrelay", recipient: recipient,
                questionID: question.publicId, deliveryID: side == .asker ? thread.deliveryPublicId : nil, text: text)
            switch side {
            case .asker:
                let replyTo = try await Self.latestReference(connection, answer: thread.answerId, side: .specialist) ?? thread.questionReference
                try await Self.enqueue(
                    connection,
                    .followUp(
                        FollowUpMessage(
                            questionID: question.publicId, deliveryID: thread.deliveryPublicId, recipient: thread.specialist, topic: question.topic,
                            followUp: recorded.specialistView, replyTo: replyTo)), now: now)
            case .specialist:
                if question.channel == .im, let askerRecipient = try await Self.recipient(connection, question.asker) {
                    let replyTo = try await Self.latestReference(connection, answer: thread.answerId, side: .asker)
                    try await Self.enqueue(
                        connection,
                        .followUp(
                            FollowUpMessage(
                                questionID: question.publicId, deliveryID: nil, recipient: askerRecipient, topic: question.topic,
                                followUp: recorded.askerView, replyTo: replyTo)), now: now)
                }
                if let url = question.callbackURL {
                    try await Self.enqueue(
                        connection,
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
        try await database.withoutTransaction { connection in
            // A relayed answer or follow-up SkillRelay sent; or the question as delivered to a specialist whose answer to
            // it was relayed, which their thread continues.
            try await Self.rows(
                connection,
                """
                SELECT question.publicId, answer.rank, threadReference.side, delivery.publicId
                FROM threadReference JOIN answer ON answer.id = threadReference.answerId
                JOIN question ON question.id = answer.questionId JOIN delivery ON delivery.id = answer.deliveryId
                WHERE threadReference.reference = \(reference) AND answer.rank IS NOT NULL
                UNION ALL
                SELECT question.publicId, answer.rank, 'specialist', delivery.publicId
                FROM delivery JOIN answer ON answer.deliveryId = delivery.id JOIN question ON question.id = delivery.questionId
                WHERE delivery.imReference = \(reference) AND answer.rank IS NOT NULL
                LIMIT 1
                """
            ).first.map { row in
                let (questionID, rank, side, deliveryID) = try row.decode((String, Int, String, String).self)
                return ThreadReference(questionID: questionID, rank: rank, side: FollowUpSide(rawValue: side) ?? .asker, deliveryID: deliveryID)
            }
        }
    }

    public func openThreads(of asker: Asker, openFor: TimeInterval, now: Date) async throws -> [OpenThreads] {
        let closedSince = now.addingTimeInterval(-openFor)
        return try await database.read { connection in
            let rows = try await Self.rows(
                connection,
                """
                SELECT question.publicId, topic.slug, topic.name, answer.rank, delivery.number
                FROM question JOIN topic ON topic.id = question.topicId
                JOIN answer ON answer.questionId = question.id AND answer.rank IS NOT NULL
                JOIN delivery ON delivery.id = answer.deliveryId
                WHERE question.askerKey = \(Self.askerKey(asker)) AND question.relayed > 0
                    AND (question.closedAt IS NULL OR question.closedAt > \(closedSince))
                ORDER BY question.id DESC, answer.rank
                """)
            var threads: [OpenThreads] = []
            for row in rows {
                let (id, slug, name, rank, number) = try row.decode((String, String, String, Int, Int).self)
                let answer = (rank: rank, alias: "specialist \(number)")
                if threads.last?.questionID == id {
                    threads[threads.count - 1].answers.append(answer)
                } else {
                    threads.append(OpenThreads(questionID: id, topic: TopicReference(slug: slug, name: name), answers: [answer]))
                }
            }
            return threads
        }
    }

    // MARK: - Finding a thread

    /// The thread an author writes in, if they are part of it: the asker's own question and a relayed answer of it, or
    /// the specialist's own delivery whose answer was relayed. Anyone else learns nothing (the same error as for a
    /// thread that does not exist).
    static func thread(_ connection: PostgresConnection, of author: FollowUpAuthor) async throws -> ThreadRow {
        let select = """
            SELECT answer.id, answer.rank, delivery.id, delivery.publicId, delivery.number, delivery.imReference, employee.id, employee.handle,
                employee.imId, question.id
            FROM answer JOIN delivery ON delivery.id = answer.deliveryId JOIN employee ON employee.id = delivery.specialistId
            JOIN question ON question.id = answer.questionId
            """
        let found: PostgresRow
        switch author {
        case .asker(let asker, let id, let rank):
            let question = try await visibleQuestion(connection, id, asker: asker, isAdmin: false)
            let rows = try await Self.rows(connection, "\(unescaped: select) WHERE answer.questionId = \(question.id) AND answer.rank = \(rank)")
            guard let row = rows.first else { throw DirectoryError.answerNotFound(rank) }
            found = row
        case .specialist(let handle, let delivery):
            let owned = try await Self.delivery(connection, delivery, of: handle)
            let rows = try await Self.rows(connection, "\(unescaped: select) WHERE answer.deliveryId = \(owned.id) AND answer.rank IS NOT NULL")
            guard let row = rows.first else { throw DirectoryError.noThread(delivery) }
            found = row
        }
        let (answerId, rank, deliveryId, deliveryPublicId, number, questionReference, specialistId, handle, imID, questionRowId) = try found.decode(
            (Int64, Int, Int64, String, Int, String?, Int64, String, String?, Int64).self)
        guard let question = try await QuestionRow.fetch(connection, id: questionRowId) else { throw DirectoryError.questionNotFound("") }
        return ThreadRow(
            question: question, answerId: answerId, rank: rank, deliveryId: deliveryId, deliveryPublicId: deliveryPublicId, number: number,
            specialistId: specialistId, specialist: Recipient(handle: handle, imID: imID), questionReference: questionReference)
    }

    /// The IM reference of the last message SkillRelay sent into a thread on one side.
    static func latestReference(_ connection: PostgresConnection, answer: Int64, side: FollowUpSide) async throws -> String? {
        try await value(
            connection, "SELECT reference FROM threadReference WHERE answerId = \(answer) AND side = \(side.rawValue) ORDER BY sentAt DESC LIMIT 1",
            as: String.self)
    }
}
