import Foundation
import SkillRelayDomain
import SkillRelayTestSupport
import Testing

/// Suggested skills and stale tags: raised in the transactions of the ratings, answers, passes and closes behind them,
/// decided by managers through the directory's own tagging. On every backend.
@Suite struct SuggestionStoreTests {
    /// A small company:
    ///
    ///              boss
    ///         /     |     \
    ///        m      x     asker
    ///      /   \    |
    ///    sub tagged xr
    ///
    /// Topics `infra` > `kubernetes`. `sub` has kubernetes 4 (so infra questions reach them through the subtopic);
    /// `tagged` has infra 3.
    struct Company {
        let questions: any QuestionStore
        let directory: any DirectoryStore & SuggestionStore
        let database: TestDatabase
        let clock: TestClock

        static func make(_ backend: StoreBackend) async throws -> Company {
            let clock = TestClock()
            let database = try await TestDatabase.empty(backend)
            do {
                return try await make(on: database, clock: clock)
            } catch {
                await database.close()
                throw error
            }
        }

        private static func make(on database: TestDatabase, clock: TestClock) async throws -> Company {
            let directory = try database.suggestionDirectory(clock: clock)
            let people = [("boss", ""), ("m", "boss"), ("x", "boss"), ("asker", "boss"), ("sub", "m"), ("tagged", "m"), ("xr", "x")]
            let employees =
                "handle,name,email,im_id,manager,admin,active\n"
                + people.map { "\($0.0),\($0.0.capitalized),\($0.0)@example.org,@\($0.0):localhost,\($0.1),false,true\n" }.joined()
            _ = try await directory.importDirectory(
                try ImportBatch.parse(files: [
                    .employees: employees,
                    .topics: "slug,name,parent,aliases,description\ninfra,Infrastructure,,,\nkubernetes,Kubernetes,infra,k8s,\n",
                    .skills: "handle,topic,level\nsub,kubernetes,4\ntagged,infra,3\n",
                ]), by: .cliOperator)
            return Company(questions: try database.threadStore(clock: clock), directory: directory, database: database, clock: clock)
        }

        func manager(_ handle: String) -> Caller { Caller(identity: .employee(handle), isManager: true) }

        /// Asks `asker`'s question on `topic`, delivered at once to `to`; returns the question's id and each one's delivery.
        func ask(_ topic: String, to handles: [String], maxAnswers: Int = 3) async throws -> (id: String, deliveries: [String: String]) {
            let id = IdentifierGenerator.make(prefix: "q")
            let now = clock.now()
            _ = try await questions.createQuestion(
                NewQuestion(
                    id: id, asker: .employee("asker"), topic: TopicReference(slug: topic, name: topic), text: "A question on \(topic)",
                    maxAnswers: maxAnswers, idempotencyKey: nil, callbackURL: nil, channel: .api, createdAt: now,
                    expiresAt: now.addingTimeInterval(3600)),
                firstWave: handles.map { Candidate(handle: $0, level: 3) }, nextActionAt: now.addingTimeInterval(60))
            var deliveries: [String: String] = [:]
            for handle in handles {
                deliveries[handle] = try await questions.inbox(of: handle, page: PageRequest(limit: 1)).items.first?.id
            }
            return (id, deliveries)
        }

        /// `handle` answers and the asker rates the answer.
        func answerAndRate(_ question: (id: String, deliveries: [String: String]), by handle: String, helpful: Bool?) async throws -> Int {
            let result = try await questions.recordAnswer(
                delivery: question.deliveries[handle]!, by: handle, text: "An answer", labeling: AnswerLabeling(k: 5), now: clock.now())
            guard case .relayed(let rank) = result.outcome else { throw DirectoryError.answerNotFound(0) }
            if let helpful {
                try await questions.rateAnswer(
                    question: question.id, rank: rank, helpful: helpful, by: .employee("asker"), isAdmin: false, now: clock.now())
            }
            return rank
        }

        func open(for manager: String = "m") async throws -> [SkillSuggestion] {
            try await directory.suggestions(below: nil, by: self.manager(manager), page: PageRequest()).items
        }

        func audit(_ entity: String) async throws -> [(key: String, action: String, actor: String)] {
            try await database.auditEntries(entity)
        }

        func suggestionRows() async throws -> Int {
            try await database.suggestionCount()
        }
    }

    // MARK: - Suggested

    @Test(arguments: StoreBackend.available) func aHelpfulAnswerThroughASubtopicSuggestsTheTopicAndMoreAnswersAddEvidence(backend: StoreBackend)
        async throws
    {
        let company = try await Company.make(backend)
        defer { Task { await company.database.close() } }
        let first = try await company.ask("infra", to: ["sub"])
        _ = try await company.answerAndRate(first, by: "sub", helpful: true)
        var open = try await company.open()
        #expect(open.count == 1)
        let suggestion = try #require(open.first)
        #expect(suggestion.kind == .suggested && suggestion.status == .open)
        #expect(suggestion.handle == "sub" && suggestion.topic.slug == "infra" && suggestion.evidence == 1 && suggestion.currentLevel == nil)
        // The boss sees it too (further up the chain); the other manager and the admin's whole-company view differ.
        #expect(try await company.open(for: "boss").map(\.id) == [suggestion.id])
        #expect(try await company.open(for: "x").isEmpty)
        #expect(try await company.directory.suggestions(below: nil, by: .cliOperator, page: PageRequest()).items.map(\.id) == [suggestion.id])

        // A second helpful answer adds to the same suggestion: one open per person and topic.
        company.clock.advance(by: 600)
        let second = try await company.ask("infra", to: ["sub"])
        let rank = try await company.answerAndRate(second, by: "sub", helpful: true)
        open = try await company.open()
        #expect(open.map(\.id) == [suggestion.id] && open.first?.evidence == 2)
        // The same rating again counts once.
        try await company.questions.rateAnswer(
            question: second.id, rank: rank, helpful: true, by: .employee("asker"), isAdmin: false, now: company.clock.now())
        #expect(try await company.open().first?.evidence == 2)

        // Changing a rating to unhelpful takes its evidence back; with none left, the suggestion goes.
        try await company.questions.rateAnswer(
            question: second.id, rank: rank, helpful: false, by: .employee("asker"), isAdmin: false, now: company.clock.now())
        #expect(try await company.open().first?.evidence == 1)
        try await company.questions.rateAnswer(
            question: first.id, rank: 1, helpful: false, by: .employee("asker"), isAdmin: false, now: company.clock.now())
        #expect(try await company.open().isEmpty)
    }

    @Test(arguments: StoreBackend.available) func nothingIsSuggestedForATaggedTopicOrAnUnhelpfulOrUnratedAnswer(backend: StoreBackend) async throws {
        let company = try await Company.make(backend)
        defer { Task { await company.database.close() } }
        // Tagged with the question's own topic.
        let onInfra = try await company.ask("infra", to: ["tagged", "sub"])
        _ = try await company.answerAndRate(onInfra, by: "tagged", helpful: true)
        // Unhelpful, and unrated.
        _ = try await company.answerAndRate(onInfra, by: "sub", helpful: false)
        let again = try await company.ask("infra", to: ["sub"])
        _ = try await company.answerAndRate(again, by: "sub", helpful: nil)
        // A helpful answer on the subtopic sub is tagged with.
        let onKubernetes = try await company.ask("kubernetes", to: ["sub"])
        _ = try await company.answerAndRate(onKubernetes, by: "sub", helpful: true)
        #expect(try await company.open().isEmpty)
        #expect(try await company.suggestionRows() == 0)
    }

    @Test(arguments: StoreBackend.available) func theSuggestionIsWrittenInTheRatingsTransaction(backend: StoreBackend) async throws {
        let company = try await Company.make(backend)
        defer { Task { await company.database.close() } }
        let question = try await company.ask("infra", to: ["sub"])
        _ = try await company.answerAndRate(question, by: "sub", helpful: nil)
        // The rating's last write fails: its transaction rolls back, and the suggestion with it.
        try await company.database.failComplianceEntries(ofKind: "rating", true)
        await #expect(throws: (any Error).self) {
            try await company.questions.rateAnswer(
                question: question.id, rank: 1, helpful: true, by: .employee("asker"), isAdmin: false, now: company.clock.now())
        }
        #expect(try await company.suggestionRows() == 0)
        try await company.database.failComplianceEntries(ofKind: "rating", false)
        try await company.questions.rateAnswer(
            question: question.id, rank: 1, helpful: true, by: .employee("asker"), isAdmin: false, now: company.clock.now())
        #expect(try await company.open().count == 1)
    }

    @Test(arguments: StoreBackend.available) func acceptingTagsThePersonAtTheLevelThroughTheTaggingPathAndIsAudited(backend: StoreBackend)
        async throws
    {
        let company = try await Company.make(backend)
        defer { Task { await company.database.close() } }
        _ = try await company.answerAndRate(try await company.ask("infra", to: ["sub"]), by: "sub", helpful: true)
        let id = try #require(try await company.open().first?.id)
        // Only the person's managers and admins: another manager, or the person, is "not found"; a non-manager is refused.
        await #expect(throws: DirectoryError.suggestionNotFound(id)) {
            try await company.directory.decide(suggestion: id, .accept(level: 4), by: company.manager("x"))
        }
        await #expect(throws: DirectoryError.self) {
            try await company.directory.decide(suggestion: id, .accept(level: 4), by: Caller(identity: .employee("sub")))
        }
        await #expect(throws: DirectoryError.suggestionNotFound("sg_nope")) {
            try await company.directory.decide(suggestion: "sg_nope", .dismiss, by: company.manager("m"))
        }
        // A suggested skill needs a level, and a valid one.
        await #expect(throws: DirectoryError.invalidField("level", "is required to accept a suggested skill: a number from 1 to 5")) {
            try await company.directory.decide(suggestion: id, .accept(level: nil), by: company.manager("m"))
        }
        await #expect(throws: DirectoryError.invalidLevel(9)) {
            try await company.directory.decide(suggestion: id, .accept(level: 9), by: company.manager("m"))
        }
        let decided = try await company.directory.decide(suggestion: id, .accept(level: 4), by: company.manager("m"))
        #expect(decided.status == .accepted && decided.currentLevel == 4)
        let skill = try #require(try await company.directory.employee("sub", by: .cliOperator).skills.first { $0.topic.slug == "infra" })
        #expect(skill.level == 4 && skill.source == .manager && skill.taggedBy == "m")
        #expect(try await company.audit("suggestion").map(\.action) == ["accept"])
        #expect(try await company.audit("skill").last.map { [$0.key, $0.action] } == ["sub/infra", "create"])
        // Decided once only; and no longer listed.
        await #expect(throws: DirectoryError.suggestionDecided(id)) {
            try await company.directory.decide(suggestion: id, .dismiss, by: company.manager("boss"))
        }
        #expect(try await company.open().isEmpty)
    }

    @Test(arguments: StoreBackend.available) func aDismissedSuggestionStaysQuietForNinetyDays(backend: StoreBackend) async throws {
        let company = try await Company.make(backend)
        defer { Task { await company.database.close() } }
        _ = try await company.answerAndRate(try await company.ask("infra", to: ["sub"]), by: "sub", helpful: true)
        let id = try #require(try await company.open().first?.id)
        let dismissed = try await company.directory.decide(suggestion: id, .dismiss, by: company.manager("m"))
        #expect(dismissed.status == .dismissed)
        #expect(try await company.directory.employee("sub", by: .cliOperator).skills.map(\.topic.slug) == ["kubernetes"])
        #expect(try await company.audit("suggestion").map(\.action) == ["dismiss"])
        company.clock.advance(by: 89 * 86_400)
        _ = try await company.answerAndRate(try await company.ask("infra", to: ["sub"]), by: "sub", helpful: true)
        #expect(try await company.open().isEmpty)
        company.clock.advance(by: 2 * 86_400)
        _ = try await company.answerAndRate(try await company.ask("infra", to: ["sub"]), by: "sub", helpful: true)
        let again = try await company.open()
        #expect(again.count == 1 && again.first?.id != id && again.first?.evidence == 1)
    }

    // MARK: - Stale

    @Test(arguments: StoreBackend.available) func aTagMostlyPassedOrIgnoredIsFlaggedOnceFourOutcomesAreKnown(backend: StoreBackend) async throws {
        let company = try await Company.make(backend)
        defer { Task { await company.database.close() } }
        // Two passes and one expiry (ignored): three outcomes, too few to say.
        for _ in 0..<2 {
            let question = try await company.ask("infra", to: ["tagged"])
            _ = try await company.questions.recordPass(delivery: question.deliveries["tagged"]!, by: "tagged", now: company.clock.now())
            company.clock.advance(by: 60)
        }
        let ignored = try await company.ask("infra", to: ["tagged"])
        #expect(try await company.questions.expireQuestion(ignored.id, now: company.clock.now()))
        #expect(try await company.open().isEmpty)
        // A cancelled question says nothing about the specialist.
        let cancelled = try await company.ask("infra", to: ["tagged"])
        try await company.questions.cancelQuestion(cancelled.id, by: .employee("asker"), isAdmin: false, now: company.clock.now())
        #expect(try await company.open().isEmpty)
        // One answer makes four known outcomes, three of them missed: 75 %.
        _ = try await company.answerAndRate(try await company.ask("infra", to: ["tagged"]), by: "tagged", helpful: nil)
        var open = try await company.open()
        #expect(open.count == 1)
        let flag = try #require(open.first)
        #expect(flag.kind == .stale && flag.handle == "tagged" && flag.topic.slug == "infra")
        #expect(flag.evidence == 3 && flag.deliveries == 4 && flag.currentLevel == 3)
        // Another answer brings the share under 75 %: the flag goes, as nothing supports it any more.
        _ = try await company.answerAndRate(try await company.ask("infra", to: ["tagged"]), by: "tagged", helpful: nil)
        #expect(try await company.open().isEmpty)
        // Passing again brings it back (4 of 6 and 5 of 7 are under 75 %, 6 of 8 is 75 %), and a fourth pass adds to it.
        for _ in 0..<4 {
            let question = try await company.ask("infra", to: ["tagged"])
            _ = try await company.questions.recordPass(delivery: question.deliveries["tagged"]!, by: "tagged", now: company.clock.now())
        }
        open = try await company.open()
        #expect(open.count == 1 && open.first?.evidence == 7 && open.first?.deliveries == 9 && open.first?.id != flag.id)
    }

    @Test(arguments: StoreBackend.available) func deliveriesOlderThanThirtyDaysDoNotCount(backend: StoreBackend) async throws {
        let company = try await Company.make(backend)
        defer { Task { await company.database.close() } }
        for _ in 0..<3 {
            let question = try await company.ask("infra", to: ["tagged"])
            _ = try await company.questions.recordPass(delivery: question.deliveries["tagged"]!, by: "tagged", now: company.clock.now())
        }
        company.clock.advance(by: 31 * 86_400)
        let question = try await company.ask("infra", to: ["tagged"])
        _ = try await company.questions.recordPass(delivery: question.deliveries["tagged"]!, by: "tagged", now: company.clock.now())
        #expect(try await company.open().isEmpty)
    }

    @Test(arguments: StoreBackend.available) func acceptingAFlagRemovesTheTagAndKeepingItStaysQuiet(backend: StoreBackend) async throws {
        let company = try await Company.make(backend)
        defer { Task { await company.database.close() } }
        func passFour() async throws {
            for _ in 0..<4 {
                let question = try await company.ask("infra", to: ["tagged"])
                _ = try await company.questions.recordPass(delivery: question.deliveries["tagged"]!, by: "tagged", now: company.clock.now())
            }
        }
        try await passFour()
        let keep = try #require(try await company.open().first)
        #expect(try await company.directory.decide(suggestion: keep.id, .dismiss, by: company.manager("boss")).status == .dismissed)
        try await passFour()
        #expect(try await company.open().isEmpty)
        company.clock.advance(by: 91 * 86_400)
        try await passFour()
        let flag = try #require(try await company.open().first)
        #expect(flag.id != keep.id)
        await #expect(throws: DirectoryError.invalidField("level", "is not taken: accepting a stale tag removes it")) {
            try await company.directory.decide(suggestion: flag.id, .accept(level: 2), by: company.manager("m"))
        }
        let removed = try await company.directory.decide(suggestion: flag.id, .accept(level: nil), by: company.manager("m"))
        #expect(removed.status == .accepted && removed.currentLevel == nil)
        #expect(try await company.directory.employee("tagged", by: .cliOperator).skills.isEmpty)
        #expect(try await company.audit("skill").last.map { [$0.key, $0.action, $0.actor] } == ["tagged/infra", "delete", "employee:m"])
        #expect(try await company.audit("suggestion").map(\.action) == ["dismiss", "accept"])
    }

    @Test(arguments: StoreBackend.available) func aPassIsFlaggedInItsOwnTransaction(backend: StoreBackend) async throws {
        let company = try await Company.make(backend)
        defer { Task { await company.database.close() } }
        var last: (id: String, deliveries: [String: String])?
        for index in 0..<4 {
            let question = try await company.ask("infra", to: ["tagged"])
            if index < 3 {
                _ = try await company.questions.recordPass(delivery: question.deliveries["tagged"]!, by: "tagged", now: company.clock.now())
            } else {
                last = question
            }
        }
        try await company.database.failComplianceEntries(ofKind: "pass", true)
        let delivery = try #require(last?.deliveries["tagged"])
        await #expect(throws: (any Error).self) {
            _ = try await company.questions.recordPass(delivery: delivery, by: "tagged", now: company.clock.now())
        }
        #expect(try await company.open().isEmpty)
        try await company.database.failComplianceEntries(ofKind: "pass", false)
        _ = try await company.questions.recordPass(delivery: delivery, by: "tagged", now: company.clock.now())
        #expect(try await company.open().count == 1)
    }

    @Test(arguments: StoreBackend.available) func theListPagesNewestFirstAndRefusesAForeignCursor(backend: StoreBackend) async throws {
        let company = try await Company.make(backend)
        defer { Task { await company.database.close() } }
        // Three suggestions for sub, on three topics sub is not tagged with.
        _ = try await company.directory.createTopic(Topic(slug: "networks", name: "Networks", parentSlug: "infra"), by: .cliOperator)
        _ = try await company.directory.createTopic(Topic(slug: "storage", name: "Storage", parentSlug: "infra"), by: .cliOperator)
        for topic in ["infra", "networks", "storage"] {
            _ = try await company.answerAndRate(try await company.ask(topic, to: ["sub"]), by: "sub", helpful: true)
        }
        let first = try await company.directory.suggestions(below: nil, by: company.manager("m"), page: PageRequest(limit: 2))
        #expect(first.items.map(\.topic.slug) == ["storage", "networks"])
        let next = try #require(first.next)
        let second = try await company.directory.suggestions(below: nil, by: company.manager("m"), page: PageRequest(limit: 2, after: next))
        #expect(second.items.map(\.topic.slug) == ["infra"] && second.next == nil)
        await #expect(throws: InvalidCursor.self) {
            try await company.directory.suggestions(
                below: nil, by: company.manager("m"), page: PageRequest(limit: 2, after: PageCursor(list: .suggestions, keys: ["sg_nope"])))
        }
        // Below someone outside one's team: not found.
        await #expect(throws: DirectoryError.employeeNotFound("x")) {
            try await company.directory.suggestions(below: "x", by: company.manager("m"), page: PageRequest())
        }
        await #expect(throws: DirectoryError.self) {
            try await company.directory.suggestions(below: nil, by: Caller(identity: .employee("sub")), page: PageRequest())
        }
    }
}
