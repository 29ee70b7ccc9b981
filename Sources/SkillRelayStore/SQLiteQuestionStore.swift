import Foundation
import GRDB
import SkillRelayDomain

/// Questions, deliveries, answers, local presence, the compliance log and the outbox, in the directory's database.
public struct SQLiteQuestionStore: QuestionStore {
    let database: AppDatabase
    let clock: any WallClock

    public init(database: AppDatabase, clock: any WallClock = SystemWallClock()) {
        self.database = database
        self.clock = clock
    }

    var writer: any DatabaseWriter { database.writer }

    // MARK: - Topics and candidates

    public func resolveTopic(_ slugOrAlias: String) async throws -> TopicReference? {
        try await writer.read { db in
            guard let record = try? SQLiteDirectoryStore.topicRecord(db, slugOrAlias: slugOrAlias) else { return nil }
            return TopicReference(slug: record.slug, name: record.name)
        }
    }

    public func topicMatches(forText text: String) async throws -> (exact: [TopicReference], hits: [TopicHit]) {
        let words = Self.words(of: text)
        guard !words.isEmpty else { return ([], []) }
        return try await writer.read { db in
            let exact = try Row.fetchAll(
                db,
                sql: """
                    SELECT DISTINCT topic.slug, topic.name FROM topic
                    LEFT JOIN topicAlias ON topicAlias.topicId = topic.id
                    WHERE topic.slug IN (\(databaseQuestionMarks(count: words.count)))
                       OR topicAlias.alias IN (\(databaseQuestionMarks(count: words.count)))
                    ORDER BY topic.slug
                    """, arguments: StatementArguments(words + words)
            ).map { TopicReference(slug: $0["slug"], name: $0["name"]) }
            let match = words.map { "\"\($0)\"" }.joined(separator: " OR ")
            let hits = try Row.fetchAll(
                db,
                sql: """
                    SELECT topic.slug, topic.name, bm25(topicSearch, 10.0, 10.0, 8.0, 1.0) AS score
                    FROM topicSearch JOIN topic ON topic.id = topicSearch.rowid
                    WHERE topicSearch MATCH ? ORDER BY score, topic.slug LIMIT 8
                    """, arguments: [match]
            ).map { TopicHit(topic: TopicReference(slug: $0["slug"], name: $0["name"]), score: $0["score"]) }
            return (exact, hits)
        }
    }

    /// The words of a question worth searching for: lowercased, two characters or more (so `go`, `ml` and `k8s`
    /// count), common English words left out.
    static func words(of text: String) -> [String] {
        var seen: Set<String> = []
        return text.lowercased().split { !($0.isLetter || $0.isNumber || $0 == "-") }.map(String.init)
            .filter { $0.count >= 2 && !stopWords.contains($0) && seen.insert($0).inserted }
            .prefix(32).map { $0 }
    }

    static let stopWords: Set<String> = [
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "could", "do", "does", "for", "from", "has", "have", "how", "i",
        "if", "in", "is", "it", "its", "me", "my", "no", "not", "of", "on", "or", "our", "should", "so", "that", "the", "their", "there",
        "this", "to", "up", "us", "was", "we", "what", "when", "where", "which", "who", "why", "will", "with", "would", "you", "your",
        "anyone", "someone", "know", "help", "need", "get", "any", "about", "into", "out", "there", "here", "some", "please", "thanks",
    ]

    public func candidates(forTopic slug: String, now: Date) async throws -> [Candidate] {
        try await writer.read { db in
            guard let topic = try TopicRecord.filter(TopicRecord.Columns.slug == slug).fetchOne(db) else { return [] }
            return try Row.fetchAll(
                db,
                sql: """
                    WITH RECURSIVE subtree(id) AS (
                        SELECT ? UNION SELECT topic.id FROM topic JOIN subtree ON topic.parentId = subtree.id
                    ),
                    best AS (
                        -- level * 2, plus one when someone vouched for it: the best level, vouched-for first.
                        SELECT employeeId, max(level * 2 + (source <> 'self')) AS score
                        FROM skill WHERE topicId IN subtree GROUP BY employeeId
                    )
                    SELECT employee.handle, employee.imId, best.score, employee.isActive, employee.pausedUntil,
                        ifnull(record.delivered, 0) AS delivered, ifnull(record.answered, 0) AS answered,
                        ifnull(record.helpful, 0) AS helpful, ifnull(record.unhelpful, 0) AS unhelpful, record.lastDeliveredAt,
                        (SELECT count(*) FROM delivery WHERE delivery.specialistId = employee.id AND delivery.deliveredAt > ?) AS lastHour
                    FROM best
                    JOIN employee ON employee.id = best.employeeId
                    LEFT JOIN specialistRecord AS record ON record.employeeId = employee.id
                    WHERE employee.isActive
                    ORDER BY best.score DESC, employee.handle
                    LIMIT 1000
                    """, arguments: [topic.id!, now.addingTimeInterval(-3600)]
            ).map { row in
                let score: Int = row["score"]
                return Candidate(
                    handle: row["handle"], imID: row["imId"], level: score / 2, source: score % 2 == 1 ? .manager : .selfDeclared,
                    isActive: row["isActive"], pausedUntil: row["pausedUntil"], lastInterruptedAt: row["lastDeliveredAt"],
                    deliveriesLastHour: row["lastHour"],
                    record: AnswerRecord(delivered: row["delivered"], answered: row["answered"], helpful: row["helpful"], unhelpful: row["unhelpful"])
                )
            }
        }
    }

    // MARK: - Questions

    public func createQuestion(_ question: NewQuestion) async throws -> (id: String, created: Bool) {
        try await writer.write { db in
            let askerKey = Self.askerKey(question.asker)
            if let key = question.idempotencyKey,
                let existing = try String.fetchOne(
                    db, sql: "SELECT publicId FROM question WHERE askerKey = ? AND idempotencyKey = ?", arguments: [askerKey, key])
            {
                return (existing, false)
            }
            let topic = try SQLiteDirectoryStore.topicRecord(db, slugOrAlias: question.topic.slug)
            var employeeID: Int64?
            var botName: String?
            switch question.asker {
            case .employee(let handle): employeeID = try SQLiteDirectoryStore.employeeRecord(db, handle: handle).id
            case .bot(let name): botName = name
            }
            try db.execute(
                sql: """
                    INSERT INTO question (publicId, askerEmployeeId, askerBotName, askerKey, topicId, text, maxAnswers, status, channel,
                        callbackUrl, idempotencyKey, createdAt, expiresAt, nextActionAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    question.id, employeeID, botName, askerKey, topic.id!, question.text, question.maxAnswers, question.channel.rawValue,
                    question.callbackURL, question.idempotencyKey, question.createdAt, question.expiresAt, question.createdAt,
                ])
            try Self.log(
                db, at: question.createdAt, direction: "in", kind: "question", sender: try Self.party(db, question.asker), recipient: "skillrelay",
                questionID: question.id, deliveryID: nil, text: question.text)
            return (question.id, true)
        }
    }

    public func waveContext(question id: String) async throws -> WaveContext? {
        try await writer.read { db in
            guard let question = try QuestionRow.fetch(db, publicId: id), question.status == .open else { return nil }
            let asked = try String.fetchAll(
                db, sql: "SELECT employee.handle FROM delivery JOIN employee ON employee.id = delivery.specialistId WHERE questionId = ?",
                arguments: [question.id])
            return WaveContext(
                id: id, asker: question.asker, topic: question.topic, waves: question.waves, alreadyAsked: Set(asked), relayed: question.relayed,
                maxAnswers: question.maxAnswers, expiresAt: question.expiresAt)
        }
    }

    public func recordWave(question id: String, after waves: Int, to specialists: [Candidate], nextActionAt: Date, now: Date) async throws
        -> WaveOutcome?
    {
        try await writer.write { db in
            guard let question = try QuestionRow.fetch(db, publicId: id), question.status == .open, question.waves == waves else { return nil }
            var count = try Int.fetchOne(db, sql: "SELECT count(*) FROM delivery WHERE questionId = ?", arguments: [question.id]) ?? 0
            guard !specialists.isEmpty else {
                try db.execute(sql: "UPDATE question SET nextActionAt = ? WHERE id = ?", arguments: [nextActionAt, question.id])
                return WaveOutcome(wave: waves, newDeliveries: 0, deliveredTo: count)
            }
            let wave = waves + 1
            for specialist in specialists {
                let employee = try SQLiteDirectoryStore.employeeRecord(db, handle: specialist.handle)
                count += 1
                let deliveryID = IdentifierGenerator.make(prefix: "d")
                try db.execute(
                    sql: """
                        INSERT INTO delivery (publicId, questionId, specialistId, number, wave, level, state, deliveredAt)
                        VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)
                        """, arguments: [deliveryID, question.id, employee.id!, count, wave, specialist.level, now])
                try db.execute(
                    sql: """
                        INSERT INTO specialistRecord (employeeId, delivered, lastDeliveredAt) VALUES (?, 1, ?)
                        ON CONFLICT (employeeId) DO UPDATE SET delivered = delivered + 1, lastDeliveredAt = excluded.lastDeliveredAt
                        """, arguments: [employee.id!, now])
                try Self.log(
                    db, at: now, direction: "out", kind: "delivery", sender: "skillrelay", recipient: "employee:\(employee.id!)", questionID: id,
                    deliveryID: deliveryID, text: question.text)
                try Self.enqueue(
                    db,
                    .question(
                        QuestionMessage(
                            deliveryID: deliveryID, recipient: Recipient(handle: employee.handle, imID: employee.imId), topic: question.topic,
                            text: question.text, maxAnswers: question.maxAnswers)), now: now)
            }
            try db.execute(sql: "UPDATE question SET waves = ?, nextActionAt = ? WHERE id = ?", arguments: [wave, nextActionAt, question.id])
            return WaveOutcome(wave: wave, newDeliveries: specialists.count, deliveredTo: count)
        }
    }

    public func expireQuestion(_ id: String, now: Date) async throws -> Bool {
        try await writer.write { db in
            guard let question = try QuestionRow.fetch(db, publicId: id), question.status == .open else { return false }
            try Self.close(db, question, reason: .expired, now: now)
            return true
        }
    }

    public func dueQuestions(now: Date, limit: Int) async throws -> [String] {
        try await writer.read { db in
            try String.fetchAll(
                db, sql: "SELECT publicId FROM question WHERE status = 'open' AND nextActionAt <= ? ORDER BY nextActionAt LIMIT ?",
                arguments: [now, limit])
        }
    }

    public func cancelQuestion(_ id: String, by asker: Asker?, isAdmin: Bool, now: Date) async throws {
        try await writer.write { db in
            let question = try Self.visibleQuestion(db, id, asker: asker, isAdmin: isAdmin)
            guard question.status == .open else { throw DirectoryError.questionClosed(id) }
            let sender = try asker.map { try Self.party(db, $0) } ?? "admin"
            try Self.log(
                db, at: now, direction: "in", kind: "cancel", sender: sender, recipient: "skillrelay", questionID: id, deliveryID: nil, text: nil)
            try Self.close(db, question, reason: .cancelled, now: now)
        }
    }

    public func rateAnswer(question id: String, rank: Int, helpful: Bool, by asker: Asker?, isAdmin: Bool, now: Date) async throws {
        try await writer.write { db in
            let question = try Self.visibleQuestion(db, id, asker: asker, isAdmin: isAdmin)
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT answer.id, answer.helpful, delivery.specialistId FROM answer JOIN delivery ON delivery.id = answer.deliveryId
                        WHERE answer.questionId = ? AND answer.rank = ?
                        """, arguments: [question.id, rank])
            else { throw DirectoryError.answerNotFound(rank) }
            let previous: Bool? = row["helpful"]
            let specialist: Int64 = row["specialistId"]
            try db.execute(sql: "UPDATE answer SET helpful = ?, ratedAt = ? WHERE id = ?", arguments: [helpful, now, row["id"] as Int64])
            // A changed rating moves the specialist's counters from the old column to the new one.
            if let previous {
                try db.execute(
                    sql:
                        "UPDATE specialistRecord SET \(previous ? "helpful" : "unhelpful") = \(previous ? "helpful" : "unhelpful") - 1 WHERE employeeId = ?",
                    arguments: [specialist])
            }
            try db.execute(
                sql:
                    "UPDATE specialistRecord SET \(helpful ? "helpful" : "unhelpful") = \(helpful ? "helpful" : "unhelpful") + 1 WHERE employeeId = ?",
                arguments: [specialist])
            let sender = try asker.map { try Self.party(db, $0) } ?? "admin"
            try Self.log(
                db, at: now, direction: "in", kind: "rating", sender: sender, recipient: "skillrelay", questionID: id, deliveryID: nil,
                text: "answer \(rank): \(helpful ? "helpful" : "not helpful")")
        }
    }

    public func questionView(_ id: String, for asker: Asker?, isAdmin: Bool) async throws -> QuestionView {
        try await writer.read { db in
            let question = try Self.visibleQuestion(db, id, asker: asker, isAdmin: isAdmin)
            let answers = try Row.fetchAll(
                db,
                sql: """
                    SELECT answer.rank, answer.text, answer.receivedAt, answer.helpful, delivery.number, delivery.level
                    FROM answer JOIN delivery ON delivery.id = answer.deliveryId
                    WHERE answer.questionId = ? AND answer.rank IS NOT NULL ORDER BY answer.rank
                    """, arguments: [question.id]
            ).map { Self.relayedAnswer($0, topic: question.topic.slug) }
            let delivered = try Int.fetchOne(db, sql: "SELECT count(*) FROM delivery WHERE questionId = ?", arguments: [question.id]) ?? 0
            return QuestionView(
                id: id, status: question.status, topic: question.topic, text: question.text, maxAnswers: question.maxAnswers,
                deliveredTo: delivered, waves: question.waves, createdAt: question.createdAt, expiresAt: question.expiresAt,
                closedAt: question.closedAt, answers: answers)
        }
    }
}
