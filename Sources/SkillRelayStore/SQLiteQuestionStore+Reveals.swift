import Foundation
import GRDB
import SkillRelayDomain

/// An asker and one answerer: the question, the delivery whose answer was relayed as `rank`, and both people.
struct RevealPair {
    struct Person {
        var id: Int64
        var handle: String
        var name: String
        var imID: String?

        var recipient: Recipient { Recipient(handle: handle, imID: imID) }
        var revealed: RevealedPerson { RevealedPerson(name: name, imID: imID) }
    }

    var question: QuestionRow
    var deliveryID: Int64
    var deliveryPublicID: String
    var number: Int
    var rank: Int
    var asker: Person
    var specialist: Person

    var alias: String { "specialist \(number)" }
}

/// A reveal row: who offered, and where it stands.
struct RevealRow {
    enum State: String {
        case offered, revealed, declined
    }

    var offeredBy: RevealSide
    var state: State
}

extension SQLiteQuestionStore {
    public func reveal(_ action: RevealAction, question id: String, rank: Int, by asker: Asker, now: Date) async throws -> RevealChange {
        guard case .employee = asker else { throw DirectoryError.botsCannotReveal }
        return try await database.write { db in
            let question = try Self.visibleQuestion(db, id, asker: asker, isAdmin: false)
            guard
                let deliveryID = try Int64.fetchOne(
                    db.cachedStatement(sql: "SELECT deliveryId FROM answer WHERE questionId = ? AND rank = ?"), arguments: [question.id, rank])
            else { throw DirectoryError.answerNotFound(rank) }
            let pair = try Self.revealPair(db, question: question, delivery: deliveryID)
            return try Self.changeReveal(db, action, pair: pair, by: .asker, now: now)
        }
    }

    public func reveal(_ action: RevealAction, delivery id: String, by handle: String, now: Date) async throws -> RevealChange {
        try await database.write { db in
            let delivery = try Self.delivery(db, id, of: handle)
            guard let question = try QuestionRow.fetch(db, id: delivery.questionId) else { throw DirectoryError.deliveryNotFound(id) }
            guard try Int.fetchOne(db.cachedStatement(sql: "SELECT rank FROM answer WHERE deliveryId = ?"), arguments: [delivery.id]) != nil else {
                throw DirectoryError.noRelayedAnswer(id)
            }
            guard case .employee = question.asker else { throw DirectoryError.askerIsABot }
            let pair = try Self.revealPair(db, question: question, delivery: delivery.id)
            return try Self.changeReveal(db, action, pair: pair, by: .specialist, now: now)
        }
    }

    // MARK: - The state machine

    /// Applies one side's action to the pair: the reveal row, the compliance entries and the messages to the other side
    /// (and, once both agreed, to both, with the introduction), in the caller's transaction.
    static func changeReveal(_ db: Database, _ action: RevealAction, pair: RevealPair, by side: RevealSide, now: Date) throws -> RevealChange {
        let current = try revealRow(db, delivery: pair.deliveryID)
        var updated = current
        var notices: [(RevealSide, RevealNotice.Event)] = []
        switch (action, current) {
        case (.offer, nil):
            updated = RevealRow(offeredBy: side, state: .offered)
            try db.executeCached(
                sql: "INSERT INTO reveal (deliveryId, offeredBy, state, offeredAt) VALUES (?, ?, 'offered', ?)",
                arguments: [pair.deliveryID, side.rawValue, now])
            notices = [(side.other, .offered)]
        case (.offer, let row?) where row.state == .offered && row.offeredBy != side:
            updated?.state = .revealed
            try db.executeCached(sql: "UPDATE reveal SET state = 'revealed', decidedAt = ? WHERE deliveryId = ?", arguments: [now, pair.deliveryID])
            notices = [(.asker, .revealed), (.specialist, .revealed)]
        case (.offer, let row?) where row.state == .declined, (.withdraw, let row?) where row.state == .declined:
            throw DirectoryError.revealDeclined
        case (.offer, _):
            // Offered before by this side, or already revealed: nothing changes.
            break
        case (.withdraw, nil):
            break
        case (.withdraw, let row?) where row.state == .offered && row.offeredBy == side:
            updated = nil
            try db.executeCached(sql: "DELETE FROM reveal WHERE deliveryId = ?", arguments: [pair.deliveryID])
            notices = [(side.other, .withdrawn)]
        case (.withdraw, let row?) where row.state == .revealed, (.decline, let row?) where row.state == .revealed:
            throw DirectoryError.revealAccepted
        case (.withdraw, _):
            throw DirectoryError.noRevealOffer
        case (.decline, let row?) where row.state == .offered && row.offeredBy != side:
            updated?.state = .declined
            try db.executeCached(sql: "UPDATE reveal SET state = 'declined', decidedAt = ? WHERE deliveryId = ?", arguments: [now, pair.deliveryID])
            notices = [(side.other, .declined)]
        case (.decline, let row?) where row.state == .declined:
            break
        case (.decline, _):
            throw DirectoryError.noRevealOffer
        }
        let changed = !notices.isEmpty
        if changed {
            let actor = side == .asker ? pair.asker : pair.specialist
            let verb =
                switch (action, updated?.state) {
                case (.offer, .revealed?): "accept"
                default: action.rawValue
                }
            try log(
                db, at: now, direction: "in", kind: "reveal", sender: "employee:\(actor.id)", recipient: "skillrelay",
                questionID: pair.question.publicId, deliveryID: pair.deliveryPublicID, text: "\(verb) (answer \(pair.rank))")
            for (recipientSide, event) in notices { try notify(db, pair: pair, side: recipientSide, event: event, now: now) }
            if updated?.state == .revealed { try introduce(db, pair: pair, now: now) }
        }
        return RevealChange(
            questionID: pair.question.publicId, rank: pair.rank, deliveryID: pair.deliveryPublicID, specialist: pair.specialist.handle,
            asker: pair.asker.handle, askerView: view(updated, for: .asker, pair: pair), specialistView: view(updated, for: .specialist, pair: pair),
            changed: changed)
    }

    /// Logs a notice to one side and queues it: to the specialist always (their questions come through the IM), to
    /// the asker where they asked through the IM (on the web and in the API, the event stream and the view carry it).
    private static func notify(_ db: Database, pair: RevealPair, side: RevealSide, event: RevealNotice.Event, now: Date) throws {
        let person = side == .asker ? pair.asker : pair.specialist
        let other = side == .asker ? pair.specialist : pair.asker
        let notice = RevealNotice(
            event: event, recipient: person.recipient, side: side, questionID: pair.question.publicId, rank: pair.rank,
            deliveryID: pair.deliveryPublicID, alias: pair.alias, topic: pair.question.topic, other: other.revealed)
        try log(
            db, at: now, direction: "out", kind: "reveal_notice", sender: "skillrelay", recipient: "employee:\(person.id)",
            questionID: pair.question.publicId, deliveryID: pair.deliveryPublicID, text: IMConversation.revealText(notice))
        if side == .specialist || pair.question.channel == .im { try enqueue(db, .reveal(notice), now: now) }
    }

    /// Queues the introduction of two people who both agreed, and logs it.
    private static func introduce(_ db: Database, pair: RevealPair, now: Date) throws {
        let introduction = Introduction(
            questionID: pair.question.publicId, rank: pair.rank, deliveryID: pair.deliveryPublicID, topic: pair.question.topic,
            asker: pair.asker.recipient, askerName: pair.asker.name, specialist: pair.specialist.recipient, specialistName: pair.specialist.name)
        try log(
            db, at: now, direction: "out", kind: "introduction", sender: "skillrelay",
            recipient: "employee:\(pair.asker.id),employee:\(pair.specialist.id)", questionID: pair.question.publicId,
            deliveryID: pair.deliveryPublicID, text: IMConversation.introductionText(introduction, for: .asker))
        try enqueue(db, .introduction(introduction), now: now)
    }

    // MARK: - Reading

    /// The reveal row of a delivery, if any.
    static func revealRow(_ db: Database, delivery: Int64) throws -> RevealRow? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT offeredBy, state FROM reveal WHERE deliveryId = ?"), arguments: [delivery]),
            let side = RevealSide(rawValue: row["offeredBy"]), let state = RevealRow.State(rawValue: row["state"])
        else { return nil }
        return RevealRow(offeredBy: side, state: state)
    }

    /// How one side sees a reveal row: the other person only once both agreed.
    static func view(_ row: RevealRow?, for side: RevealSide, pair: RevealPair) -> RevealView {
        view(row, for: side, other: side == .asker ? pair.specialist.revealed : pair.asker.revealed)
    }

    static func view(_ row: RevealRow?, for side: RevealSide, other: @autoclosure () -> RevealedPerson) -> RevealView {
        guard let row else { return .none }
        switch row.state {
        case .offered: return RevealView(state: row.offeredBy == side ? .offered : .invited)
        case .declined: return RevealView(state: .declined)
        case .revealed: return RevealView(state: .revealed, other: other())
        }
    }

    /// Every reveal of a question, as its asker sees them, by the answer's rank.
    static func askerReveals(_ db: Database, question: Int64) throws -> [Int: RevealView] {
        let rows = try Row.fetchAll(
            db.cachedStatement(
                sql: """
                    SELECT answer.rank, reveal.offeredBy, reveal.state, employee.name, employee.imId
                    FROM reveal JOIN answer ON answer.deliveryId = reveal.deliveryId
                    JOIN delivery ON delivery.id = reveal.deliveryId JOIN employee ON employee.id = delivery.specialistId
                    WHERE answer.questionId = ? AND answer.rank IS NOT NULL
                    """), arguments: [question])
        var reveals: [Int: RevealView] = [:]
        for row in rows {
            guard let side = RevealSide(rawValue: row["offeredBy"]), let state = RevealRow.State(rawValue: row["state"]) else { continue }
            reveals[row["rank"]] = view(
                RevealRow(offeredBy: side, state: state), for: .asker, other: RevealedPerson(name: row["name"], imID: row["imId"]))
        }
        return reveals
    }

    /// A specialist's reveals with the askers of these deliveries (by internal id): the answer's rank and the view.
    static func specialistReveals(_ db: Database, deliveries: [String]) throws -> [String: (rank: Int, view: RevealView)] {
        guard !deliveries.isEmpty else { return [:] }
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT delivery.publicId, answer.rank, reveal.offeredBy, reveal.state, employee.name, employee.imId
                FROM delivery JOIN answer ON answer.deliveryId = delivery.id AND answer.rank IS NOT NULL
                JOIN question ON question.id = delivery.questionId LEFT JOIN employee ON employee.id = question.askerEmployeeId
                LEFT JOIN reveal ON reveal.deliveryId = delivery.id
                WHERE delivery.publicId IN (\(databaseQuestionMarks(count: deliveries.count)))
                """, arguments: StatementArguments(deliveries))
        var reveals: [String: (rank: Int, view: RevealView)] = [:]
        for row in rows {
            var reveal: RevealRow?
            if let offeredBy: String = row["offeredBy"], let side = RevealSide(rawValue: offeredBy),
                let state = RevealRow.State(rawValue: row["state"] as String)
            {
                reveal = RevealRow(offeredBy: side, state: state)
            }
            let name: String? = row["name"]
            let delivery: String = row["publicId"]
            let rank: Int = row["rank"]
            reveals[delivery] = (rank: rank, view: view(reveal, for: .specialist, other: RevealedPerson(name: name ?? "", imID: row["imId"])))
        }
        return reveals
    }

    /// The pair behind a relayed answer: the question's asker (an employee) and the delivery's specialist.
    static func revealPair(_ db: Database, question: QuestionRow, delivery: Int64) throws -> RevealPair {
        guard
            let row = try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT delivery.publicId, delivery.number, answer.rank, employee.id AS specialistId, employee.handle, employee.name, employee.imId
                        FROM delivery JOIN answer ON answer.deliveryId = delivery.id JOIN employee ON employee.id = delivery.specialistId
                        WHERE delivery.id = ? AND answer.rank IS NOT NULL
                        """), arguments: [delivery]),
            case .employee(let askerHandle) = question.asker
        else { throw DirectoryError.questionNotFound(question.publicId) }
        let asker = try SQLiteDirectoryStore.employeeRecord(db, handle: askerHandle)
        return RevealPair(
            question: question, deliveryID: delivery, deliveryPublicID: row["publicId"], number: row["number"], rank: row["rank"],
            asker: RevealPair.Person(id: asker.id!, handle: asker.handle, name: asker.name, imID: asker.imId),
            specialist: RevealPair.Person(id: row["specialistId"], handle: row["handle"], name: row["name"], imID: row["imId"]))
    }
}
