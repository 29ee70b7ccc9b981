import Foundation
import PostgresNIO
import SkillRelayDomain

/// An asker and one answerer: the question, the delivery whose answer was relayed as `rank`, and both people.
struct RevealPair {
    var question: QuestionRow
    var deliveryID: Int64
    var deliveryPublicID: String
    var number: Int
    var rank: Int
    var asker: EmployeeRef
    var specialist: EmployeeRef

    var alias: String { "specialist \(number)" }
}

extension EmployeeRef {
    /// Who they are, once both sides agreed to say.
    var revealed: RevealedPerson { RevealedPerson(name: name, imID: imID) }
}

extension RevealRow {
    /// A stored row's two columns, or `nil` for anything this version does not know.
    init?(offeredBy: String?, state: String?) {
        guard let offeredBy, let side = RevealSide(rawValue: offeredBy), let state, let known = State(rawValue: state) else { return nil }
        self.init(offeredBy: side, state: known)
    }
}

// Revealing identities once both sides agree, as `SQLiteQuestionStore+Reveals` does it.
extension PostgresQuestionStore {
    public func reveal(_ action: RevealAction, question id: String, rank: Int, by asker: Asker, now: Date) async throws -> RevealChange {
        guard case .employee = asker else { throw DirectoryError.botsCannotReveal }
        return try await database.write { connection in
            let question = try await Self.visibleQuestion(connection, id, asker: asker, isAdmin: false)
            guard
                let deliveryID = try await Self.value(
                    connection, "SELECT deliveryId FROM answer WHERE questionId = \(question.id) AND rank = \(rank)", as: Int64.self)
            else { throw DirectoryError.answerNotFound(rank) }
            let pair = try await Self.revealPair(connection, question: question, delivery: deliveryID)
            return try await Self.changeReveal(connection, action, pair: pair, by: .asker, now: now)
        }
    }

    public func reveal(_ action: RevealAction, delivery id: String, by handle: String, now: Date) async throws -> RevealChange {
        try await database.write { connection in
            let delivery = try await Self.delivery(connection, id, of: handle)
            guard let question = try await QuestionRow.fetch(connection, id: delivery.questionId) else { throw DirectoryError.deliveryNotFound(id) }
            // No answer, or one kept but not relayed (no rank): no pair to reveal.
            guard try await Self.value(connection, "SELECT rank FROM answer WHERE deliveryId = \(delivery.id)", as: Int.self) != nil else {
                throw DirectoryError.noRelayedAnswer(id)
            }
            guard case .employee = question.asker else { throw DirectoryError.askerIsABot }
            let pair = try await Self.revealPair(connection, question: question, delivery: delivery.id)
            return try await Self.changeReveal(connection, action, pair: pair, by: .specialist, now: now)
        }
    }

    // MARK: - The state machine

    /// Applies one side's action to the pair: the reveal row, the compliance entries and the messages to the other side
    /// (and, once both agreed, to both, with the introduction), in the caller's transaction.
    static func changeReveal(
        _ connection: PostgresConnection, _ action: RevealAction, pair: RevealPair, by side: RevealSide, now: Date
    ) async throws -> RevealChange {
        let current = try await revealRow(connection, delivery: pair.deliveryID)
        var updated = current
        var notices: [(RevealSide, RevealNotice.Event)] = []
        switch (action, current) {
        case (.offer, nil):
            updated = RevealRow(offeredBy: side, state: .offered)
            try await execute(
                connection,
                "INSERT INTO reveal (deliveryId, offeredBy, state, offeredAt) VALUES (\(pair.deliveryID), \(side.rawValue), 'offered', \(now))")
            notices = [(side.other, .offered)]
        case (.offer, let row?) where row.state == .offered && row.offeredBy != side:
            updated?.state = .revealed
            try await execute(connection, "UPDATE reveal SET state = 'revealed', decidedAt = \(now) WHERE deliveryId = \(pair.deliveryID)")
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
            try await execute(connection, "DELETE FROM reveal WHERE deliveryId = \(pair.deliveryID)")
            notices = [(side.other, .withdrawn)]
        case (.withdraw, let row?) where row.state == .revealed, (.decline, let row?) where row.state == .revealed:
            throw DirectoryError.revealAccepted
        case (.withdraw, _):
            throw DirectoryError.noRevealOffer
        case (.decline, let row?) where row.state == .offered && row.offeredBy != side:
            updated?.state = .declined
            try await execute(connection, "UPDATE reveal SET state = 'declined', decidedAt = \(now) WHERE deliveryId = \(pair.deliveryID)")
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
            try await log(
                connection, at: now, direction: "in", kind: "reveal", sender: "employee:\(actor.id)", recipient: "skillrelay",
                questionID: pair.question.publicId, deliveryID: pair.deliveryPublicID, text: "\(verb) (answer \(pair.rank))")
            for (recipientSide, event) in notices { try await notify(connection, pair: pair, side: recipientSide, event: event, now: now) }
            if updated?.state == .revealed { try await introduce(connection, pair: pair, now: now) }
        }
        return RevealChange(
            questionID: pair.question.publicId, rank: pair.rank, deliveryID: pair.deliveryPublicID, specialist: pair.specialist.handle,
            asker: pair.asker.handle, askerView: view(updated, for: .asker, pair: pair), specialistView: view(updated, for: .specialist, pair: pair),
            changed: changed)
    }

    /// Logs a notice to one side and queues it: to the specialist always (their questions come through the IM), to
    /// the asker where they asked through the IM (on the web and in the API, the event stream and the view carry it).
    private static func notify(
        _ connection: PostgresConnection, pair: RevealPair, side: RevealSide, event: RevealNotice.Event, now: Date
    ) async throws {
        let person = side == .asker ? pair.asker : pair.specialist
        let other = side == .asker ? pair.specialist : pair.asker
        let notice = RevealNotice(
            event: event, recipient: person.recipient, side: side, questionID: pair.question.publicId, rank: pair.rank,
            deliveryID: pair.deliveryPublicID, alias: pair.alias, topic: pair.question.topic, other: other.revealed)
        try await log(
            connection, at: now, direction: "out", kind: "reveal_notice", sender: "skillrelay", recipient: "employee:\(person.id)",
            questionID: pair.question.publicId, deliveryID: pair.deliveryPublicID, text: IMConversation.revealText(notice))
        if side == .specialist || pair.question.channel == .im { try await enqueue(connection, .reveal(notice), now: now) }
    }

    /// Queues the introduction of two people who both agreed, and logs it.
    private static func introduce(_ connection: PostgresConnection, pair: RevealPair, now: Date) async throws {
        let introduction = Introduction(
            questionID: pair.question.publicId, rank: pair.rank, deliveryID: pair.deliveryPublicID, topic: pair.question.topic,
            asker: pair.asker.recipient, askerName: pair.asker.name, specialist: pair.specialist.recipient, specialistName: pair.specialist.name)
        try await log(
            connection, at: now, direction: "out", kind: "introduction", sender: "skillrelay",
            recipient: "employee:\(pair.asker.id),employee:\(pair.specialist.id)", questionID: pair.question.publicId,
            deliveryID: pair.deliveryPublicID, text: IMConversation.introductionText(introduction, for: .asker))
        try await enqueue(connection, .introduction(introduction), now: now)
    }

    // MARK: - Reading

    /// The reveal row of a delivery, if any.
    static func revealRow(_ connection: PostgresConnection, delivery: Int64) async throws -> RevealRow? {
        guard let row = try await rows(connection, "SELECT offeredBy, state FROM reveal WHERE deliveryId = \(delivery)").first else { return nil }
        let (offeredBy, state) = try row.decode((String, String).self)
        return RevealRow(offeredBy: offeredBy, state: state)
    }

    /// How one side sees a reveal row: the other person only once both agreed.
    static func view(_ row: RevealRow?, for side: RevealSide, pair: RevealPair) -> RevealView {
        view(row, for: side, other: side == .asker ? pair.specialist.revealed : pair.asker.revealed)
    }

    /// The pair behind a relayed answer: the question's asker (an employee) and the delivery's specialist.
    static func revealPair(_ connection: PostgresConnection, question: QuestionRow, delivery: Int64) async throws -> RevealPair {
        guard
            let row = try await rows(
                connection,
                """
                SELECT delivery.publicId, delivery.number, answer.rank, employee.id, employee.handle, employee.name, employee.imId
                FROM delivery JOIN answer ON answer.deliveryId = delivery.id JOIN employee ON employee.id = delivery.specialistId
                WHERE delivery.id = \(delivery) AND answer.rank IS NOT NULL
                """
            ).first,
            case .employee(let askerHandle) = question.asker
        else { throw DirectoryError.questionNotFound(question.publicId) }
        let (publicID, number, rank, specialistID, handle, name, imID) = try row.decode((String, Int, Int, Int64, String, String, String?).self)
        return RevealPair(
            question: question, deliveryID: delivery, deliveryPublicID: publicID, number: number, rank: rank,
            asker: try await employee(connection, handle: askerHandle),
            specialist: EmployeeRef(id: specialistID, handle: handle, name: name, imID: imID))
    }
}
