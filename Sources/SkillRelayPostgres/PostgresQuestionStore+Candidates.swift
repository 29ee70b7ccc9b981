import Foundation
import PostgresNIO
import SkillRelayDomain

// Candidates for a question, as the SQLite store finds them: level by level from the best, each level's people topic by
// topic in employee order from a pivot that moves every minute, everyone who may not be interrupted left out in the same
// scan.
extension PostgresQuestionStore {
    public func candidates(_ query: CandidateQuery, now: Date) async throws -> [Candidate] {
        guard query.limit > 0 else { return [] }
        // Two statements and no transaction: where the scans start, then the scans (`candidateScan`), each statement one
        // snapshot. That the scans may see a moment later than the start does not matter: it only chooses the pivot.
        return try await database.withoutTransaction { connection in
            guard let row = try await connection.rows(PreparedQuery<CandidateReadStart> { $0.append(query.topic.lowercased()) }).first
            else { return [] }
            let (topics, maxID) = try row.decode(([Int64], Int64?).self)
            guard let topic = topics.first else { return [] }
            return try await Self.candidates(
                connection, query, topics: topics, now: now, pivot: Self.pivot(topic: topic, now: now, maxID: maxID ?? 0))
        }
    }

    public func hasSpecialists(_ query: CandidateQuery) async throws -> Bool {
        try await database.withoutTransaction { connection in
            try await connection.rows(
                PreparedQuery<TopicHasSpecialists> {
                    $0.append(query.topic.lowercased())
                    $0.append(query.minimumLevel)
                    $0.append(query.excluding)
                }
            ).first?.decode(Bool.self) ?? false
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
    ///
    /// The slices (a level's half, ten at most) run inside PostgreSQL, in one call of `candidateScan`, which stops where
    /// this loop would. It cannot judge working hours: once a slice returns someone who has them, it stops after that
    /// slice, and is called again from the next with the people kept, if more are wanted.
    static func candidates(_ connection: PostgresConnection, _ query: CandidateQuery, topics: [Int64], now: Date, pivot: Int64) async throws
        -> [Candidate]
    {
        let budget = max(0, query.hourlyBudget)
        // The past day is counted no further than the daily budget, or than the learned routing's rest factor cares.
        let dailyBudget = min(max(0, query.dailyBudget), QuestionSettings.maxDailyBudget)
        let lowest = max(1, query.minimumLevel)
        guard lowest <= 5 else { return [] }
        let lastSlice = 2 * (5 - lowest) + 1
        var scan = CandidateScan(
            hourAgo: now.addingTimeInterval(-3600), hourlyBudget: budget, dayAgo: now.addingTimeInterval(-86_400),
            dayCount: max(dailyBudget, 16), topic: topics[0], hourOfWeek: LearnedRecord.hourOfWeek(now),
            // Read topic by topic in id order, as the SQLite store's `IN` reads its index.
            topics: topics.sorted(), minimumLevel: lowest, pivot: pivot, now: now, excluding: query.excluding, dailyBudget: dailyBudget,
            limit: query.limit, firstSlice: 0, alreadyFound: [])
        var found: [Candidate] = []
        var index: [Int64: Int] = [:]
        var texts = CandidateTexts(at: now)
        while scan.firstSlice <= lastSlice, found.count < query.limit {
            var unsure = false
            var lastReturned = scan.firstSlice
            for try await row in try await connection.execute(scan, logger: connection.logger) {
                // Columns by position, as `candidateRow` lists them.
                let columns = try row.decode(
                    (
                        Int, Int64, String, String, String?, Date?, Int, Int, Int, Int, Date?, Int, String?, String?, Date?,
                        Double?, Double?, Double?, Double?, Double?, Date?, Double?, Double?, Date?, Double?, Double?, Date?, Int
                    ).self)
                lastReturned = columns.0
                let level = 5 - columns.0 / 2
                let id = columns.1
                let source = SkillSource(rawValue: columns.2) ?? .selfDeclared
                if let seen = index[id] {
                    // Tagged at this level on two topics of the subtree: vouched-for wins.
                    if found[seen].level == level, found[seen].source == .selfDeclared { found[seen].source = source }
                    continue
                }
                if columns.13 != nil { unsure = true }
                let timeZone = texts.timeZone(columns.12)
                let workingHours = texts.workingHours(columns.13)
                let candidate = Candidate(
                    handle: columns.3, imID: columns.4, level: level, source: source, isActive: true, pausedUntil: columns.5,
                    lastInterruptedAt: columns.10, deliveriesLastHour: columns.11, deliveriesLastDay: columns.27,
                    record: AnswerRecord(delivered: columns.6, answered: columns.7, helpful: columns.8, unhelpful: columns.9),
                    learned: LearnedRecord(
                        topic: OutcomeCounts(
                            outcomes: columns.15 ?? 0, timely: columns.16 ?? 0, passed: columns.17 ?? 0, rated: columns.18 ?? 0,
                            helpful: columns.19 ?? 0, updatedAt: columns.20),
                        hour: OutcomeCounts(outcomes: columns.21 ?? 0, timely: columns.22 ?? 0, updatedAt: columns.23),
                        overall: OutcomeCounts(outcomes: columns.24 ?? 0, timely: columns.25 ?? 0, updatedAt: columns.26)),
                    timeZone: timeZone, workingHours: workingHours, lastActiveAt: columns.14)
                // Outside their working hours nobody is asked: left out here too, so they take no place in the limit
                // that a later slice could give to someone at work.
                guard texts.isAtWork(candidate, zone: columns.12, hours: columns.13) else { continue }
                index[id] = found.count
                found.append(candidate)
            }
            // Without anyone's working hours to judge, the scan ran as far as the limit needed, or to the end.
            guard unsure else { break }
            scan.firstSlice = lastReturned + 1
            scan.alreadyFound = Array(index.keys)
        }
        return found
    }
}

/// The start of `candidates`' read: the topic's subtree (`$1`, a slug or alias in lower case) and the highest employee
/// id (where the scans start turns on it).
enum CandidateReadStart: PreparedSQL {
    static let name = "skillrelay_candidate_read_start_v2"
    static let sql = "SELECT topicSubtree($1::text), (SELECT max(id) FROM employee)"
}

/// Whether anyone but the asker (`$3`, a handle or null) is tagged on the topic (`$1`, a slug or alias in lower case) or
/// a subtopic at level `$2` or above and active: one statement (`topicHasSpecialists`, migration "pg v13").
enum TopicHasSpecialists: PreparedSQL {
    static let name = "skillrelay_topic_has_specialists_v1"
    static let sql = "SELECT topicHasSpecialists($1::text, $2::bigint, $3::text)"
}

/// The slices of `candidates`, from `firstSlice` on (slice `2 × (5 − level)` is a level's people from the pivot on, the
/// next one those before it), in one call of `candidateScan` (migration "pg v10").
/// - Each slice reads each topic of the subtree by itself from `skillByTopicLevel`, which gives one topic's people at one
///   level in employee order, the topics one after another, and nothing beyond the limit; everything else by primary
///   key, one person at a time. (With the whole subtree in one `topicId = ANY(…)`, the generic plan read every row of a
///   large level and sorted them. With the topics' rows merged in employee order, each topic's scan ran to the limit
///   before the sort: a question on a topic with nine subtopics worked out nearly four times the rows it returned.)
/// - The function plans its slice once a session (`plan_cache_mode = force_generic_plan`): planned for each call's
///   values, the slice of six tables cost 3 to 12 ms to plan against well under one to run. A generic plan is kept until
///   its tables are next analysed, and one made while the question tables were nearly empty (a new deployment, a
///   benchmark) scanned `delivery` whole for each person once they had filled: 100 to 200 ms a slice. So the function
///   also turns off sequential scans, hash joins and merge joins, which leaves the planner that one plan, however small
///   the tables are when it plans.
struct CandidateScan: PostgresPreparedStatement {
    typealias Row = PostgresRow
    static let name = "skillrelay_candidate_scan_v1"
    static let sql = """
        SELECT * FROM candidateScan($1::timestamptz, $2::bigint, $3::timestamptz, $4::bigint, $5::bigint, $6::bigint::integer,
            $7::bigint[], $8::bigint::integer, $9::bigint, $10::timestamptz, $11::text, $12::bigint, $13::bigint, $14::bigint::integer, $15::bigint[])
        """

    var hourAgo: Date
    var hourlyBudget: Int
    var dayAgo: Date
    var dayCount: Int
    var topic: Int64
    var hourOfWeek: Int
    var topics: [Int64]
    var minimumLevel: Int
    var pivot: Int64
    var now: Date
    var excluding: String?
    var dailyBudget: Int
    var limit: Int
    var firstSlice: Int
    var alreadyFound: [Int64]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(hourAgo)
        bindings.append(hourlyBudget)
        bindings.append(dayAgo)
        bindings.append(dayCount)
        bindings.append(topic)
        bindings.append(hourOfWeek)
        bindings.append(topics)
        bindings.append(minimumLevel)
        bindings.append(pivot)
        bindings.append(now)
        bindings.append(excluding)
        bindings.append(dailyBudget)
        bindings.append(limit)
        bindings.append(firstSlice)
        bindings.append(alreadyFound)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}
