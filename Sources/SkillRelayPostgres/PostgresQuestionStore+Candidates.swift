import Foundation
import PostgresNIO
import SkillRelayDomain

// Candidates for a question, as the SQLite store finds them: level by level from the best, each level's people topic by
// topic in employee order from a pivot that moves every minute, everyone who may not be interrupted left out in the same
// scan.
extension PostgresQuestionStore {
    public func candidates(_ query: CandidateQuery, now: Date) async throws -> [Candidate] {
        guard query.limit > 0 else { return [] }
        return try await database.read { connection in
            // The subtree, where the scans start, and the slices' one plan (see `CandidateSliceStatement`) for the rest of
            // this transaction, in one round trip.
            guard let row = try await connection.rows(PreparedQuery<CandidateReadStart> { $0.append(query.topic.lowercased()) }).first
            else { return [] }
            let (topics, maxID, _, _, _, _) = try row.decode(([Int64], Int64?, String, String, String, String).self)
            guard let topic = topics.first else { return [] }
            return try await Self.candidates(
                connection, query, topics: topics, now: now, pivot: Self.pivot(topic: topic, now: now, maxID: maxID ?? 0))
        }
    }

    public func hasSpecialists(_ query: CandidateQuery) async throws -> Bool {
        try await database.read { connection in
            guard let topics = try await Self.subtree(connection, of: query.topic) else { return false }
            return try await Self.value(
                connection,
                """
                SELECT EXISTS (
                    SELECT 1 FROM skill JOIN employee ON employee.id = skill.employeeId
                    WHERE skill.topicId = ANY(\(topics)) AND skill.level >= \(query.minimumLevel)
                        AND employee.isActive AND employee.handle IS DISTINCT FROM \(query.excluding)::text
                )
                """, as: Bool.self) ?? false
        }
    }

    /// Where a topic's scan starts: the same for a minute, so that the presence cache serves the questions of that
    /// minute, then elsewhere, so that over an hour sixty slices of a large level take their turn. (The SQLite store's
    /// pivot, bit for bit.)
    static func pivot(topic: Int64, now: Date, maxID: Int64) -> Int64 {
        guard maxID > 0 else { return 0 }
        let minute = UInt64(max(0, now.timeIntervalSince1970 / 60))
        var random = SplitMix64(seed: UInt64(bitPattern: topic) &* 0x9E37_79B9_7F4A_7C15 ^ minute)
        return Int64(random.next() % UInt64(maxID + 1))
    }

    /// Up to `query.limit` candidates, level by level from the best: each level's skill rows from `pivot` on, then
    /// wrapping around to the start, and within each of the two the subtree's topics one after another in id order, each
    /// topic's people in employee order (the SQLite store's scan reads its index so). Who may not be interrupted now
    /// (inactive, paused, the asker, over the hourly or daily budget) is left out in the same scan, so the limit counts
    /// only people a wave could ask; so is anyone outside their working hours, though only after the row is read. Each
    /// person comes once, at their best level in the subtree, vouched-for if any of their tags at that level is.
    /// `connection` is in a transaction that set the slices' planner settings.
    static func candidates(_ connection: PostgresConnection, _ query: CandidateQuery, topics: [Int64], now: Date, pivot: Int64) async throws
        -> [Candidate]
    {
        let budget = max(0, query.hourlyBudget)
        // The past day is counted no further than the daily budget, or than the learned routing's rest factor cares.
        let dailyBudget = min(max(0, query.dailyBudget), QuestionSettings.maxDailyBudget)
        let dayCount = max(dailyBudget, 16)
        let hourAgo = now.addingTimeInterval(-3600)
        let dayAgo = now.addingTimeInterval(-86_400)
        let hourOfWeek = LearnedRecord.hourOfWeek(now)
        // Read topic by topic in id order, as the SQLite store's `IN` reads its index.
        let subtreeInOrder = topics.sorted()
        var found: [Candidate] = []
        var index: [Int64: Int] = [:]
        // Most people share a handful of time zones and working hours: each text is made into its value once an ask.
        var zones: [String: TimeZone?] = [:]
        var hours: [String: WorkingHours?] = [:]
        for level in stride(from: 5, through: max(1, query.minimumLevel), by: -1) {
            for (from, to) in [(pivot, Int64.max), (Int64.min, pivot)] {
                guard found.count < query.limit else { return found }
                let slice = CandidateSliceStatement(
                    hourAgo: hourAgo, hourlyBudget: budget, dayAgo: dayAgo, dayCount: dayCount, topic: topics[0], hourOfWeek: hourOfWeek,
                    topics: subtreeInOrder, level: level, from: from, to: to, now: now, excluding: query.excluding, dailyBudget: dailyBudget,
                    limit: query.limit - found.count)
                for try await row in try await connection.execute(slice, logger: connection.logger) {
                    // Columns by position, as the query lists them.
                    let columns = try row.decode(
                        (
                            Int64, String, String, String?, Date?, Int, Int, Int, Int, Date?, Int, String?, String?, Date?,
                            Double?, Double?, Double?, Double?, Double?, Date?, Double?, Double?, Date?, Double?, Double?, Date?, Int
                        ).self)
                    let id = columns.0
                    let source = SkillSource(rawValue: columns.1) ?? .selfDeclared
                    if let seen = index[id] {
                        // Tagged at this level on two topics of the subtree: vouched-for wins.
                        if found[seen].level == level, found[seen].source == .selfDeclared { found[seen].source = source }
                        continue
                    }
                    var timeZone: TimeZone?
                    if let name = columns.11 {
                        if let known = zones[name] {
                            timeZone = known
                        } else {
                            timeZone = TimeZone(identifier: name)
                            zones[name] = timeZone
                        }
                    }
                    var workingHours: WorkingHours?
                    if let text = columns.12 {
                        if let known = hours[text] {
                            workingHours = known
                        } else {
                            workingHours = try? WorkingHours(parsing: text)
                            hours[text] = workingHours
                        }
                    }
                    let candidate = Candidate(
                        handle: columns.2, imID: columns.3, level: level, source: source, isActive: true, pausedUntil: columns.4,
                        lastInterruptedAt: columns.9, deliveriesLastHour: columns.10, deliveriesLastDay: columns.26,
                        record: AnswerRecord(delivered: columns.5, answered: columns.6, helpful: columns.7, unhelpful: columns.8),
                        learned: LearnedRecord(
                            topic: OutcomeCounts(
                                outcomes: columns.14 ?? 0, timely: columns.15 ?? 0, passed: columns.16 ?? 0, rated: columns.17 ?? 0,
                                helpful: columns.18 ?? 0, updatedAt: columns.19),
                            hour: OutcomeCounts(outcomes: columns.20 ?? 0, timely: columns.21 ?? 0, updatedAt: columns.22),
                            overall: OutcomeCounts(outcomes: columns.23 ?? 0, timely: columns.24 ?? 0, updatedAt: columns.25)),
                        timeZone: timeZone, workingHours: workingHours, lastActiveAt: columns.13)
                    // Outside their working hours nobody is asked: left out here too, so they take no place in the limit
                    // that a later slice could give to someone at work.
                    guard candidate.isWithinWorkingHours(at: now) else { continue }
                    index[id] = found.count
                    found.append(candidate)
                }
            }
        }
        return found
    }
}

/// The start of `candidates`' read: the topic's subtree (`$1`, a slug or alias in lower case), the highest employee id
/// (where the scans start turns on it), and the slices' one plan for the rest of the transaction (see
/// `CandidateSliceStatement`).
enum CandidateReadStart: PreparedSQL {
    static let name = "skillrelay_candidate_read_start_v1"
    static let sql = """
        SELECT topicSubtree($1::text), (SELECT max(id) FROM employee),
            set_config('plan_cache_mode', 'force_generic_plan', true), set_config('enable_seqscan', 'off', true),
            set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)
        """
}

/// One slice of a level for `candidates`: prepared once per connection and run on one generic plan, which `candidates`
/// asks for in its transaction.
/// - Planned for each call's values, as PostgreSQL otherwise does for a statement whose generic plan looks dearer than
///   its custom ones, this statement of six tables cost 3 to 12 ms to plan against well under one to run, and an ask
///   runs it up to ten times.
/// - There is one right plan whatever the values: each topic of the subtree read by itself from `skillByTopicLevel`,
///   which gives one topic's people at one level in employee order, the topics one after another, and nothing read
///   beyond the limit; everything else looked up by primary key, one person at a time. (With the whole subtree in one
///   `topicId = ANY(…)`, the generic plan read every row of a large level and sorted them. With the topics' rows merged
///   in employee order, each topic's scan ran to the limit before the sort: a question on a topic with nine subtopics
///   worked out nearly four times the rows it returned.)
/// - A generic plan is kept until its tables are next analysed, and one made while the question tables were nearly
///   empty (a new deployment, a benchmark) scanned `delivery` whole for each person once they had filled: 100 to 200 ms
///   a slice. So `candidates` also turns off sequential scans, hash joins and merge joins for its transaction, which
///   leaves the planner that one plan, however small the tables are when it plans.
struct CandidateSliceStatement: PostgresPreparedStatement {
    typealias Row = PostgresRow
    static let name = "skillrelay_candidate_slice_v4"
    static let sql = """
        SELECT found.employeeId, found.source, found.handle, found.imId, found.pausedUntil, found.delivered, found.answered,
            found.helpful, found.unhelpful, found.lastDeliveredAt, found.lastHour, found.timeZone, found.workingHours,
            found.lastActiveAt, learned.outcomes, learned.timely, learned.passed, learned.rated, learned.helpful, learned.updatedAt,
            hour.outcomes, hour.timely, hour.updatedAt, overall.outcomes, overall.timely, overall.updatedAt, found.lastDay
        FROM (
            -- The subtree's topics one after another (`$7` in id order), each read only as far as the limit needs.
            SELECT found.* FROM unnest($7::bigint[]) WITH ORDINALITY AS subtreeTopic(id, position)
            CROSS JOIN LATERAL (
                SELECT * FROM (
                    SELECT skill.employeeId, skill.source, employee.handle, employee.imId, employee.pausedUntil,
                        coalesce(record.delivered, 0) AS delivered, coalesce(record.answered, 0) AS answered,
                        coalesce(record.helpful, 0) AS helpful, coalesce(record.unhelpful, 0) AS unhelpful, record.lastDeliveredAt,
                        -- Counted no further than the budget: only whether it is reached matters. Someone whose record
                        -- says nobody interrupted them within the hour (most people) is not looked up in the deliveries.
                        CASE WHEN record.lastDeliveredAt > $1 THEN
                            (SELECT count(*) FROM (SELECT 1 FROM delivery WHERE delivery.specialistId = skill.employeeId
                                AND delivery.deliveredAt > $1 LIMIT $2) AS recent)
                        ELSE 0 END AS lastHour,
                        employee.timeZone, employee.workingHours, employee.lastActiveAt,
                        CASE WHEN record.lastDeliveredAt > $3 THEN
                            (SELECT count(*) FROM (SELECT 1 FROM delivery WHERE delivery.specialistId = skill.employeeId
                                AND delivery.deliveredAt > $3 LIMIT $4) AS recent)
                        ELSE 0 END AS lastDay
                    FROM skill
                    JOIN employee ON employee.id = skill.employeeId
                    LEFT JOIN LATERAL (
                        SELECT delivered, answered, helpful, unhelpful, lastDeliveredAt FROM specialistRecord
                        WHERE specialistRecord.employeeId = skill.employeeId LIMIT 1
                    ) AS record ON true
                    WHERE skill.topicId = subtreeTopic.id AND skill.level = $8
                        AND skill.employeeId >= $9 AND skill.employeeId < $10
                        AND employee.isActive AND (employee.pausedUntil IS NULL OR employee.pausedUntil <= $11)
                        AND employee.handle IS DISTINCT FROM $12::text
                ) AS slice
                WHERE lastHour < $2 AND lastDay < $13
                ORDER BY employeeId
                LIMIT $14
            ) AS found
            ORDER BY subtreeTopic.position
            LIMIT $14
        ) AS found
        -- The learned figures only for the people returned, looked up row by row, so the rows keep `found`'s order.
        LEFT JOIN LATERAL (
            SELECT outcomes, timely, passed, rated, helpful, updatedAt FROM routingStat
            -- `+ 0`: by the person (the primary key), never by the topic's index, which a plan made while the table
            -- was small may pick as readily, and which returns everyone with figures on the topic.
            WHERE routingStat.employeeId = found.employeeId AND routingStat.topicId + 0 = $5 LIMIT 1
        ) AS learned ON true
        LEFT JOIN LATERAL (
            SELECT outcomes, timely, updatedAt FROM routingHour
            WHERE routingHour.employeeId = found.employeeId AND routingHour.hourOfWeek = $6 LIMIT 1
        ) AS hour ON true
        LEFT JOIN LATERAL (
            SELECT outcomes, timely, updatedAt FROM routingHour
            WHERE routingHour.employeeId = found.employeeId AND routingHour.hourOfWeek = -1 LIMIT 1
        ) AS overall ON true
        """

    var hourAgo: Date
    var hourlyBudget: Int
    var dayAgo: Date
    var dayCount: Int
    var topic: Int64
    var hourOfWeek: Int
    var topics: [Int64]
    var level: Int
    var from: Int64
    var to: Int64
    var now: Date
    var excluding: String?
    var dailyBudget: Int
    var limit: Int

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(hourAgo)
        bindings.append(hourlyBudget)
        bindings.append(dayAgo)
        bindings.append(dayCount)
        bindings.append(topic)
        bindings.append(hourOfWeek)
        bindings.append(topics)
        bindings.append(level)
        bindings.append(from)
        bindings.append(to)
        bindings.append(now)
        bindings.append(excluding)
        bindings.append(dailyBudget)
        bindings.append(limit)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}
