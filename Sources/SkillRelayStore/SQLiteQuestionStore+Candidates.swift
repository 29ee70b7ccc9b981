import Foundation
import GRDB
import SkillRelayDomain

// Candidates for a question: on the ask path, so read with a short blocking read (GRDB's async read costs more in
// thread hand-offs than these queries take) and through cached statements.
extension SQLiteQuestionStore {
    public func candidates(_ query: CandidateQuery, now: Date) async throws -> [Candidate] {
        try database.blockingRead { db in
            guard query.limit > 0, let topics = try Self.subtree(db, of: query.topic) else { return [] }
            let maxID = try Int64.fetchOne(db.cachedStatement(sql: "SELECT max(id) FROM employee")) ?? 0
            return try Self.candidates(db, query, topics: topics, now: now, pivot: Self.pivot(topic: topics[0], now: now, maxID: maxID))
        }
    }

    public func hasSpecialists(_ query: CandidateQuery) async throws -> Bool {
        try database.blockingRead { db in
            guard let topics = try Self.subtree(db, of: query.topic) else { return false }
            return try Bool.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT EXISTS (
                            SELECT 1 FROM skill JOIN employee ON employee.id = skill.employeeId
                            WHERE skill.topicId IN (\(databaseQuestionMarks(count: topics.count))) AND skill.level >= ?
                                AND employee.isActive AND employee.handle IS NOT ?
                        )
                        """), arguments: StatementArguments(topics) + [query.minimumLevel, query.excluding]) ?? false
        }
    }

    /// Where a topic's scan starts: the same for a minute, so that the presence cache serves the questions of that
    /// minute, then elsewhere, so that over an hour sixty slices of a large level take their turn.
    static func pivot(topic: Int64, now: Date, maxID: Int64) -> Int64 {
        guard maxID > 0 else { return 0 }
        let minute = UInt64(max(0, now.timeIntervalSince1970 / 60))
        var random = SplitMix64(seed: UInt64(bitPattern: topic) &* 0x9E37_79B9_7F4A_7C15 ^ minute)
        return Int64(random.next() % UInt64(maxID + 1))
    }

    /// The ids of a topic (by slug or alias) and every topic below it, or `nil` for an unknown topic.
    static func subtree(_ db: Database, of slugOrAlias: String) throws -> [Int64]? {
        guard let topic = try? SQLiteDirectoryStore.topicRecord(db, slugOrAlias: slugOrAlias), let id = topic.id else { return nil }
        return try Int64.fetchAll(
            db.cachedStatement(
                sql: """
                    WITH RECURSIVE subtree(id) AS (SELECT ? UNION SELECT topic.id FROM topic JOIN subtree ON topic.parentId = subtree.id)
                    SELECT id FROM subtree
                    """), arguments: [id])
    }

    /// Up to `query.limit` candidates, level by level from the best: each level's skill rows come from the
    /// `skillByTopicLevel` index, the subtree's topics one after another in id order (as `IN` reads an index) and each
    /// topic's people in employee order, starting at `pivot` and wrapping around, so that where a level holds
    /// more people than the limit, a different slice of them is considered as the pivot moves. Who may not be interrupted now
    /// (inactive, paused, the asker, over the hourly or daily budget) is left out in the same scan, so the limit counts only
    /// people a wave could ask; so is anyone outside their working hours, though only after the row is read (a slice's
    /// SQL limit may still end on such people, and a later slice then fills in). Each person comes once, at their best
    /// level in the subtree, vouched-for if any of their tags at that level is.
    static func candidates(_ db: Database, _ query: CandidateQuery, topics: [Int64], now: Date, pivot: Int64) throws -> [Candidate] {
        let statement = try db.cachedStatement(sql: candidateSQL(topics: topics.count))
        let budget = max(0, query.hourlyBudget)
        // The past day is counted no further than the daily budget, or than the learned routing's rest factor cares.
        let dailyBudget = min(max(0, query.dailyBudget), QuestionSettings.maxDailyBudget)
        let dayCount = max(dailyBudget, 16)
        // What every slice binds, made once: up to ten slices an ask.
        let hourAgo = now.addingTimeInterval(-3600).storedValue
        let dayAgo = now.addingTimeInterval(-86_400).storedValue
        let nowValue = now.storedValue
        // The learned statistics are read for the question's own topic (the subtree's root), at this hour of the week.
        let leading: StatementArguments =
            [hourAgo, hourAgo, budget, dayAgo, dayAgo, dayCount, topics[0], LearnedRecord.hourOfWeek(now)] + StatementArguments(topics)
        var found: [Candidate] = []
        var index: [Int64: Int] = [:]
        var texts = CandidateTexts(at: now)
        for level in stride(from: 5, through: max(1, query.minimumLevel), by: -1) {
            for (from, to) in [(pivot, Int64.max), (Int64.min, pivot)] {
                guard found.count < query.limit else { return found }
                let rows = try Row.fetchCursor(
                    statement,
                    arguments: leading + [level, from, to, nowValue, query.excluding, budget, dailyBudget, query.limit - found.count])
                // Columns by position (as `candidateSQL` lists them): looking names up costs more than the rest of the row.
                while let row = try rows.next() {
                    let id: Int64 = row[0]
                    let source = SkillSource(rawValue: row[1]) ?? .selfDeclared
                    if let seen = index[id] {
                        // Tagged at this level on two topics of the subtree: vouched-for wins.
                        if found[seen].level == level, found[seen].source == .selfDeclared { found[seen].source = source }
                        continue
                    }
                    let zoneName: String? = row[11]
                    let hoursText: String? = row[12]
                    let timeZone = texts.timeZone(zoneName)
                    let workingHours = texts.workingHours(hoursText)
                    let candidate = Candidate(
                        handle: row[2], imID: row[3], level: level, source: source, isActive: true, pausedUntil: row[4],
                        lastInterruptedAt: row[9], deliveriesLastHour: row[10], deliveriesLastDay: row[26],
                        record: AnswerRecord(delivered: row[5], answered: row[6], helpful: row[7], unhelpful: row[8]),
                        learned: LearnedRecord(
                            topic: OutcomeCounts(
                                outcomes: row[14] ?? 0, timely: row[15] ?? 0, passed: row[16] ?? 0, rated: row[17] ?? 0, helpful: row[18] ?? 0,
                                updatedAt: row[19]),
                            hour: OutcomeCounts(outcomes: row[20] ?? 0, timely: row[21] ?? 0, updatedAt: row[22]),
                            overall: OutcomeCounts(outcomes: row[23] ?? 0, timely: row[24] ?? 0, updatedAt: row[25])),
                        timeZone: timeZone, workingHours: workingHours, lastActiveAt: row[13])
                    // Outside their working hours nobody is asked: left out here too, so they take no place in the limit
                    // that a later slice could give to someone at work.
                    guard texts.isAtWork(candidate, zone: zoneName, hours: hoursText) else { continue }
                    index[id] = found.count
                    found.append(candidate)
                }
            }
        }
        return found
    }

    /// One level's slice of candidates in a subtree of `topics` topics. Arguments: an hour ago (twice), the budget, a day
    /// ago (twice), how far to count the day, the question's topic id and the hour of the week (for the learned statistics), the topic ids, the level, the employee
    /// id range (from, to), now, the excluded handle, the budget, the daily budget, the limit.
    static func candidateSQL(topics: Int) -> String {
        """
        SELECT skill.employeeId, skill.source, employee.handle, employee.imId, employee.pausedUntil,
            ifnull(record.delivered, 0) AS delivered, ifnull(record.answered, 0) AS answered,
            ifnull(record.helpful, 0) AS helpful, ifnull(record.unhelpful, 0) AS unhelpful, record.lastDeliveredAt,
            -- Counted no further than the budget: only whether it is reached matters. Someone whose record says nobody
            -- interrupted them within the hour (most people) is not looked up in the deliveries at all.
            CASE WHEN record.lastDeliveredAt > ? THEN
                (SELECT count(*) FROM (SELECT 1 FROM delivery WHERE delivery.specialistId = skill.employeeId AND delivery.deliveredAt > ?
                    LIMIT ?))
            ELSE 0 END AS lastHour,
            employee.timeZone, employee.workingHours, employee.lastActiveAt,
            learned.outcomes, learned.timely, learned.passed, learned.rated, learned.helpful, learned.updatedAt,
            hour.outcomes, hour.timely, hour.updatedAt, overall.outcomes, overall.timely, overall.updatedAt,
            -- The same for the past day, counted no further than the daily budget or the learned routing's rest factor
            -- (`RoutingEstimator`) cares.
            CASE WHEN record.lastDeliveredAt > ? THEN
                (SELECT count(*) FROM (SELECT 1 FROM delivery WHERE delivery.specialistId = skill.employeeId AND delivery.deliveredAt > ?
                    LIMIT ?))
            ELSE 0 END AS lastDay
        FROM skill
        JOIN employee ON employee.id = skill.employeeId
        LEFT JOIN specialistRecord AS record ON record.employeeId = skill.employeeId
        LEFT JOIN routingStat AS learned ON learned.employeeId = skill.employeeId AND learned.topicId = ?
        LEFT JOIN routingHour AS hour ON hour.employeeId = skill.employeeId AND hour.hourOfWeek = ?
        LEFT JOIN routingHour AS overall ON overall.employeeId = skill.employeeId AND overall.hourOfWeek = -1
        WHERE skill.topicId IN (\(databaseQuestionMarks(count: topics))) AND skill.level = ?
            AND skill.employeeId >= ? AND skill.employeeId < ?
            AND employee.isActive AND (employee.pausedUntil IS NULL OR employee.pausedUntil <= ?) AND employee.handle IS NOT ?
            AND lastHour < ? AND lastDay < ?
        LIMIT ?
        """
    }
}
