import Foundation
import GRDB
import SkillRelayDomain
import SkillRelayStore
import SkillRelayTestSupport
import Testing

/// On the sample company in `Data/`: whatever (topic, level) an answerer holds, the label the asker gets fits at least
/// k active people, counted here from the directory's tables, apart from the store's own query.
@Suite struct LabelAnonymityTests {
    static let k = 5

    /// The directory as an asker who knows everyone's tags sees it.
    struct Directory {
        var handles: [Int64: String]
        var active: Set<Int64>
        /// (employee, topic, level) for every tag.
        var skills: [(employee: Int64, topic: Int64, level: Int)]
        var slugs: [Int64: String]
        var parents: [Int64: Int64]

        /// The topic and every topic below it.
        func subtree(_ topic: Int64) -> Set<Int64> {
            var result: Set<Int64> = [topic]
            var grew = true
            while grew {
                grew = false
                for (child, parent) in parents where result.contains(parent) && !result.contains(child) {
                    result.insert(child)
                    grew = true
                }
            }
            return result
        }

        /// Each active person tagged in the topic's subtree, but `asker`, at their best level there.
        func bestLevels(in topic: Int64, excluding asker: Int64) -> [Int64: Int] {
            let topics = subtree(topic)
            var best: [Int64: Int] = [:]
            for skill in skills where topics.contains(skill.topic) && active.contains(skill.employee) && skill.employee != asker {
                best[skill.employee] = max(best[skill.employee] ?? 0, skill.level)
            }
            return best
        }
    }

    static func read(_ database: AppDatabase) async throws -> Directory {
        try await database.writer.read { db in
            var handles: [Int64: String] = [:]
            var active: Set<Int64> = []
            for row in try Row.fetchAll(db, sql: "SELECT id, handle, isActive FROM employee") {
                handles[row["id"]] = row["handle"]
                if row["isActive"] as Bool { active.insert(row["id"]) }
            }
            let skills = try Row.fetchAll(db, sql: "SELECT employeeId, topicId, level FROM skill").map {
                (employee: $0["employeeId"] as Int64, topic: $0["topicId"] as Int64, level: $0["level"] as Int)
            }
            var slugs: [Int64: String] = [:]
            var parents: [Int64: Int64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, slug, parentId FROM topic") {
                slugs[row["id"]] = row["slug"]
                if let parent: Int64 = row["parentId"] { parents[row["id"]] = parent }
            }
            return Directory(handles: handles, active: active, skills: skills, slugs: slugs, parents: parents)
        }
    }

    @Test func everyTagsLabelFitsAtLeastKActivePeople() async throws {
        let clock = TestClock()
        let database = try AppDatabase.inMemory()
        let directory = SQLiteDirectoryStore(database: database, clock: clock)
        _ = try await directory.importDirectory(try ImportFiles.read(directory: sampleDataDirectory), by: .cliOperator)
        let questions = SQLiteQuestionStore(database: database, clock: clock)
        let company = try await Self.read(database)
        // Every (topic, level) pair an active person holds, once.
        var pairs: [String: (topic: Int64, level: Int, holder: Int64)] = [:]
        for skill in company.skills.sorted(by: { company.handles[$0.employee]! < company.handles[$1.employee]! })
        where company.active.contains(skill.employee) {
            let key = "\(skill.topic)/\(skill.level)"
            if pairs[key] == nil { pairs[key] = (skill.topic, skill.level, skill.employee) }
        }
        #expect(pairs.count > 200)
        var told: [String: Int] = [:]
        for (_, pair) in pairs.sorted(by: { $0.key < $1.key }) {
            let slug = company.slugs[pair.topic]!
            // Asked by the first active person other than the holder; an asker knows the answer was not theirs.
            let asker = company.active.filter { $0 != pair.holder }.min { company.handles[$0]! < company.handles[$1]! }!
            let people = company.bestLevels(in: pair.topic, excluding: asker)
            let level = people[pair.holder]!
            let now = clock.now()
            let id = IdentifierGenerator.make(prefix: "q")
            _ = try await questions.createQuestion(
                NewQuestion(
                    id: id, asker: .employee(company.handles[asker]!), topic: TopicReference(slug: slug, name: slug), text: "A question on \(slug)",
                    maxAnswers: 1, idempotencyKey: nil, callbackURL: nil, channel: .api, createdAt: now, expiresAt: now.addingTimeInterval(3600)),
                firstWave: [Candidate(handle: company.handles[pair.holder]!, level: level)], nextActionAt: now.addingTimeInterval(60))
            let delivery = try #require(
                try await questions.inbox(of: company.handles[pair.holder]!, page: PageRequest(limit: 1)).items.first?.id)
            let result = try await questions.recordAnswer(
                delivery: delivery, by: company.handles[pair.holder]!, text: "An answer", labeling: AnswerLabeling(k: Self.k), now: now)
            let label = try #require(result.relayed?.label)
            // Everyone the label fits, from the tables: tagged in the topic at a level the label allows.
            let fitting = people.values.filter { label.levels.contains($0) }.count
            if label.isDetailed {
                #expect(label.topic == slug)
                #expect(fitting >= Self.k, "\(slug) level \(pair.level): '\(label.text)' fits \(fitting)")
            } else {
                #expect(fitting >= Self.k || fitting == people.count, "\(slug) level \(pair.level): '\(label.text)' fits \(fitting)")
            }
            // And against an asker who knows how labels are chosen: everyone who would get the same label.
            var counts: [Int: Int] = [:]
            for best in people.values { counts[best, default: 0] += 1 }
            let groups = AnswererLabel.groups(people: counts, k: Self.k)
            let mine: AnswererLabel.Precision = groups[level] ?? .none
            let same = people.values.filter { (groups[$0] ?? AnswererLabel.Precision.none) == mine }.count
            #expect(same >= min(Self.k, people.count), "\(slug) level \(pair.level): '\(label.text)' is given to \(same)")
            #expect(label == AnswererLabel.choose(topic: slug, level: level, people: counts, k: Self.k))
            told[label.level != nil ? "level" : label.band != nil ? "band" : "specialist", default: 0] += 1
        }
        // Not only "a specialist": the sample company has levels enough people share, and bands that help.
        #expect(told["level", default: 0] > 0)
        #expect(told["band", default: 0] > 0)
    }

    @Test func theLabelIsKeptWithTheAnswerAndDoesNotChangeWithTheDirectory() async throws {
        let clock = TestClock()
        let database = try AppDatabase.inMemory()
        let directory = SQLiteDirectoryStore(database: database, clock: clock)
        _ = try await directory.importDirectory(
            try batch([
                .employees: "handle,name,email,im_id,manager,admin,active\nasker,Asker,a@example.org,,,false,true\n"
                    + (1...6).map { "s\($0),S\($0),s\($0)@example.org,,,false,true\n" }.joined(),
                .topics: "slug,name,parent,aliases,description\ngo,Go,,,\n",
                .skills: "handle,topic,level\n" + (1...6).map { "s\($0),go,4\n" }.joined(),
            ]), by: .cliOperator)
        let questions = SQLiteQuestionStore(database: database, clock: clock)
        let now = clock.now()
        _ = try await questions.createQuestion(
            NewQuestion(
                id: "q_1", asker: .employee("asker"), topic: TopicReference(slug: "go", name: "Go"), text: "Why?", maxAnswers: 1,
                idempotencyKey: nil, callbackURL: nil, channel: .api, createdAt: now, expiresAt: now.addingTimeInterval(3600)),
            firstWave: [Candidate(handle: "s1", level: 4)], nextActionAt: now.addingTimeInterval(60))
        let delivery = try #require(try await questions.inbox(of: "s1", page: PageRequest(limit: 1)).items.first?.id)
        let result = try await questions.recordAnswer(delivery: delivery, by: "s1", text: "Because.", labeling: AnswerLabeling(k: 5), now: now)
        #expect(result.relayed?.label == AnswererLabel(topic: "go", level: 4, band: nil))
        // Two of the six leave: level 4 would no longer be told, but what the asker was told stays.
        for handle in ["s5", "s6"] { _ = try await directory.updateEmployee(handle, with: EmployeePatch(isActive: false), by: .cliOperator) }
        let view = try await questions.questionView("q_1", for: .employee("asker"), isAdmin: false)
        #expect(view.answers.first?.label.text == "go, level 4")
    }
}
