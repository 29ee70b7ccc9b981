import Foundation
import PostgresNIO
import SkillRelayDomain
import SkillRelayPostgres
import SkillRelayTestSupport
import Testing

/// One sliding-window rate limit, counted in process (one instance) or in PostgreSQL (several): the same answers.
@Suite struct RateLimitTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test(arguments: StoreBackend.available)
    func allowsTheLimitInAnySlidingWindowAndSaysWhenToComeBack(backend: StoreBackend) async throws {
        let instance = try await LimiterInstance.make(backend)
        let limiter = instance.limiter(limit: 2)
        try await limiter.acquire("bot:a", now: Self.at(0))
        try await limiter.acquire("bot:a", now: Self.at(10))
        await #expect(throws: DirectoryError.rateLimited(retryAfterSeconds: 40)) { try await limiter.acquire("bot:a", now: Self.at(20)) }
        // Another caller has a budget of its own.
        try await limiter.acquire("bot:b", now: Self.at(20))
        // The first hit left the window; the refused one was never counted.
        try await limiter.acquire("bot:a", now: Self.at(60))
        await #expect(throws: DirectoryError.rateLimited(retryAfterSeconds: 5)) { try await limiter.acquire("bot:a", now: Self.at(65)) }
        await #expect(throws: DirectoryError.rateLimited(retryAfterSeconds: 1)) { try await limiter.acquire("bot:a", now: Self.at(69.5)) }
        try await limiter.acquire("bot:a", now: Self.at(70))
        await instance.close()
    }

    @Test(.enabled(if: TestPostgres.serverURL != nil))
    func twoInstancesDrawOnOneBudget() async throws {
        let first = try await LimiterInstance.make(.postgres)
        let second = try await first.anotherInstance()
        let here = first.limiter(limit: 3)
        let there = second.limiter(limit: 3)
        try await here.acquire("alice", now: Self.at(0))
        try await there.acquire("alice", now: Self.at(1))
        try await here.acquire("alice", now: Self.at(2))
        await #expect(throws: DirectoryError.rateLimited(retryAfterSeconds: 58)) { try await there.acquire("alice", now: Self.at(2)) }
        await #expect(throws: DirectoryError.rateLimited(retryAfterSeconds: 57)) { try await here.acquire("alice", now: Self.at(3)) }
        try await there.acquire("alice", now: Self.at(60))
        // Another limit keeps its own count.
        try await second.limiter(limit: 1, scope: "follow-ups").acquire("alice", now: Self.at(3))
        await first.close()
        await second.close()
    }

    @Test(.enabled(if: TestPostgres.serverURL != nil))
    func attemptsAtTheSameMomentOnTwoInstancesPassNoMoreThanTheLimit() async throws {
        let first = try await LimiterInstance.make(.postgres)
        let second = try await first.anotherInstance()
        let limiters = [first.limiter(limit: 5), second.limiter(limit: 5)]
        let passed = try await withThrowingTaskGroup(of: Bool.self) { group in
            for attempt in 0..<20 {
                group.addTask {
                    do {
                        try await limiters[attempt % 2].acquire("busy bot", now: Self.at(Double(attempt) / 100))
                        return true
                    } catch DirectoryError.rateLimited {
                        return false
                    }
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(passed == 5)
        await first.close()
        await second.close()
    }

    @Test(.enabled(if: TestPostgres.serverURL != nil))
    func callersWhoseHitsLeftTheWindowAreForgotten() async throws {
        let instance = try await LimiterInstance.make(.postgres)
        let limiter = instance.limiter(limit: 2)
        try await limiter.acquire("quiet", now: Self.at(0))
        try await limiter.acquire("busy", now: Self.at(30))
        #expect(try await instance.countedCallers() == ["busy", "quiet"])
        // The next purge is due a window after the first (at 0): it drops "quiet", whose hit is a window old.
        try await limiter.acquire("busy", now: Self.at(60))
        #expect(try await instance.countedCallers() == ["busy"])
        await instance.close()
    }

    @Test(.enabled(if: TestPostgres.serverURL != nil))
    func aCallerKeepsNoMoreHitsThanItsLimitHoweverManyItMakes() async throws {
        let instance = try await LimiterInstance.make(.postgres)
        let limiter = instance.limiter(limit: 3)
        // Forty hits half a minute apart: each finds one other in its minute and is let through.
        for index in 0..<40 { try await limiter.acquire("steady", now: Self.at(Double(index) * 30)) }
        #expect(try await instance.keptHits("steady") == 3)
        // The count is still the window's: the hits at 1,140 and 1,170 are in it, so one more passes and the next not.
        try await limiter.acquire("steady", now: Self.at(1180))
        await #expect(throws: DirectoryError.rateLimited(retryAfterSeconds: 15)) { try await limiter.acquire("steady", now: Self.at(1185)) }
        #expect(try await instance.keptHits("steady") == 3)
        await instance.close()
    }

    static func at(_ seconds: Double) -> Date { start.addingTimeInterval(seconds) }
}

/// One instance's rate limits: in process for SQLite's single instance, in the shared database for PostgreSQL.
struct LimiterInstance {
    var database: PostgresAppDatabase?

    static func make(_ backend: StoreBackend) async throws -> LimiterInstance {
        switch backend {
        case .sqlite: LimiterInstance(database: nil)
        case .postgres: LimiterInstance(database: try await TestPostgres.freshDatabase())
        }
    }

    /// A second instance on the same database.
    func anotherInstance() async throws -> LimiterInstance {
        let database = try #require(database)
        return LimiterInstance(
            database: try await PostgresAppDatabase.open(url: database.location.url, logger: TestPostgres.logger, maximumConnections: 4))
    }

    func limiter(limit: Int, scope: String = "asks") -> any RateLimit {
        guard let database else { return RateLimiter(limit: limit, window: 60) }
        return PostgresRateLimiter(database: database, scope: scope, limit: limit, window: 60, logger: TestPostgres.logger)
    }

    /// The callers PostgreSQL keeps counts for.
    func countedCallers() async throws -> [String] {
        try await #require(database).read { connection in
            var keys: [String] = []
            for try await key in try await connection.query("SELECT key FROM rateLimit ORDER BY key", logger: TestPostgres.logger).decode(String.self)
            {
                keys.append(key)
            }
            return keys
        }
    }

    /// How many of a caller's hits PostgreSQL keeps.
    func keptHits(_ key: String) async throws -> Int {
        try await TestDatabase.postgres(#require(database)).count("SELECT count(*) FROM rateLimitHit WHERE key = '\(key)'")
    }

    func close() async { await database?.close() }
}
