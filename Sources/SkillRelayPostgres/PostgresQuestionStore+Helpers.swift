import Foundation
import PostgresNIO
import SkillRelayDomain

/// A question row with its topic and asker resolved.
struct QuestionRow: Sendable {
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

    // Columns by position: `init(row:)` decodes them in this order.
    private static let select = """
        SELECT question.id, question.publicId, question.askerEmployeeId, employee.handle, question.askerBotName, topic.slug, topic.name,
            question.text, question.maxAnswers, question.status, question.channel, question.callbackUrl, question.waves, question.relayed,
            question.createdAt, question.expiresAt, question.closedAt
        FROM question JOIN topic ON topic.id = question.topicId LEFT JOIN employee ON employee.id = question.askerEmployeeId
        """

    static func fetch(_ connection: PostgresConnection, publicId: String) async throws -> QuestionRow? {
        try await PostgresQuestionStore.rows(connection, "\(unescaped: select) WHERE question.publicId = \(publicId)").first.map(
            QuestionRow.init(row:))
    }

    static func fetch(_ connection: PostgresConnection, id: Int64) async throws -> QuestionRow? {
        try await PostgresQuestionStore.rows(connection, "\(unescaped: select) WHERE question.id = \(id)").first.map(QuestionRow.init(row:))
    }

    init(row: PostgresRow) throws {
        let columns = try row.decode(
            (Int64, String, Int64?, String?, String?, String, String, String, Int, String, String, String?, Int, Int, Date, Date, Date?).self)
        id = columns.0
        publicId = columns.1
        askerEmployeeId = columns.2
        if let handle = columns.3 { asker = .employee(handle) } else { asker = .bot(columns.4 ?? "") }
        topic = TopicReference(slug: columns.5, name: columns.6)
        text = columns.7
        maxAnswers = columns.8
        status = QuestionStatus(rawValue: columns.9) ?? .open
        channel = QuestionChannel(rawValue: columns.10) ?? .api
        callbackURL = columns.11
        waves = columns.12
        relayed = columns.13
        createdAt = columns.14
        expiresAt = columns.15
        closedAt = columns.16
    }
}

/// A delivery row.
struct DeliveryRow: Sendable {
    var id: Int64
    var questionId: Int64
    var specialistId: Int64
    var number: Int
    var level: Int
    var state: DeliveryState
}

/// An employee as the question store needs one: the row id and how to reach them.
struct EmployeeRef: Sendable {
    var id: Int64
    var handle: String
    var name: String
    var imID: String?

    var recipient: Recipient { Recipient(handle: handle, imID: imID) }
}

/// The JSON bodies POSTed to a bot's callback URL (the same bytes as the SQLite store's).
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

// MARK: - Running statements

extension PostgresQuestionStore {
    /// Every row of a query.
    static func rows(_ connection: PostgresConnection, _ query: PostgresQuery) async throws -> [PostgresRow] {
        try await connection.query(query, logger: connection.logger).collect()
    }

    /// The first column of the first row, if there is a row (and the value is not null).
    static func value<T: PostgresDecodable>(_ connection: PostgresConnection, _ query: PostgresQuery, as type: T.Type = T.self) async throws
        -> T?
    {
        guard let cell = try await rows(connection, query).first?.makeRandomAccess()[0], cell.bytes != nil else { return nil }
        return try cell.decode(T.self)
    }

    /// Runs a statement whose rows (if any) nobody reads.
    static func execute(_ connection: PostgresConnection, _ query: PostgresQuery) async throws {
        _ = try await rows(connection, query)
    }
}

// MARK: - Shared by every transaction

extension PostgresQuestionStore {
    /// Closes a question: every specialist still holding it is told, and so is the asker where they asked by IM or
    /// gave a callback.
    static func close(_ connection: PostgresConnection, _ question: QuestionRow, reason: CloseReason, now: Date, learning: RoutingLearning)
        async throws
    {
        try await learnSilence(connection, question: question.id, now: now, learning: learning)
        let status: QuestionStatus =
            switch reason {
            case .answered: .answered
            case .expired: .expired
            case .cancelled: .cancelled
            }
        try await execute(
            connection,
            "UPDATE question SET status = \(status.rawValue), closedAt = \(now), nextActionAt = NULL, claimedUntil = NULL WHERE id = \(question.id)")
        // Closed by the same statement that reads them: the holders are exactly the deliveries this close ends.
        let holders = try await rows(
            connection,
            """
            WITH closed AS (
                UPDATE delivery SET state = 'closed' WHERE questionId = \(question.id) AND state = 'pending' RETURNING id, publicId, specialistId
            )
            SELECT closed.publicId, employee.id, employee.handle, employee.imId
            FROM closed JOIN employee ON employee.id = closed.specialistId ORDER BY closed.id
            """
        ).map { try $0.decode((String, Int64, String, String?).self) }
        try await noteUnansweredForSuggestions(connection, question: question.id, holders: holders.map(\.1), reason: reason, now: now)
        for (deliveryID, employeeID, handle, imID) in holders {
            try await log(
                connection, at: now, direction: "out", kind: "notice", sender: "skillrelay", recipient: "employee:\(employeeID)",
                questionID: question.publicId, deliveryID: deliveryID, text: "closed: \(reason.rawValue)")
            try await enqueue(
                connection,
                .closed(
                    ClosedMessage(deliveryID: deliveryID, recipient: Recipient(handle: handle, imID: imID), topic: question.topic, reason: reason)),
                now: now)
        }
        try await log(
            connection, at: now, direction: "out", kind: "notice", sender: "skillrelay", recipient: try await party(connection, question.asker),
            questionID: question.publicId, deliveryID: nil, text: "closed: \(reason.rawValue) with \(question.relayed) answer(s)")
        if question.channel == .im, let asker = try await recipient(connection, question.asker) {
            try await enqueue(
                connection,
                .askerNotice(
                    AskerNotice(questionID: question.publicId, asker: asker, topic: question.topic, reason: reason, answerCount: question.relayed)),
                now: now)
        }
        if let url = question.callbackURL {
            try await enqueue(
                connection,
                .callback(
                    CallbackMessage(
                        questionID: question.publicId, url: url,
                        body: CallbackBody.closed(question.publicId, reason: reason, answers: question.relayed))),
                now: now)
        }
    }

    /// Delivers a question to `specialists` as wave `wave`, numbering them after the `numberedAfter` already holding it:
    /// a delivery each, their records, compliance entries and outbox messages, in one call of `deliverWave` whatever the
    /// wave's size, since every round trip is taken under the write lock.
    static func deliver(
        _ connection: PostgresConnection, question: (id: Int64, publicId: String, topic: TopicReference, text: String, maxAnswers: Int),
        wave: Int, numberedAfter: Int, to specialists: [Candidate], employees: [String: WaveEmployee], now: Date
    ) async throws {
        guard !specialists.isEmpty else { return }
        let batch = try DeliveryWave(
            question: (question.topic, question.text, question.maxAnswers), specialists: specialists, employees: employees)
        try await execute(
            connection,
            """
            SELECT deliverWave(
                \(question.id), \(question.publicId), \(question.text), \(wave)::integer, \(numberedAfter)::integer, \(now), \(batch.publicIDs)::text[],
                \(batch.employeeIDs)::bigint[], \(batch.levels)::integer[], \(batch.trials)::boolean[], \(batch.expectationKnown)::boolean[],
                \(batch.expectations)::double precision[], \(batch.messages)::text[], \(batch.destinations)::text[])
            """)
    }

    /// A wave's people, by handle, as `deliver` needs them: their ids and IM ids.
    static func waveEmployees(_ connection: PostgresConnection, _ specialists: [Candidate]) async throws -> [String: WaveEmployee] {
        guard !specialists.isEmpty else { return [:] }
        var employees: [String: WaveEmployee] = [:]
        for row in try await rows(connection, "SELECT handle, id, imId FROM employee WHERE handle = ANY(\(specialists.map(\.handle)))") {
            let (handle, id, imID) = try row.decode((String, Int64, String?).self)
            employees[handle] = WaveEmployee(id: id, imID: imID)
        }
        return employees
    }

    struct WaveEmployee: Sendable {
        var id: Int64
        var imID: String?
    }

    /// One wave's rows, column by column, as `deliverWave` takes them: the deliveries' new ids and the outbox messages
    /// telling each specialist.
    struct DeliveryWave {
        var publicIDs: [String] = []
        var employeeIDs: [Int64] = []
        var levels: [Int] = []
        var trials: [Bool] = []
        /// Whether the delivery has an expectation (arrays cannot hold NULL from Swift's optionals): where not,
        /// `expectations` holds a 0 that is not written.
        var expectationKnown: [Bool] = []
        var expectations: [Double] = []
        var messages: [String] = []
        var destinations: [String] = []

        init(
            question: (topic: TopicReference, text: String, maxAnswers: Int), specialists: [Candidate],
            employees: [String: WaveEmployee]
        ) throws {
            for specialist in specialists {
                guard let employee = employees[specialist.handle] else { throw DirectoryError.employeeNotFound(specialist.handle) }
                let deliveryID = IdentifierGenerator.make(prefix: "d")
                let message = OutboxMessage.question(
                    QuestionMessage(
                        deliveryID: deliveryID, recipient: Recipient(handle: specialist.handle, imID: employee.imID), topic: question.topic,
                        text: question.text, maxAnswers: question.maxAnswers))
                publicIDs.append(deliveryID)
                employeeIDs.append(employee.id)
                levels.append(specialist.level)
                trials.append(specialist.learned.topic.outcomes < RoutingFigures.trialOutcomes)
                expectationKnown.append(specialist.expectedTimely != nil)
                expectations.append(specialist.expectedTimely ?? 0)
                messages.append(try PostgresQuestionStore.outboxJSON(message))
                destinations.append(message.destination)
            }
        }
    }

    /// Appends to the compliance log.
    static func log(
        _ connection: PostgresConnection, at: Date, direction: String, kind: String, sender: String, recipient: String, questionID: String?,
        deliveryID: String?, text: String?
    ) async throws {
        try await execute(
            connection,
            """
            INSERT INTO complianceEntry (at, direction, kind, sender, recipient, questionId, deliveryId, text)
            VALUES (\(at), \(direction), \(kind), \(sender), \(recipient), \(questionID), \(deliveryID), \(text))
            """)
    }

    /// How the outbox keeps a message (`enqueue`'s and `deliver`'s).
    static func outboxJSON(_ message: OutboxMessage) throws -> String {
        String(decoding: try JSONEncoder().encode(message), as: UTF8.self)
    }

    /// Queues a message, to be sent after the transaction commits.
    static func enqueue(_ connection: PostgresConnection, _ message: OutboxMessage, now: Date) async throws {
        let json = try outboxJSON(message)
        try await execute(
            connection,
            "INSERT INTO outbox (message, destination, createdAt, nextAttemptAt) VALUES (\(json), \(message.destination), \(now), \(now))")
    }

    /// An employee by handle, or `employeeNotFound`.
    static func employee(_ connection: PostgresConnection, handle: String) async throws -> EmployeeRef {
        guard let row = try await rows(connection, "SELECT id, handle, name, imId FROM employee WHERE handle = \(handle)").first else {
            throw DirectoryError.employeeNotFound(handle)
        }
        let (id, handle, name, imID) = try row.decode((Int64, String, String, String?).self)
        return EmployeeRef(id: id, handle: handle, name: name, imID: imID)
    }

    /// How the compliance log names an asker: by internal id, not handle.
    static func party(_ connection: PostgresConnection, _ asker: Asker) async throws -> String {
        switch asker {
        case .employee(let handle): "employee:\(try await employee(connection, handle: handle).id)"
        case .bot(let name): "bot:\(name)"
        }
    }

    /// Turns `employee:<handle>` into `employee:<internal id>`; other names pass through.
    static func internalName(_ connection: PostgresConnection, _ name: String) async throws -> String {
        guard name.hasPrefix("employee:") else { return name }
        return try await party(connection, .employee(String(name.dropFirst("employee:".count))))
    }

    /// Where an asker's IM messages go; bots have none.
    static func recipient(_ connection: PostgresConnection, _ asker: Asker) async throws -> Recipient? {
        guard case .employee(let handle) = asker else { return nil }
        return try await employee(connection, handle: handle).recipient
    }

    static func askerKey(_ asker: Asker) -> String {
        switch asker {
        case .employee(let handle): "employee:\(handle)"
        case .bot(let name): "bot:\(name)"
        }
    }

    /// The columns `relayedAnswer` decodes, in its order: a relayed answer with its label and its delivery's alias.
    static let relayedAnswerColumns = """
        answer.rank, answer.text, answer.receivedAt, answer.helpful, answer.labelKind, answer.labelLevel, answer.labelBand,
            delivery.number, delivery.level
        """

    /// A row that starts with `relayedAnswerColumns`.
    static func relayedAnswer(_ row: PostgresRow, topic: String) throws -> RelayedAnswer {
        let (rank, text, receivedAt, helpful, kind, labelLevel, band, number, level) = try row.decode(
            (Int, String, Date, Bool?, String?, Int?, String?, Int, Int).self)
        return RelayedAnswer(
            rank: rank, alias: "specialist \(number)",
            label: storedLabel(kind: kind, level: labelLevel, band: band, deliveryLevel: level, topic: topic), text: text,
            receivedAt: receivedAt, helpful: helpful)
    }

    /// The question, if the caller is its asker or an admin; otherwise `questionNotFound`, so ids cannot be probed.
    static func visibleQuestion(_ connection: PostgresConnection, _ id: String, asker: Asker?, isAdmin: Bool) async throws -> QuestionRow {
        guard let question = try await QuestionRow.fetch(connection, publicId: id), isAdmin || question.asker == asker else {
            throw DirectoryError.questionNotFound(id)
        }
        return question
    }

    /// A delivery to the given specialist; anyone else's is `deliveryNotFound`.
    static func delivery(_ connection: PostgresConnection, _ id: String, of handle: String) async throws -> DeliveryRow {
        guard
            let row = try await rows(
                connection,
                """
                SELECT delivery.id, delivery.questionId, delivery.specialistId, delivery.number, delivery.level, delivery.state
                FROM delivery JOIN employee ON employee.id = delivery.specialistId
                WHERE delivery.publicId = \(id) AND employee.handle = \(handle)
                """
            ).first
        else { throw DirectoryError.deliveryNotFound(id) }
        let (rowID, questionID, specialistID, number, level, state) = try row.decode((Int64, Int64, Int64, Int, Int, String).self)
        return DeliveryRow(
            id: rowID, questionId: questionID, specialistId: specialistID, number: number, level: level,
            state: DeliveryState(rawValue: state) ?? .closed)
    }

    /// The ids of a topic (by slug or alias) and every topic below it, the topic first, or `nil` for an unknown topic.
    static func subtree(_ connection: PostgresConnection, of slugOrAlias: String) async throws -> [Int64]? {
        let topics = try await value(connection, "SELECT topicSubtree(\(slugOrAlias.lowercased()))", as: [Int64].self) ?? []
        return topics.isEmpty ? nil : topics
    }
}

// MARK: - Threads and reveals, as the question's views read them

/// A reveal row: who offered, and where it stands.
struct RevealRow: Sendable {
    enum State: String {
        case offered, revealed, declined
    }

    var offeredBy: RevealSide
    var state: State
}

extension PostgresQuestionStore {
    /// Every follow-up of a question's threads, oldest first, as the asker sees them.
    static func followUps(_ connection: PostgresConnection, question: Int64) async throws -> [FollowUp] {
        try await rows(
            connection,
            """
            SELECT answer.rank, delivery.number, followUp.sender, followUp.text, followUp.sentAt
            FROM followUp JOIN answer ON answer.id = followUp.answerId JOIN delivery ON delivery.id = answer.deliveryId
            WHERE followUp.questionId = \(question) ORDER BY followUp.id
            """
        ).map { row in
            let (rank, number, sender, text, sentAt) = try row.decode((Int, Int, String, String, Date).self)
            return followUp(rank: rank, from: FollowUpSide(rawValue: sender) ?? .asker, seenBy: .asker, number: number, text: text, at: sentAt)
        }
    }

    static func followUp(rank: Int, from sender: FollowUpSide, seenBy viewer: FollowUpSide, number: Int, text: String, at: Date) -> FollowUp {
        FollowUp(rank: rank, from: sender, alias: FollowUp.alias(of: sender, seenBy: viewer, specialistNumber: number), text: text, sentAt: at)
    }

    /// Keeps the IM's reference of a relayed answer or follow-up sent into one side's conversation.
    static func keepThreadReference(
        _ connection: PostgresConnection, key: ThreadReferenceKey, reference: String, now: Date, replacing: Bool
    ) async throws {
        guard
            let answer = try await value(
                connection,
                """
                SELECT answer.id FROM answer JOIN question ON question.id = answer.questionId
                WHERE question.publicId = \(key.questionID) AND answer.rank = \(key.rank)
                """, as: Int64.self)
        else { return }
        try await execute(
            connection,
            """
            INSERT INTO threadReference (reference, answerId, side, sentAt) VALUES (\(reference), \(answer), \(key.side.rawValue), \(now))
            ON CONFLICT (reference) DO UPDATE SET answerId = excluded.answerId, side = excluded.side, sentAt = excluded.sentAt
            WHERE \(replacing)
            """)
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
    static func askerReveals(_ connection: PostgresConnection, question: Int64) async throws -> [Int: RevealView] {
        var reveals: [Int: RevealView] = [:]
        for row in try await rows(
            connection,
            """
            SELECT answer.rank, reveal.offeredBy, reveal.state, employee.name, employee.imId
            FROM reveal JOIN answer ON answer.deliveryId = reveal.deliveryId
            JOIN delivery ON delivery.id = reveal.deliveryId JOIN employee ON employee.id = delivery.specialistId
            WHERE answer.questionId = \(question) AND answer.rank IS NOT NULL
            """)
        {
            let (rank, offeredBy, state, name, imID) = try row.decode((Int, String, String, String, String?).self)
            guard let side = RevealSide(rawValue: offeredBy), let state = RevealRow.State(rawValue: state) else { continue }
            reveals[rank] = view(RevealRow(offeredBy: side, state: state), for: .asker, other: RevealedPerson(name: name, imID: imID))
        }
        return reveals
    }
}
