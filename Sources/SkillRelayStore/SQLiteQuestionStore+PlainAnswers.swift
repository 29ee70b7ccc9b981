import Foundation
import GRDB
import SkillRelayDomain

// Answers typed as plain IM messages: held for a minute, then relayed as any answer (see `PlainAnswerStore`).
extension SQLiteQuestionStore {
    public func openDeliveries(of handle: String) async throws -> [OpenDelivery] {
        try await database.read { db in
            let employee = try SQLiteDirectoryStore.employeeRecord(db, handle: handle)
            return try Row.fetchAll(db, sql: Self.openDeliveriesSQL, arguments: [employee.id!]).map { row in
                OpenDelivery(
                    id: row["publicId"], topic: TopicReference(slug: row["slug"], name: row["name"]), text: row["text"],
                    deliveredAt: row["deliveredAt"])
            }
        }
    }

    /// Specialist ?1's pending deliveries of open questions without a held answer, oldest first.
    static let openDeliveriesSQL = """
        SELECT delivery.publicId, delivery.deliveredAt, question.text, topic.slug, topic.name
        FROM delivery JOIN question ON question.id = delivery.questionId JOIN topic ON topic.id = question.topicId
        WHERE delivery.specialistId = ?1 AND delivery.state = 'pending' AND question.status = 'open'
            AND NOT EXISTS (SELECT 1 FROM heldAnswer WHERE heldAnswer.deliveryId = delivery.id AND heldAnswer.state = 'held')
        ORDER BY delivery.deliveredAt, delivery.id
        """

    public func holdAnswer(delivery id: String, by handle: String, text: String, relayAt: Date, now: Date) async throws -> HeldAnswer {
        try await database.write { db in
            let delivery = try Self.delivery(db, id, of: handle)
            guard let question = try QuestionRow.fetch(db, id: delivery.questionId) else { throw DirectoryError.deliveryNotFound(id) }
            let held = try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM heldAnswer WHERE deliveryId = ? AND state = 'held')"), arguments: [delivery.id])
            guard delivery.state == .pending, held != true else {
                if delivery.state == .closed { throw DirectoryError.questionClosed(id) }
                throw DirectoryError.deliveryAlreadyAnswered
            }
            guard question.status == .open else { throw DirectoryError.questionClosed(id) }
            try db.executeCached(
                sql: "INSERT INTO heldAnswer (deliveryId, employeeId, text, heldAt, relayAt) VALUES (?, ?, ?, ?, ?)",
                arguments: [delivery.id, delivery.specialistId, text, now, relayAt])
            // The message reached SkillRelay now, whether or not it is ever relayed.
            try Self.log(
                db, at: now, direction: "in", kind: "held_answer", sender: "employee:\(delivery.specialistId)", recipient: "skillrelay",
                questionID: question.publicId, deliveryID: id, text: text)
            return HeldAnswer(deliveryID: id, topic: question.topic, relayAt: relayAt)
        }
    }

    public func withdrawHeldAnswer(by handle: String, now: Date) async throws -> HeldAnswerWithdrawal {
        try await database.write { db in
            let employee = try SQLiteDirectoryStore.employeeRecord(db, handle: handle)
            let select = """
                SELECT heldAnswer.id, heldAnswer.state, heldAnswer.relayAt, delivery.publicId AS deliveryId, question.publicId AS questionId,
                    topic.slug, topic.name
                FROM heldAnswer JOIN delivery ON delivery.id = heldAnswer.deliveryId JOIN question ON question.id = delivery.questionId
                JOIN topic ON topic.id = question.topicId
                """
            // The latest answer still in its minute, else the latest of any kind, to say it is too late.
            let row =
                try Row.fetchOne(
                    db,
                    sql: select
                        + " WHERE heldAnswer.employeeId = ? AND heldAnswer.state = 'held' AND heldAnswer.relayAt > ? ORDER BY heldAnswer.id DESC",
                    arguments: [employee.id!, now])
                ?? Row.fetchOne(db, sql: select + " WHERE heldAnswer.employeeId = ? ORDER BY heldAnswer.id DESC", arguments: [employee.id!])
            guard let row else { return .nothing }
            let topic = TopicReference(slug: row["slug"], name: row["name"])
            let state: String = row["state"]
            guard state == "held" || state == "relayed" else { return .nothing }
            guard state == "held", now < row["relayAt"] as Date else { return .tooLate(topic) }
            try db.executeCached(sql: "UPDATE heldAnswer SET state = 'withdrawn' WHERE id = ?", arguments: [row["id"] as Int64])
            try Self.log(
                db, at: now, direction: "in", kind: "withdrawn_answer", sender: "employee:\(employee.id!)", recipient: "skillrelay",
                questionID: row["questionId"], deliveryID: row["deliveryId"], text: nil)
            return .withdrawn(topic)
        }
    }

    public func dueHeldAnswers(now: Date, limit: Int) async throws -> [Int64] {
        try await database.read { db in
            try Int64.fetchAll(
                db.cachedStatement(sql: "SELECT id FROM heldAnswer WHERE state = 'held' AND relayAt <= ? ORDER BY relayAt, id LIMIT ?"),
                arguments: [now, limit])
        }
    }

    public func relayHeldAnswer(_ id: Int64, labeling: AnswerLabeling, now: Date) async throws -> AnswerResult? {
        try await database.write { db in
            guard
                let held = try Row.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT heldAnswer.text, delivery.publicId, employee.handle FROM heldAnswer
                            JOIN delivery ON delivery.id = heldAnswer.deliveryId JOIN employee ON employee.id = heldAnswer.employeeId
                            WHERE heldAnswer.id = ? AND heldAnswer.state = 'held'
                            """), arguments: [id])
            else { return nil }
            let deliveryID: String = held["publicId"]
            let delivery = try Self.delivery(db, deliveryID, of: held["handle"])
            if try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM answer WHERE deliveryId = ?)"), arguments: [delivery.id])
                == true
            {
                // Answered by a reply (or the web page) within the minute: that answer stands, and the compliance log
                // already holds both texts.
                try db.executeCached(sql: "UPDATE heldAnswer SET state = 'superseded' WHERE id = ?", arguments: [id])
                return nil
            }
            try db.executeCached(sql: "UPDATE heldAnswer SET state = 'relayed' WHERE id = ?", arguments: [id])
            return try Self.recordAnswer(
                db, delivery: delivery, id: deliveryID, text: held["text"], labeling: labeling, now: now, learning: learning)
        }
    }

    public func savePlainChoice(by handle: String, text: String, options: [String], now: Date) async throws {
        let json = String(decoding: try JSONEncoder().encode(options), as: UTF8.self)
        try await database.write { db in
            let employee = try SQLiteDirectoryStore.employeeRecord(db, handle: handle)
            try db.executeCached(
                sql: """
                    INSERT INTO plainChoice (employeeId, text, options, createdAt) VALUES (?, ?, ?, ?)
                    ON CONFLICT (employeeId) DO UPDATE SET text = excluded.text, options = excluded.options, createdAt = excluded.createdAt
                    """, arguments: [employee.id!, text, json, now])
        }
    }

    public func takePlainChoice(by handle: String) async throws -> PlainChoice? {
        try await database.write { db in
            let employee = try SQLiteDirectoryStore.employeeRecord(db, handle: handle)
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM plainChoice WHERE employeeId = ?"), arguments: [employee.id!])
            else {
                return nil
            }
            try db.executeCached(sql: "DELETE FROM plainChoice WHERE employeeId = ?", arguments: [employee.id!])
            let options = (try? JSONDecoder().decode([String].self, from: Data((row["options"] as String).utf8))) ?? []
            return PlainChoice(text: row["text"], options: options, createdAt: row["createdAt"])
        }
    }
}
