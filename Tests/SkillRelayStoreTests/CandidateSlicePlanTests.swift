import Foundation
import PostgresNIO
import SkillRelayDomain
import SkillRelayTestSupport
import Testing

@testable import SkillRelayPostgres

/// The PostgreSQL store's scan of candidates reads no further than its limit: an ask reads about a hundred candidates
/// whatever the size of the topic's subtree.
@Suite(.enabled(if: TestPostgres.serverURL != nil, "needs SKILLRELAY_TEST_POSTGRES_URL"))
struct CandidateSlicePlanTests {
    @Test func aSliceOfATopicWithSubtopicsReadsOnlyTheSkillsItReturns() async throws {
        let database = try await TestPostgres.freshDatabase()
        let clock = TestClock()
        // `data` and nine topics below it; 400 people tagged with all ten, at levels spread from 1 to 5 (each topic has
        // 80 people at level 5). The import leaves the planner its statistics, so the company must look like one for the
        // plan to be a deployment's: with twenty people all at level 5, PostgreSQL rightly judged that reading the
        // primary key in employee order was as cheap, and read sixty entries of it.
        let topics = ["data"] + (1...9).map { "data\($0)" }
        let people = 1...400
        var employees = "handle,name,email,im_id,manager,admin,active\n"
        employees += people.map { "p\($0),p\($0),p\($0)@example.org,,,false,true\n" }.joined()
        var topicRows = "slug,name,parent,aliases,description\n"
        topicRows += topics.map { "\($0),\($0),\($0 == "data" ? "" : "data"),,\n" }.joined()
        let skills =
            "handle,topic,level\n"
            + people.flatMap { person in topics.indices.map { "p\(person),\(topics[$0]),\((person + $0) % 5 + 1)\n" } }.joined()
        _ = try await PostgresDirectoryStore(database: database, clock: clock).importDirectory(
            try ImportBatch.parse(files: [.employees: employees, .topics: topicRows, .skills: skills]), by: .cliOperator)

        let limit = 6
        let (returned, read) = try await database.read { connection in
            let start = try #require(try await connection.rows(PreparedQuery<CandidateReadStart> { $0.append("data") }).first)
            let subtree = try start.decode(([Int64], Int64?).self).0
            #expect(subtree.count == 10)
            let now = clock.now()
            // From pivot 0, the first slice (level 5, everyone from id 0 on) holds the 80 at level 5 of each topic.
            let scan = CandidateScan(
                hourAgo: now.addingTimeInterval(-3600), hourlyBudget: 3, dayAgo: now.addingTimeInterval(-86_400), dayCount: 16,
                topic: subtree[0], hourOfWeek: LearnedRecord.hourOfWeek(now), topics: subtree.sorted(), minimumLevel: 1, pivot: 0,
                now: now, excluding: nil, dailyBudget: 8, limit: limit, firstSlice: 0, alreadyFound: [])
            // The entries the scan read from the index the slices scan, as PostgreSQL counts them.
            return try await PostgresIndexReads.entries(of: ["skillByTopicLevel"], on: connection) {
                var returned = 0
                for try await _ in try await connection.execute(scan, logger: connection.logger) { returned += 1 }
                return returned
            }
        }
        #expect(returned == limit)
        // The first topic alone has enough people: its first six are read, and no other topic's, where reading each
        // topic up to the limit and sorting them all read sixty.
        #expect(read > 0, "the scan read no skills from skillByTopicLevel")
        #expect(read < 2 * limit, "read \(read) skills for a slice of \(limit)")
        await database.close()
    }
}
