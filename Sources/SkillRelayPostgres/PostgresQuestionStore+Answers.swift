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
