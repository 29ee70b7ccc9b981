import Foundation
import Logging
import PostgresNIO
import SkillRelayDomain
import Synchronization

/// Questions, deliveries, answers, local presence, the compliance log and the outbox on PostgreSQL: the SQLite store's
/// behaviour, shared by every instance. Writes hold the database's write lock (one writer at a time, as with SQLite);
/// the outbox and the due questions are claimed with a lease, so that two instances never take the same one.
public struct PostgresQuestionStore: Sendable {
    let database: PostgresAppDatabase
    let clock: any WallClock
    /// How the learned routing's statistics decay, and what counts as in time.
    let learning: RoutingLearning
    /// What this instance claimed and has not marked yet (shared by every copy of the store).
    let claims = Claims()

    public init(database: PostgresAppDatabase, clock: any WallClock = SystemWallClock(), learning: RoutingLearning = RoutingLearning()) {
        self.database = database
        self.clock = clock
        self.learning = learning
    }

    /// How long a claimed outbox message or due question stays with the instance that claimed it: if that instance
    /// dies before it marks the row, another takes it once the lease is over.
    static let claimLease: TimeInterval = 60
    /// The advisory lock claims of outbox messages take (`pg_advisory_xact_lock`): one claimer at a time, so that a
    /// claim sees every claim made before it and a destination's messages never go to two instances at once.
    static let outboxClaimLock: Int64 = 0x536B_696C_6C52_0010
    /// The same for due questions.
    static let questionClaimLock: Int64 = 0x536B_696C_6C52_0011

    /// A write transaction (`PostgresAppDatabase.write`: one writer at a time, as with SQLite).
    func write<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await database.write(body)
    }

    /// A transaction without the write lock, for writes to rows this instance alone holds (its claims), each statement
    /// complete by itself: they need no place in the writers' order, and do not wait for the ask path's writes.
    func writeClaimed<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await database.transaction(holding: nil, body)
    }

    /// A transaction holding `lock` rather than the write lock: claims do not wait for the ask path's writes.
    func claiming<T: Sendable>(_ lock: Int64, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await database.transaction(holding: lock, body)
    }
}

/// The outbox messages and due questions one store instance claimed and has not marked yet, with the end of each
/// lease. A claim keeps other instances away until its lease ends; until then the instance that holds it may read the
/// row again (as SQLite's store would return it on the next drain, for instance when a drain read more than its workers
/// could take). Once the lease is over the claim is no longer this instance's: another may have taken the row.
final class Claims: Sendable {
    private let outboxLeases = Mutex<[Int64: Date]>([:])
    private let questionLeases = Mutex<[String: Date]>([:])

    /// The outbox messages this instance holds at `now`.
    func outbox(at now: Date) -> [Int64] { outboxLeases.withLock { $0.filter { $0.value > now }.map(\.key) } }
    /// The due questions this instance holds at `now`.
    func questions(at now: Date) -> [String] { questionLeases.withLock { $0.filter { $0.value > now }.map(\.key) } }

    func holdOutbox(_ ids: [Int64], until: Date) { outboxLeases.withLock { for id in ids { $0[id] = until } } }
    func releaseOutbox(_ ids: [Int64]) { outboxLeases.withLock { for id in ids { $0[id] = nil } } }
    /// Moves the end of the leases still held (a message marked meanwhile was released, and stays so).
    func extendOutbox(_ ids: [Int64], until: Date) { outboxLeases.withLock { for id in ids where $0[id] != nil { $0[id] = until } } }
    func holdQuestions(_ ids: [String], until: Date) { questionLeases.withLock { for id in ids { $0[id] = until } } }
    func releaseQuestions(_ ids: [String]) { questionLeases.withLock { for id in ids { $0[id] = nil } } }
}

extension PostgresQuestionStore {
    // MARK: - Topics

    public func resolveTopic(_ slugOrAlias: String) async throws -> TopicReference? {
        let key = slugOrAlias.lowercased()
        // One statement: no transaction (and no BEGIN and COMMIT) needed.
        return try await database.withoutTransaction { connection in
            guard let row = try await connection.rows(PreparedQuery<TopicBySlugOrAlias> { $0.append(key) }).first else { return nil }
            let (slug, name) = try row.decode((String, String).self)
            return TopicReference(slug: slug, name: name)
        }
    }

    public func topicMatches(forText text: String) async throws -> (exact: [TopicReference], hits: [TopicHit]) {
        let words = Self.words(of: text)
        guard !words.isEmpty else { return ([], []) }
        return try await database.read { connection in
            let exact = try await Self.rows(
                connection,
                """
                SELECT DISTINCT topic.slug, topic.name FROM topic
                LEFT JOIN topicAlias ON topicAlias.topicId = topic.id
                WHERE topic.slug = ANY(\(words)) OR topicAlias.alias = ANY(\(words))
                ORDER BY topic.slug
                """
            ).map { row in
                let (slug, name) = try row.decode((String, String).self)
                return TopicReference(slug: slug, name: name)
            }
            // The directory's topic search, which scores as SQLite's bm25 does (one ranking, one ambiguity rule).
            let hits = try await PostgresDirectoryStore.topicHits(PostgresStatements(connection: connection, logger: database.logger), words: words)
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

    public func question(askedBy asker: Asker, idempotencyKey: String) async throws -> String? {
        try await database.withoutTransaction { connection in
            try await Self.value(
                connection, "SELECT publicId FROM question WHERE askerKey = \(Self.askerKey(asker)) AND idempotencyKey = \(idempotencyKey)",
                as: String.self)
        }
    }

    /// The ask's writes in two round trips: one reads what they need to know (ids that an ask waiting for its turn cannot
    /// see change: a topic, the asker, the wave's people; and whether this ask was already recorded), the other is
    /// `recordAsk`, which takes the write lock itself, so that the lock is held only while PostgreSQL writes the rows and
    /// no round trip of this server's keeps every other writer waiting. It checks the idempotency key again under the
    /// lock.
    public func createQuestion(_ question: NewQuestion, firstWave: [Candidate], nextActionAt: Date) async throws -> CreatedQuestion {
        let askerKey = Self.askerKey(question.asker)
        var askerHandle: String?
        var botName: String?
        switch question.asker {
        case .employee(let handle): askerHandle = handle
        case .bot(let name): botName = name
        }
        return try await database.withoutTransaction { connection in
            guard
                let row = try await connection.rows(
                    PreparedQuery<AskPreflight> {
                        $0.append(askerKey)
                        $0.append(question.idempotencyKey)
                        $0.append(question.topic.slug)
                        $0.append(askerHandle)
                        $0.append(firstWave.map(\.handle))
                    }
                ).first
            else { throw DirectoryError.questionNotFound(question.id) }
            let (existing, topicID, employeeID, handles, ids, imIDs, hasIMID) = try row.decode(
                (String?, Int64?, Int64?, [String], [Int64], [String], [Bool]).self)
            if let existing { return CreatedQuestion(id: existing, created: false, deliveredTo: 0) }
            guard let topicID else { throw DirectoryError.topicNotFound(question.topic.slug) }
            if let askerHandle, employeeID == nil { throw DirectoryError.employeeNotFound(askerHandle) }
            var employees: [String: WaveEmployee] = [:]
            for (index, handle) in handles.enumerated() {
                employees[handle] = WaveEmployee(id: ids[index], imID: hasIMID[index] ? imIDs[index] : nil)
            }
            let wave = try DeliveryWave(
                question: (question.topic, question.text, question.maxAnswers), specialists: firstWave, employees: employees)
            // How the compliance log names the asker (`party`): by internal id, not handle.
            let sender = employeeID.map { "employee:\($0)" } ?? "bot:\(botName ?? "")"
            guard
                let recorded = try await connection.rows(
                    PreparedQuery<RecordAsk> {
                        $0.append(PostgresAppDatabase.writeLock)
                        $0.append(question.id)
                        $0.append(employeeID)
                        $0.append(botName)
                        $0.append(askerKey)
                        $0.append(topicID)
                        $0.append(question.text)
                        $0.append(question.maxAnswers)
                        $0.append(question.channel.rawValue)
                        $0.append(question.callbackURL)
                        $0.append(question.idempotencyKey)
                        $0.append(question.createdAt)
                        $0.append(question.expiresAt)
                        $0.append(nextActionAt)
                        $0.append(sender)
                        $0.append(wave.publicIDs)
                        $0.append(wave.employeeIDs)
                        $0.append(wave.levels)
                        $0.append(wave.trials)
                        $0.append(wave.expectationKnown)
                        $0.append(wave.expectations)
                        $0.append(wave.messages)
                        $0.append(wave.destinations)
                    }
                ).first
            else { throw DirectoryError.questionNotFound(question.id) }
            // Nothing was inserted, nor logged, when a retry of the same ask was recorded first.
            let (id, created) = try recorded.decode((String?, Bool?).self)
            guard let id, let created else { throw DirectoryError.questionNotFound(question.id) }
            return CreatedQuestion(id: id, created: created, deliveredTo: created ? firstWave.count : 0)
        }
    }

    public func waveContext(question id: String) async throws -> WaveContext? {
        try await database.read { connection in
            guard let question = try await QuestionRow.fetch(connection, publicId: id), question.status == .open else { return nil }
            var asked: Set<String> = []
            var pending: [PendingDelivery] = []
            for row in try await Self.rows(
                connection,
                """
                SELECT employee.handle, delivery.state, delivery.deliveredAt, delivery.expectedTimely
                FROM delivery JOIN employee ON employee.id = delivery.specialistId WHERE questionId = \(question.id) ORDER BY delivery.id
                """)
            {
                let (handle, state, deliveredAt, expectedTimely) = try row.decode((String, String, Date, Double?).self)
                asked.insert(handle)
                if state == DeliveryState.pending.rawValue {
                    pending.append(PendingDelivery(deliveredAt: deliveredAt, expectedTimely: expectedTimely))
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
        defer { claims.releaseQuestions([id]) }
        return try await write { connection in
            guard let question = try await QuestionRow.fetch(connection, publicId: id), question.status == .open, question.waves == waves else {
                return nil
            }
            var count = try await Self.value(connection, "SELECT count(*) FROM delivery WHERE questionId = \(question.id)", as: Int.self) ?? 0
            guard !specialists.isEmpty else {
                try await Self.execute(
                    connection, "UPDATE question SET nextActionAt = \(nextActionAt), claimedUntil = NULL WHERE id = \(question.id)")
                return WaveOutcome(wave: waves, newDeliveries: 0, deliveredTo: count)
            }
            let wave = waves + 1
            try await Self.deliver(
                connection, question: (question.id, question.publicId, question.topic, question.text, question.maxAnswers), wave: wave,
                numberedAfter: count, to: specialists, employees: try await Self.waveEmployees(connection, specialists), now: now)
            count += specialists.count
            try await Self.execute(
                connection,
                "UPDATE question SET waves = \(wave), nextActionAt = \(nextActionAt), claimedUntil = NULL WHERE id = \(question.id)")
            return WaveOutcome(wave: wave, newDeliveries: specialists.count, deliveredTo: count)
        }
    }

    public func recentAnswerDelays(limit: Int) async throws -> [TimeInterval] {
        try await database.withoutTransaction { connection in
            try await Self.rows(
                connection,
                """
                SELECT extract(epoch FROM respondedAt - deliveredAt)::float8 FROM delivery
                WHERE state = 'answered' AND respondedAt IS NOT NULL ORDER BY id DESC LIMIT \(max(0, limit))
                """
            ).map { try $0.decode(Double.self) }
        }
    }

    public func expireQuestion(_ id: String, now: Date) async throws -> Bool {
        defer { claims.releaseQuestions([id]) }
        return try await write { connection in
            guard let question = try await QuestionRow.fetch(connection, publicId: id), question.status == .open else { return false }
            try await Self.close(connection, question, reason: .expired, now: now, learning: learning)
            return true
        }
    }

    /// Claims what it returns: each open question whose next action is due and that no other instance holds is leased
    /// to this one for `claimLease` (cleared by `recordWave` and `expireQuestion`), so that two instances never wave
    /// or expire one question at once, and a dead instance's questions are taken up after the lease. This instance's
    /// own claims come back to it, as SQLite's read would return them.
    public func dueQuestions(now: Date, limit: Int) async throws -> [String] {
        let mine = claims.questions(at: now)
        let claimed = try await database.withoutTransaction { connection in
            try await connection.rows(
                PreparedQuery<DueQuestionClaim> {
                    $0.append(Self.questionClaimLock)
                    $0.append(now)
                    $0.append(limit)
                    $0.append(mine)
                    $0.append(now.addingTimeInterval(Self.claimLease))
                }
            ).map { try $0.decode((String, Date, Int64).self) }
        }
        let ids = claimed.sorted { ($0.1, $0.2) < ($1.1, $1.2) }.map(\.0)
        claims.holdQuestions(ids, until: now.addingTimeInterval(Self.claimLease))
        return ids
    }

    public func cancelQuestion(_ id: String, by asker: Asker?, isAdmin: Bool, now: Date) async throws {
        try await write { connection in
            let question = try await Self.visibleQuestion(connection, id, asker: asker, isAdmin: isAdmin)
            guard question.status == .open else { throw DirectoryError.questionClosed(id) }
            let sender: String
            if let asker { sender = try await Self.party(connection, asker) } else { sender = "admin" }
            try await Self.log(
                connection, at: now, direction: "in", kind: "cancel", sender: sender, recipient: "skillrelay", questionID: id, deliveryID: nil,
                text: nil)
            try await Self.close(connection, question, reason: .cancelled, now: now, learning: learning)
        }
    }

    public func rateAnswer(question id: String, rank: Int, helpful: Bool, by asker: Asker?, isAdmin: Bool, now: Date) async throws {
        try await write { connection in
            let question = try await Self.visibleQuestion(connection, id, asker: asker, isAdmin: isAdmin)
            guard
                let row = try await Self.rows(
                    connection,
                    """
                    SELECT answer.id, answer.helpful, delivery.specialistId FROM answer JOIN delivery ON delivery.id = answer.deliveryId
                    WHERE answer.questionId = \(question.id) AND answer.rank = \(rank)
                    """
                ).first
            else { throw DirectoryError.answerNotFound(rank) }
            let (answerID, previous, specialist) = try row.decode((Int64, Bool?, Int64).self)
            try await Self.execute(connection, "UPDATE answer SET helpful = \(helpful), ratedAt = \(now) WHERE id = \(answerID)")
            try await Self.learnRating(connection, answer: answerID, helpful: helpful, previous: previous, now: now, learning: learning)
            try await Self.noteRatingForSuggestions(connection, answer: answerID, helpful: helpful, now: now)
            // A changed rating moves the specialist's counters from the old column to the new one.
            if let previous {
                let column = previous ? "helpful" : "unhelpful"
                try await Self.execute(
                    connection, "UPDATE specialistRecord SET \(unescaped: column) = \(unescaped: column) - 1 WHERE employeeId = \(specialist)")
            }
            let column = helpful ? "helpful" : "unhelpful"
            try await Self.execute(
                connection, "UPDATE specialistRecord SET \(unescaped: column) = \(unescaped: column) + 1 WHERE employeeId = \(specialist)")
            let sender: String
            if let asker { sender = try await Self.party(connection, asker) } else { sender = "admin" }
            try await Self.log(
                connection, at: now, direction: "in", kind: "rating", sender: sender, recipient: "skillrelay", questionID: id, deliveryID: nil,
                text: "answer \(rank): \(helpful ? "helpful" : "not helpful")")
        }
    }

    public func questions(askedBy asker: Asker, page: PageRequest) async throws -> ListPage<AskedQuestion> {
        // Without a transaction: the first page is one statement, and a cursor's question id, read first, never changes.
        try await database.withoutTransaction { connection in
            let askerKey = Self.askerKey(asker)
            // The cursor names the last question shown; it must be one of this asker's.
            var after = Int64.max
            if let cursor = page.after {
                guard
                    let id = try await Self.value(
                        connection, "SELECT id FROM question WHERE publicId = \(cursor.keys[0]) AND askerKey = \(askerKey)", as: Int64.self)
                else { throw InvalidCursor() }
                after = id
            }
            let rows = try await Self.rows(
                connection,
                """
                SELECT question.publicId, topic.slug, topic.name, question.text, question.status, question.relayed, question.createdAt
                FROM question JOIN topic ON topic.id = question.topicId
                WHERE question.askerKey = \(askerKey) AND question.id < \(after) ORDER BY question.id DESC LIMIT \(page.limit + 1)
                """
            ).map { row in
                let (id, slug, name, text, status, relayed, createdAt) = try row.decode((String, String, String, String, String, Int, Date).self)
                return AskedQuestion(
                    id: id, topic: TopicReference(slug: slug, name: name), text: text, status: QuestionStatus(rawValue: status) ?? .open,
                    answers: relayed, createdAt: createdAt)
            }
            return ListPage(rows: rows, limit: page.limit, list: .questions) { [$0.id] }
        }
    }

    public func questionView(_ id: String, for asker: Asker?, isAdmin: Bool) async throws -> QuestionView {
        try await database.read { connection in
            let question = try await Self.visibleQuestion(connection, id, asker: asker, isAdmin: isAdmin)
            let answers = try await Self.rows(
                connection,
                """
                SELECT \(unescaped: Self.relayedAnswerColumns)
                FROM answer JOIN delivery ON delivery.id = answer.deliveryId
                WHERE answer.questionId = \(question.id) AND answer.rank IS NOT NULL ORDER BY answer.rank
                """
            ).map { try Self.relayedAnswer($0, topic: question.topic.slug) }
            let delivered = try await Self.value(connection, "SELECT count(*) FROM delivery WHERE questionId = \(question.id)", as: Int.self) ?? 0
            var view = QuestionView(
                id: id, status: question.status, topic: question.topic, text: question.text, maxAnswers: question.maxAnswers,
                deliveredTo: delivered, waves: question.waves, createdAt: question.createdAt, expiresAt: question.expiresAt,
                closedAt: question.closedAt, answers: answers, reveals: try await Self.askerReveals(connection, question: question.id))
            view.followUps = try await Self.followUps(connection, question: question.id).map { followUp in
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

/// Every port of the SQLite question store, on PostgreSQL (its methods live in this file's siblings).
extension PostgresQuestionStore: QuestionStore {}

/// What an ask must know before it is recorded (`askPreflight`, migration "pg v13"): an earlier ask of the asker's
/// (`$1`) with the same idempotency key (`$2`), the topic's id (`$3`, a slug), the asking employee's id (`$4`, a handle,
/// or null for a bot), and the ids and IM ids of the first wave's people (`$5`, handles; an IM id is '' where
/// `imId IS NOT NULL` is false).
enum AskPreflight: PreparedSQL {
    static let name = "skillrelay_ask_preflight_v2"
    static let sql = """
        SELECT foundQuestion, foundTopic, foundAsker, waveHandles, waveIds, waveImIds, waveHasImId
        FROM askPreflight($1::text, $2::text, $3::text, $4::text, $5::text[])
        """
}

/// The ask's writes: `recordAsk` (migration "pg v7"), its parameters in its order.
enum RecordAsk: PreparedSQL {
    static let name = "skillrelay_record_ask_v1"
    static let sql = """
        SELECT recordedId, created FROM recordAsk(
            $1::bigint, $2::text, $3::bigint, $4::text, $5::text, $6::bigint, $7::text, $8::bigint::integer, $9::text, $10::text, $11::text,
            $12::timestamptz, $13::timestamptz, $14::timestamptz, $15::text, $16::text[], $17::bigint[], $18::bigint[]::integer[],
            $19::boolean[], $20::boolean[], $21::double precision[], $22::text[], $23::text[])
        """
}

/// A topic's slug and name, by its slug or one of its aliases (`$1`, in lower case).
enum TopicBySlugOrAlias: PreparedSQL {
    static let name = "skillrelay_topic_by_slug_or_alias_v1"
    static let sql = """
        SELECT slug, name FROM topic WHERE slug = $1::text
        UNION ALL
        SELECT topic.slug, topic.name FROM topicAlias JOIN topic ON topic.id = topicAlias.topicId WHERE topicAlias.alias = $1::text
        LIMIT 1
        """
}

/// `dueQuestions`' claim: one statement, `claimDueQuestions` (migration "pg v11"), which takes `questionClaimLock`
/// itself. Returns each claimed question's public id, next action and id.
enum DueQuestionClaim: PreparedSQL {
    static let name = "skillrelay_due_question_claim_v1"
    static let sql = """
        SELECT claimedPublicId, claimedNextActionAt, claimedId
        FROM claimDueQuestions($1::bigint, $2::timestamptz, $3::bigint, $4::text[], $5::timestamptz)
        """
}

/// A specialist's inbox page in one statement: whether the person (`$1`, a handle) exists and whether the cursor (`$2`,
/// the last delivery shown, or null) is one of theirs, then a row per delivery after it, newest first, at most `$3`,
/// each with its relayed answer's rank, its reveal, the asker's name and IM id (for a reveal), and its thread's
/// follow-ups oldest first as three arrays. A person with no deliveries on the page gets one row without a delivery.
enum InboxPage: PreparedSQL {
    static let name = "skillrelay_inbox_page_v1"
    static let sql = """
        WITH me AS (SELECT id FROM employee WHERE handle = $1::text),
        after AS (
            SELECT delivery.deliveredAt, delivery.id FROM delivery
            WHERE delivery.publicId = $2::text AND delivery.specialistId = (SELECT id FROM me)
        ),
        bound AS (
            SELECT coalesce((SELECT deliveredAt FROM after), 'infinity'::timestamptz) AS at,
                coalesce((SELECT id FROM after), 9223372036854775807) AS id
        ),
        page AS (
            SELECT delivery.id, delivery.publicId, delivery.state, delivery.deliveredAt, delivery.number, question.text, question.status,
                question.askerEmployeeId, topic.slug, topic.name
            FROM bound, delivery JOIN question ON question.id = delivery.questionId JOIN topic ON topic.id = question.topicId
            WHERE delivery.specialistId = (SELECT id FROM me) AND delivery.deliveredAt <= bound.at
                AND (delivery.deliveredAt, delivery.id) < (bound.at, bound.id)
            ORDER BY delivery.deliveredAt DESC, delivery.id DESC LIMIT $3::bigint
        )
        SELECT EXISTS (SELECT 1 FROM me), $2::text IS NULL OR EXISTS (SELECT 1 FROM after),
            page.publicId, page.state, page.deliveredAt, page.number::bigint, page.text, page.status, page.slug, page.name,
            answer.rank::bigint, reveal.offeredBy, reveal.state, asker.name, asker.imId, thread.senders, thread.texts, thread.sentAts
        FROM (SELECT 1) AS one
        LEFT JOIN page ON true
        LEFT JOIN answer ON answer.deliveryId = page.id AND answer.rank IS NOT NULL
        LEFT JOIN reveal ON reveal.deliveryId = page.id
        LEFT JOIN employee AS asker ON asker.id = page.askerEmployeeId
        LEFT JOIN LATERAL (
            SELECT array_agg(followUp.sender ORDER BY followUp.id) AS senders, array_agg(followUp.text ORDER BY followUp.id) AS texts,
                array_agg(followUp.sentAt ORDER BY followUp.id) AS sentAts
            FROM followUp WHERE followUp.answerId = answer.id
        ) AS thread ON true
        ORDER BY page.deliveredAt DESC, page.id DESC
        """
}
