import Foundation
import PostgresNIO
import SkillRelayDomain

// Answers typed as plain IM messages: held for a minute, then relayed as any answer (see `PlainAnswerStore`), as
// `SQLiteQuestionStore+PlainAnswers` keeps them.
extension PostgresQuestionStore: PlainAnswerStore {
    public func openDeliveries(of handle: String) async throws -> [OpenDelivery] {
        try await database.read { connection in
            let specialist = try await Self.employee(connection, handle: handle).id
            // Pending deliveries of open questions without a held answer, oldest first.
            return try await Self.rows(
                connection,
                """
                SELECT delivery.publicId, delivery.deliveredAt, question.text, topic.slug, topic.name
                FROM delivery JOIN question ON question.id = delivery.questionId JOIN topic ON topic.id = question.topicId
                WHERE delivery.specialistId = \(specialist) AND delivery.state = 'pending' AND question.status = 'open'
                    AND NOT EXISTS (SELECT 1 FROM heldAnswer WHERE heldAnswer.deliveryId = delivery.id AND heldAnswer.state = 'held')
                ORDER BY delivery.deliveredAt, delivery.id
                """
            ).map { row in
                let (id, deliveredAt, text, slug, name) = try row.decode((String, Date, String, String, String).self)
                return OpenDelivery(id: id, topic: TopicReference(slug: slug, name: name), text: text, deliveredAt: deliveredAt)
            }
        }
    }

    public func holdAnswer(delivery id: String, by handle: String, text: String, relayAt: Date, now: Date) async throws -> HeldAnswer {
        try await database.write { connection in
            let delivery = try await Self.delivery(connection, id, of: handle)
            guard let question = try await QuestionRow.fetch(connection, id: delivery.questionId) else { throw DirectoryError.deliveryNotFound(id) }
            let held = try await Self.value(
                connection, "SELECT EXISTS (SELECT 1 FROM heldAnswer WHERE deliveryId = \(delivery.id) AND state = 'held')", as: Bool.self)
            guard delivery.state == .pending, held != true else {
                if delivery.state == .closed { throw DirectoryError.questionClosed(id) }
                throw DirectoryError.deliveryAlreadyAnswered
            }
            guard question.status == .open else { throw DirectoryError.questionClosed(id) }
            try await Self.execute(
                connection,
                """
                INSERT INTO heldAnswer (deliveryId, employeeId, text, heldAt, relayAt)
                VALUES (\(delivery.id), \(delivery.specialistId), \(text), \(now), \(relayAt))
                """)
            // The message reached SkillRelay now, whether or not it is ever relayed.
            try await Self.log(
                connection, at: now, direction: "in", kind: "held_answer", sender: "employee:\(delivery.specialistId)", recipient: "skillrelay",
                questionID: question.publicId, deliveryID: id, text: text)
            return HeldAnswer(deliveryID: id, topic: question.topic, relayAt: relayAt)
        }
    }

    public func withdrawHeldAnswer(by handle: String, now: Date) async throws -> HeldAnswerWithdrawal {
        try await database.write { connection in
            let specialist = try await Self.employee(connection, handle: handle).id
            let select = """
                SELECT heldAnswer.id, heldAnswer.state, heldAnswer.relayAt, delivery.publicId, question.publicId, topic.slug, topic.name
                FROM heldAnswer JOIN delivery ON delivery.id = heldAnswer.deliveryId JOIN question ON question.id = delivery.questionId
                JOIN topic ON topic.id = question.topicId
                """
            // The latest answer still in its minute, else the latest of any kind, to say it is too late.
            let stillHeld = try await Self.rows(
                connection,
                """
                \(unescaped: select)
                WHERE heldAnswer.employeeId = \(specialist) AND heldAnswer.state = 'held' AND heldAnswer.relayAt > \(now) ORDER BY heldAnswer.id DESC LIMIT 1
                """
            ).first
            let found: PostgresRow?
            if let stillHeld {
                found = stillHeld
            } else {
                found = try await Self.rows(
                    connection, "\(unescaped: select) WHERE heldAnswer.employeeId = \(specialist) ORDER BY heldAnswer.id DESC LIMIT 1"
                ).first
            }
            guard let found else { return .nothing }
            let (heldID, state, relayAt, deliveryID, questionID, slug, name) = try found.decode(
                (Int64, String, Date, String, String, String, String).self)
            let topic = TopicReference(slug: slug, name: name)
            guard state == "held" || state == "relayed" else { return .nothing }
            guard state == "held", now < relayAt else { return .tooLate(topic) }
            try await Self.execute(connection, "UPDATE heldAnswer SET state = 'withdrawn' WHERE id = \(heldID)")
            try await Self.log(
                connection, at: now, direction: "in", kind: "withdrawn_answer", sender: "employee:\(specialist)", recipient: "skillrelay",
                questionID: questionID, deliveryID: deliveryID, text: nil)
            return .withdrawn(topic)
        }
    }

    public func dueHeldAnswers(now: Date, limit: Int) async throws -> [Int64] {
        try await database.withoutTransaction { connection in
            try await Self.rows(
                connection, "SELECT id FROM heldAnswer WHERE state = 'held' AND relayAt <= \(now) ORDER BY relayAt, id LIMIT \(limit)"
            )
            .map { try $0.decode(Int64.self) }
        }
    }

    public func relayHeldAnswer(_ id: Int64, labeling: AnswerLabeling, now: Date) async throws -> AnswerResult? {
        try await database.write { connection in
            guard
                let held = try await Self.rows(
                    connection,
                    """
                    SELECT heldAnswer.text, delivery.publicId, employee.handle FROM heldAnswer
                    JOIN delivery ON delivery.id = heldAnswer.deliveryId JOIN employee ON employee.id = heldAnswer.employeeId
                    WHERE heldAnswer.id = \(id) AND heldAnswer.state = 'held'
                    """
                ).first
            else { return nil }
            let (text, deliveryID, handle) = try held.decode((String, String, String).self)
            let delivery = try await Self.delivery(connection, deliveryID, of: handle)
            if try await Self.value(connection, "SELECT EXISTS (SELECT 1 FROM answer WHERE deliveryId = \(delivery.id))", as: Bool.self) == true {
                // Answered by a reply (or the web page) within the minute: that answer stands, and the compliance log
                // already holds both texts.
                try await Self.execute(connection, "UPDATE heldAnswer SET state = 'superseded' WHERE id = \(id)")
                return nil
            }
            try await Self.execute(connection, "UPDATE heldAnswer SET state = 'relayed' WHERE id = \(id)")
            return try await Self.recordAnswer(
                connection, delivery: delivery, id: deliveryID, text: text, labeling: labeling, now: now, learning: learning)
        }
    }

    public func savePlainChoice(by handle: String, text: String, options: [String], now: Date) async throws {
        let json = String(decoding: try JSONEncoder().encode(options), as: UTF8.self)
        try await database.write { connection in
            let specialist = try await Self.employee(connection, handle: handle).id
            try await Self.execute(
                connection,
                """
                INSERT INTO plainChoice (employeeId, text, options, createdAt) VALUES (\(specialist), \(text), \(json), \(now))
                ON CONFLICT (employeeId) DO UPDATE SET text = excluded.text, options = excluded.options, createdAt = excluded.createdAt
                """)
        }
    }

    public func takePlainChoice(by handle: String) async throws -> PlainChoice? {
        try await database.write { connection in
            let specialist = try await Self.employee(connection, handle: handle).id
            guard
                let row = try await Self.rows(
                    connection, "DELETE FROM plainChoice WHERE employeeId = \(specialist) RETURNING text, options, createdAt"
                )
                .first
            else { return nil }
            let (text, json, createdAt) = try row.decode((String, String, Date).self)
            let options = (try? JSONDecoder().decode([String].self, from: Data(json.utf8))) ?? []
            return PlainChoice(text: text, options: options, createdAt: createdAt)
        }
    }
}
