import Foundation
import GRDB
import SkillRelayDomain

/// Questions, deliveries, answers, local presence, the compliance log and the outbox, in the directory's database.
public struct SQLiteQuestionStore: QuestionStore {
    let database: AppDatabase
    let clock: any WallClock
    /// How the learned routing's statistics decay, and what counts as in time.
    let learning: RoutingLearning

    public init(database: AppDatabase, clock: any WallClock = SystemWallClock(), learning: RoutingLearning = RoutingLearning()) {
        self.database = database
        self.clock = clock
        self.learning = learning
    }

    var writer: any DatabaseWriter { database.writer }

    // MARK: - Topics and candidates

    // The two topic lookups are on the ask path: short blocking reads, without the async read's thread hand-offs.
    public func resolveTopic(_ slugOrAlias: String) async throws -> TopicReference? {
        try database.blockingRead { db in
            guard let record = try? SQLiteDirectoryStore.topicRecord(db, slugOrAlias: slugOrAlias) else { return nil }
            return TopicReference(slug: record.slug, name: record.name)
        }
    }

    public func topicMatches(forText text: String) async throws -> (exact: [TopicReference], hits: [TopicHit]) {
        let words = Self.words(of: text)
        guard !words.isEmpty else { return ([], []) }
        return try database.blockingRead { db in
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
                db.cachedStatement(
                    sql: """
                        SELECT topic.slug, topic.name, bm25(topicSearch, 10.0, 10.0, 8.0, 1.0) AS score
                        FROM topicSearch JOIN topic ON topic.id = topicSearch.rowid
                        WHERE topicSearch MATCH ? ORDER BY score, topic.slug LIMIT 8
                        """), arguments: [match]
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

    // MARK: - Questions

    /// The question an asker made with an idempotency key, through the index questionByIdempotencyKey.
    static let questionByKeySQL = "SELECT publicId FROM question WHERE askerKey = ? AND idempotencyKey = ?"

    public func question(askedBy asker: Asker, idempotencyKey: String) async throws -> String? {
        // A retry's one indexed read, blocking like the ask path's other reads.
        try database.blockingSingleStatementRead { db in
            try String.fetchOne(db.cachedStatement(sql: Self.questionByKeySQL), arguments: [Self.askerKey(asker), idempotencyKey])
        }
    }

    public func createQuestion(_ question: NewQuestion, firstWave: [Candidate], nextActionAt: Date) async throws -> CreatedQuestion {
        // One short blocking write: the ask path's only transaction.
        try database.blockingWrite { db in
            let askerKey = Self.askerKey(question.asker)
            // Cached statements and plain columns throughout: this transaction runs for every question.
            if let key = question.idempotencyKey,
                let existing = try String.fetchOne(db.cachedStatement(sql: Self.questionByKeySQL), arguments: [askerKey, key])
            {
                return CreatedQuestion(id: existing, created: false, deliveredTo: 0)
            }
            guard let topicID = try Int64.fetchOne(db.cachedStatement(sql: "SELECT id FROM topic WHERE slug = ?"), arguments: [question.topic.slug])
            else { throw DirectoryError.topicNotFound(question.topic.slug) }
            var employeeID: Int64?
            var botName: String?
            switch question.asker {
            case .employee(let handle): employeeID = try SQLiteDirectoryStore.employeeRecord(db, handle: handle).id
            case .bot(let name): botName = name
            }
            try db.executeCached(
                sql: """
                    INSERT INTO question (publicId, askerEmployeeId, askerBotName, askerKey, topicId, text, maxAnswers, status, channel,
                        callbackUrl, idempotencyKey, createdAt, expiresAt, nextActionAt, waves)
                    VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    question.id, employeeID, botName, askerKey, topicID, question.text, question.maxAnswers, question.channel.rawValue,
                    question.callbackURL, question.idempotencyKey, question.createdAt, question.expiresAt, nextActionAt, firstWave.isEmpty ? 0 : 1,
                ])
            let rowID = db.lastInsertedRowID
            try Self.log(
                db, at: question.createdAt, direction: "in", kind: "question", sender: try Self.party(db, question.asker), recipient: "skillrelay",
                questionID: question.id, deliveryID: nil, text: question.text)
            guard !firstWave.isEmpty else { return CreatedQuestion(id: question.id, created: true, deliveredTo: 0) }
            try Self.deliver(
                db, question: (rowID, question.id, question.topic, question.text, question.maxAnswers), wave: 1, numberedAfter: 0, to: firstWave,
                now: question.createdAt)
            return CreatedQuestion(id: question.id, created: true, deliveredTo: firstWave.count)
        }
    }

    public func waveContext(question id: String) async throws -> WaveContext? {
        try await database.read { db in
            guard let question = try QuestionRow.fetch(db, publicId: id), question.status == .open else { return nil }
            var asked: Set<String> = []
            var pending: [PendingDelivery] = []
            let rows = try Row.fetchCursor(
                db.cachedStatement(
                    sql: """
                        SELECT employee.handle, delivery.state, delivery.deliveredAt, delivery.expectedTimely
                        FROM delivery JOIN employee ON employee.id = delivery.specialistId WHERE questionId = ?
                        """), arguments: [question.id])
            while let row = try rows.next() {
                asked.insert(row[0])
                if (row[1] as String) == DeliveryState.pending.rawValue {
                    pending.append(PendingDelivery(deliveredAt: row[2], expectedTimely: row[3]))
                }
            }
            return WaveContext(
                id: id, asker: question.asker, topic: question.topic, waves: question.waves, alreadyAsked: asked, relayed: question.relayed,
                maxAnswers: question.maxAnswers, expiresAt: question.expiresAt, pending: pending)
        }
    }

    public func recordWave(question id: String, after waves: Int, to specialists: [Candidate], nextActionAt: Date, now: Date) async throws
        -> WaveOutcome?
    {
        try await database.write { db in
            guard let question = try QuestionRow.fetch(db, publicId: id), question.status == .open, question.waves == waves else { return nil }
            var count = try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM delivery WHERE questionId = ?"), arguments: [question.id]) ?? 0
            guard !specialists.isEmpty else {
                try db.executeCached(sql: "UPDATE question SET nextActionAt = ? WHERE id = ?", arguments: [nextActionAt, question.id])
                return WaveOutcome(wave: waves, newDeliveries: 0, deliveredTo: count)
            }
            let wave = waves + 1
            try Self.deliver(
                db, question: (question.id, question.publicId, question.topic, question.text, question.maxAnswers), wave: wave, numberedAfter: count,
                to: specialists, now: now)
            count += specialists.count
            try db.executeCached(sql: "UPDATE question SET waves = ?, nextActionAt = ? WHERE id = ?", arguments: [wave, nextActionAt, question.id])
            return WaveOutcome(wave: wave, newDeliveries: specialists.count, deliveredTo: count)
        }
    }

    public func recentAnswerDelays(limit: Int) async throws -> [TimeInterval] {
        try await database.read { db in
            // Newest deliveries first, by their key: no index on answers is needed to find the last few hundred.
            try TimeInterval.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT (julianday(respondedAt) - julianday(deliveredAt)) * 86400 FROM delivery
                        WHERE state = 'answered' AND respondedAt IS NOT NULL ORDER BY id DESC LIMIT ?
                        """), arguments: [max(0, limit)])
        }
    }

    public func expireQuestion(_ id: String, now: Date) async throws -> Bool {
        try await database.write { db in
            guard let question = try QuestionRow.fetch(db, publicId: id), question.status == .open else { return false }
            try Self.close(db, question, reason: .expired, now: now, learning: learning)
            return true
        }
    }

    public func dueQuestions(now: Date, limit: Int) async throws -> [String] {
        try await database.read { db in
            try String.fetchAll(
                db.cachedStatement(sql: "SELECT publicId FROM question WHERE status = 'open' AND nextActionAt <= ? ORDER BY nextActionAt LIMIT ?"),
                arguments: [now, limit])
        }
    }

    public func cancelQuestion(_ id: String, by asker: Asker?, isAdmin: Bool, now: Date) async throws {
        try await database.write { db in
            let question = try Self.visibleQuestion(db, id, asker: asker, isAdmin: isAdmin)
            guard question.status == .open else { throw DirectoryError.questionClosed(id) }
            let sender = try asker.map { try Self.party(db, $0) } ?? "admin"
            try Self.log(
                db, at: now, direction: "in", kind: "cancel", sender: sender, recipient: "skillrelay", questionID: id, deliveryID: nil, text: nil)
            try Self.close(db, question, reason: .cancelled, now: now, learning: learning)
        }
    }

    public func rateAnswer(question id: String, rank: Int, helpful: Bool, by asker: Asker?, isAdmin: Bool, now: Date) async throws {
        try await database.write { db in
            let question = try Self.visibleQuestion(db, id, asker: asker, isAdmin: isAdmin)
            guard
                let row = try Row.fetchOne(
                    db.cachedStatement(
                        sql: """
                            SELECT answer.id, answer.helpful, delivery.specialistId FROM answer JOIN delivery ON delivery.id = answer.deliveryId
                            WHERE answer.questionId = ? AND answer.rank = ?
                            """), arguments: [question.id, rank])
            else { throw DirectoryError.answerNotFound(rank) }
            let previous: Bool? = row["helpful"]
            let specialist: Int64 = row["specialistId"]
            try db.executeCached(sql: "UPDATE answer SET helpful = ?, ratedAt = ? WHERE id = ?", arguments: [helpful, now, row["id"] as Int64])
            try Self.learnRating(db, answer: row["id"], helpful: helpful, previous: previous, now: now, learning: learning)
            try Self.noteRatingForSuggestions(db, answer: row["id"], helpful: helpful, now: now)
            // A changed rating moves the specialist's counters from the old column to the new one.
            if let previous {
                try db.executeCached(
                    sql:
                        "UPDATE specialistRecord SET \(previous ? "helpful" : "unhelpful") = \(previous ? "helpful" : "unhelpful") - 1 WHERE employeeId = ?",
                    arguments: [specialist])
            }
            try db.executeCached(
                sql:
                    "UPDATE specialistRecord SET \(helpful ? "helpful" : "unhelpful") = \(helpful ? "helpful" : "unhelpful") + 1 WHERE employeeId = ?",
                arguments: [specialist])
            let sender = try asker.map { try Self.party(db, $0) } ?? "admin"
            try Self.log(
                db, at: now, direction: "in", kind: "rating", sender: sender, recipient: "skillrelay", questionID: id, deliveryID: nil,
                text: "answer \(rank): \(helpful ? "helpful" : "not helpful")")
        }
    }

    public func questions(askedBy asker: Asker, page: PageRequest) async throws -> ListPage<AskedQuestion> {
        try await database.read { db in
            let askerKey = Self.askerKey(asker)
            // The cursor names the last question shown; it must be one of this asker's.
            var after = Int64.max
            if let cursor = page.after {
                guard
                    let id = try Int64.fetchOne(
                        db.cachedStatement(sql: "SELECT id FROM question WHERE publicId = ? AND askerKey = ?"), arguments: [cursor.keys[0], askerKey])
                else { throw InvalidCursor() }
                after = id
            }
            let rows = try Row.fetchAll(
                db, sql: Self.askedQuestionsSQL, arguments: [askerKey, after, page.limit + 1]
            ).map { row in
                AskedQuestion(
                    id: row[0], topic: TopicReference(slug: row[1], name: row[2]), text: row[3], status: QuestionStatus(rawValue: row[4]) ?? .open,
                    answers: row[5], createdAt: row[6])
            }
            return ListPage(rows: rows, limit: page.limit, list: .questions) { [$0.id] }
        }
    }

    /// An asker's questions (key ?1) older than row ?2, newest first, ?3 at most: a range of `questionByAsker`.
    package static let askedQuestionsSQL = """
        SELECT question.publicId, topic.slug, topic.name, question.text, question.status, question.relayed, question.createdAt
        FROM question JOIN topic ON topic.id = question.topicId
        WHERE question.askerKey = ?1 AND question.id < ?2 ORDER BY question.id DESC LIMIT ?3
        """

    public func questionView(_ id: String, for asker: Asker?, isAdmin: Bool) async throws -> QuestionView {
        try await database.read { db in
            let question = try Self.visibleQuestion(db, id, asker: asker, isAdmin: isAdmin)
            let answers = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT answer.rank, answer.text, answer.receivedAt, answer.helpful, answer.labelKind, answer.labelLevel, answer.labelBand,
                            delivery.number, delivery.level
                        FROM answer JOIN delivery ON delivery.id = answer.deliveryId
                        WHERE answer.questionId = ? AND answer.rank IS NOT NULL ORDER BY answer.rank
                        """), arguments: [question.id]
            ).map { Self.relayedAnswer($0, topic: question.topic.slug) }
            let delivered =
                try Int.fetchOne(db.cachedStatement(sql: "SELECT count(*) FROM delivery WHERE questionId = ?"), arguments: [question.id]) ?? 0
            var view = QuestionView(
                id: id, status: question.status, topic: question.topic, text: question.text, maxAnswers: question.maxAnswers,
                deliveredTo: delivered, waves: question.waves, createdAt: question.createdAt, expiresAt: question.expiresAt,
                closedAt: question.closedAt, answers: answers, reveals: try Self.askerReveals(db, question: question.id))
            view.followUps = try Self.followUps(db, question: question.id).map { followUp in
                // An admin reading someone else's question is not the "you" of the asker's messages.
                guard question.asker != asker, followUp.from == .asker else { return followUp }
                var seen = followUp
                seen.alias = "the asker"
                return seen
            }
            return view
        }
    }
}
