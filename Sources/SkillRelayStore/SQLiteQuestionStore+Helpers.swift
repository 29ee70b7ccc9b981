import Foundation
import GRDB
import SkillRelayDomain

/// A question row with its topic and asker resolved.
struct QuestionRow {
    var id: Int64
    var publicId: String
    var asker: Asker
    var askerEmployeeId: Int64?
    var topic: TopicReference
    var text: String
    var maxAnswers: Int
    var status: QuestionStatus
    var channel: QuestionChannel
    var callbackURL: String?
    var waves: Int
    var relayed: Int
    var createdAt: Date
    var expiresAt: Date
    var closedAt: Date?

    private static let select = """
        SELECT question.*, topic.slug AS topicSlug, topic.name AS topicName, employee.handle AS askerHandle
        FROM question JOIN topic ON topic.id = question.topicId LEFT JOIN employee ON employee.id = question.askerEmployeeId
        """

    static func fetch(_ db: Database, publicId: String) throws -> QuestionRow? {
        try Row.fetchOne(db.cachedStatement(sql: select + " WHERE question.publicId = ?"), arguments: [publicId]).map(QuestionRow.init)
    }

    static func fetch(_ db: Database, id: Int64) throws -> QuestionRow? {
        try Row.fetchOne(db.cachedStatement(sql: select + " WHERE question.id = ?"), arguments: [id]).map(QuestionRow.init)
    }

    init(row: Row) {
        id = row["id"]
        publicId = row["publicId"]
        askerEmployeeId = row["askerEmployeeId"]
        if let handle: String = row["askerHandle"] { asker = .employee(handle) } else { asker = .bot(row["askerBotName"]) }
        topic = TopicReference(slug: row["topicSlug"], name: row["topicName"])
        text = row["text"]
        maxAnswers = row["maxAnswers"]
        status = QuestionStatus(rawValue: row["status"]) ?? .open
        channel = QuestionChannel(rawValue: row["channel"]) ?? .api
        callbackURL = row["callbackUrl"]
        waves = row["waves"]
        relayed = row["relayed"]
        createdAt = row["createdAt"]
        expiresAt = row["expiresAt"]
        closedAt = row["closedAt"]
    }
}

/// A delivery row.
struct DeliveryRow {
    var id: Int64
    var questionId: Int64
    var specialistId: Int64
    var number: Int
    var level: Int
    var state: DeliveryState
}

/// The JSON bodies POSTed to a bot's callback URL.
enum CallbackBody {
    private struct Answer: Encodable {
        var event = "answer"
        var question: String
        var answer: Relayed
    }

    private struct Relayed: Encodable {
        var rank: Int
        var alias: String
        var label: AnswererLabel.Shown
        var text: String
        var receivedAt: Date
    }

    private struct FollowUpEvent: Encodable {
        var event = "follow_up"
        var question: String
        var followUp: Message
    }

    /// A follow-up as the asker sees it: the specialist by alias.
    private struct Message: Encodable {
        var rank: Int
        var from: String
        var alias: String
        var text: String
        var sentAt: Date
    }

    private struct Closed: Encodable {
        var event = "closed"
        var question: String
        var reason: String
        var answers: Int
    }

    static func answer(_ question: String, _ answer: RelayedAnswer) -> String {
        encode(
            Answer(
                question: question,
                answer: Relayed(
                    rank: answer.rank, alias: answer.alias, label: AnswererLabel.Shown(answer.label), text: answer.text,
                    receivedAt: answer.receivedAt)))
    }

    static func followUp(_ question: String, _ followUp: FollowUp) -> String {
        encode(
            FollowUpEvent(
                question: question,
                followUp: Message(
                    rank: followUp.rank, from: followUp.from.rawValue, alias: followUp.alias, text: followUp.text, sentAt: followUp.sentAt)))
    }

    static func closed(_ question: String, reason: CloseReason, answers: Int) -> String {
        encode(Closed(question: question, reason: reason.rawValue, answers: answers))
    }

    private static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: (try? encoder.encode(value)) ?? Data("{}".utf8), as: UTF8.self)
    }
}

extension SQLiteQuestionStore {
    /// Closes a question: every specialist still holding it is told, and so is the asker where they asked by IM or
    /// gave a callback.
    static func close(_ db: Database, _ question: QuestionRow, reason: CloseReason, now: Date, learning: RoutingLearning) throws {
        try learnSilence(db, question: question.id, now: now, learning: learning)
        let status: QuestionStatus =
            switch reason {
            case .answered: .answered
            case .expired: .expired
            case .cancelled: .cancelled
            }
        try db.executeCached(
            sql: "UPDATE question SET status = ?, closedAt = ?, nextActionAt = NULL WHERE id = ?", arguments: [status.rawValue, now, question.id])
        let holders = try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT delivery.id, delivery.publicId, employee.id AS employeeId, employee.handle, employee.imId
                    FROM delivery JOIN employee ON employee.id = delivery.specialistId
                    WHERE delivery.questionId = ? AND delivery.state = 'pending'
                    """), arguments: [question.id])
        try db.executeCached(sql: "UPDATE delivery SET state = 'closed' WHERE questionId = ? AND state = 'pending'", arguments: [question.id])
        try noteUnansweredForSuggestions(db, question: question.id, holders: holders.map { $0["employeeId"] }, reason: reason, now: now)
        for holder in holders {
            let deliveryID: String = holder["publicId"]
            try log(
                db, at: now, direction: "out", kind: "notice", sender: "skillrelay", recipient: "employee:\(holder["employeeId"] as Int64)",
                questionID: question.publicId, deliveryID: deliveryID, text: "closed: \(reason.rawValue)")
            try enqueue(
                db,
                .closed(
                    ClosedMessage(
                        deliveryID: deliveryID, recipient: Recipient(handle: holder["handle"], imID: holder["imId"]), topic: question.topic,
                        reason: reason)), now: now)
        }
        try log(
            db, at: now, direction: "out", kind: "notice", sender: "skillrelay", recipient: try party(db, question.asker),
            questionID: question.publicId, deliveryID: nil, text: "closed: \(reason.rawValue) with \(question.relayed) answer(s)")
        if question.channel == .im, let asker = try recipient(db, question.asker) {
            try enqueue(
                db,
                .askerNotice(
                    AskerNotice(questionID: question.publicId, asker: asker, topic: question.topic, reason: reason, answerCount: question.relayed)),
                now: now)
        }
        if let url = question.callbackURL {
            try enqueue(
                db,
                .callback(
                    CallbackMessage(
                        questionID: question.publicId, url: url,
                        body: CallbackBody.closed(question.publicId, reason: reason, answers: question.relayed))),
                now: now)
        }
    }

    /// Delivers a question to `specialists` as wave `wave`, numbering them after the `numberedAfter` already holding it:
    /// a delivery each, their records, compliance entries and outbox messages.
    static func deliver(
        _ db: Database, question: (id: Int64, publicId: String, topic: TopicReference, text: String, maxAnswers: Int), wave: Int,
        numberedAfter: Int, to specialists: [Candidate], now date: Date
    ) throws {
        // Made once for the delivery and record rows below (`log` and `enqueue` make their own from `date`).
        let now = date.storedValue
        let insertDelivery = try db.cachedStatement(
            sql: """
                INSERT INTO delivery (publicId, questionId, specialistId, number, wave, level, state, deliveredAt, trial, expectedTimely)
                VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)
                """)
        let countDelivery = try db.cachedStatement(
            sql: """
                INSERT INTO specialistRecord (employeeId, delivered, lastDeliveredAt) VALUES (?, 1, ?)
                ON CONFLICT (employeeId) DO UPDATE SET delivered = delivered + 1, lastDeliveredAt = excluded.lastDeliveredAt
                """)
        // Only the id and IM id of each specialist: a whole `EmployeeRecord` decoded through Codable cost more.
        let findEmployee = try db.cachedStatement(sql: "SELECT id, imId FROM employee WHERE handle = ?")
        for (offset, specialist) in specialists.enumerated() {
            guard let employee = try Row.fetchOne(findEmployee, arguments: [specialist.handle]) else {
                throw DirectoryError.employeeNotFound(specialist.handle)
            }
            let employeeID: Int64 = employee[0]
            let deliveryID = IdentifierGenerator.make(prefix: "d")
            try insertDelivery.execute(arguments: [
                deliveryID, question.id, employeeID, numberedAfter + offset + 1, wave, specialist.level, now,
                specialist.learned.topic.outcomes < RoutingFigures.trialOutcomes, specialist.expectedTimely,
            ])
            try countDelivery.execute(arguments: [employeeID, now])
            try log(
                db, at: date, direction: "out", kind: "delivery", sender: "skillrelay", recipient: "employee:\(employeeID)",
                questionID: question.publicId, deliveryID: deliveryID, text: question.text)
            try enqueue(
                db,
                .question(
                    QuestionMessage(
                        deliveryID: deliveryID, recipient: Recipient(handle: specialist.handle, imID: employee[1]), topic: question.topic,
                        text: question.text, maxAnswers: question.maxAnswers)), now: date)
        }
    }

    /// Appends to the compliance log.
    static func log(
        _ db: Database, at: Date, direction: String, kind: String, sender: String, recipient: String, questionID: String?,
        deliveryID: String?, text: String?
    ) throws {
        try db.executeCached(
            sql: """
                INSERT INTO complianceEntry (at, direction, kind, sender, recipient, questionId, deliveryId, text)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [at.storedValue, direction, kind, sender, recipient, questionID, deliveryID, text])
    }

    /// Queues a message, to be sent after the transaction commits.
    static func enqueue(_ db: Database, _ message: OutboxMessage, now date: Date) throws {
        let json = String(decoding: try JSONEncoder().encode(message), as: UTF8.self)
        let now = date.storedValue
        try db.executeCached(
            sql: "INSERT INTO outbox (message, destination, createdAt, nextAttemptAt) VALUES (?, ?, ?, ?)",
            arguments: [json, message.destination, now, now])
    }

    /// How the compliance log names an asker: by internal id, not handle.
    static func party(_ db: Database, _ asker: Asker) throws -> String {
        switch asker {
        case .employee(let handle): "employee:\(try SQLiteDirectoryStore.employeeRecord(db, handle: handle).id!)"
        case .bot(let name): "bot:\(name)"
        }
    }

    /// Turns `employee:<handle>` into `employee:<internal id>`; other names pass through.
    static func internalName(_ db: Database, _ name: String) throws -> String {
        guard name.hasPrefix("employee:") else { return name }
        return try party(db, .employee(String(name.dropFirst("employee:".count))))
    }

    /// Where an asker's IM messages go; bots have none.
    static func recipient(_ db: Database, _ asker: Asker) throws -> Recipient? {
        guard case .employee(let handle) = asker else { return nil }
        let employee = try SQLiteDirectoryStore.employeeRecord(db, handle: handle)
        return Recipient(handle: employee.handle, imID: employee.imId)
    }

    static func askerKey(_ asker: Asker) -> String {
        switch asker {
        case .employee(let handle): "employee:\(handle)"
        case .bot(let name): "bot:\(name)"
        }
    }

    static func relayedAnswer(_ row: Row, topic: String) -> RelayedAnswer {
        RelayedAnswer(
            rank: row["rank"], alias: "specialist \(row["number"] as Int)", label: storedLabel(row, topic: topic), text: row["text"],
            receivedAt: row["receivedAt"], helpful: row["helpful"])
    }

    /// The question, if the caller is its asker or an admin; otherwise `questionNotFound`, so ids cannot be probed.
    static func visibleQuestion(_ db: Database, _ id: String, asker: Asker?, isAdmin: Bool) throws -> QuestionRow {
        guard let question = try QuestionRow.fetch(db, publicId: id), isAdmin || question.asker == asker else {
            throw DirectoryError.questionNotFound(id)
        }
        return question
    }

    /// A delivery to the given specialist; anyone else's is `deliveryNotFound`.
    static func delivery(_ db: Database, _ id: String, of handle: String) throws -> DeliveryRow {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT delivery.* FROM delivery JOIN employee ON employee.id = delivery.specialistId
                        WHERE delivery.publicId = ? AND employee.handle = ?
                        """), arguments: [id, handle])
        else { throw DirectoryError.deliveryNotFound(id) }
        return DeliveryRow(
            id: row["id"], questionId: row["questionId"], specialistId: row["specialistId"], number: row["number"], level: row["level"],
            state: DeliveryState(rawValue: row["state"]) ?? .closed)
    }
}

extension Database {
    /// Runs one statement through the connection's statement cache: compiled the first time, then only bound and run.
    /// For the question store's writes, which run for every delivery, answer and pass; compiling a short statement
    /// costs more than running it.
    func executeCached(sql: String, arguments: StatementArguments = StatementArguments()) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }
}
