import Foundation
import SkillRelayDomain
import SkillRelayStore
import Testing

/// Follow-ups on an answer's thread, through the question service on the real store and the test clock.
@Suite struct FollowUpTests {
    /// An employee's question (`deep` asks) answered by `kube.specialist.01` as answer 1; `kube.specialist.02` holds it
    /// too but has not answered.
    func answered(settings: QuestionSettings = Fixture.settings, maxAnswers: Int = 1) async throws -> (Fixture, question: String, delivery: String) {
        let fixture = try await Fixture.make(settings: settings)
        _ = try await fixture.addSpecialists(2)
        let asked = try await fixture.questions.ask(
            QuestionDraft(asker: .employee("deep"), topic: "kubernetes", text: "How do I drain a node?", maxAnswers: maxAnswers))
        let specialist = try await fixture.caller("kube.specialist.01")
        let delivery = try #require(try await fixture.questions.inbox(of: specialist).first).id
        #expect(
            try await fixture.questions.answer(delivery: delivery, text: "kubectl drain --ignore-daemonsets", by: specialist) == .relayed(rank: 1))
        return (fixture, asked.id, delivery)
    }

    @Test func askerAndSpecialistTalkOnTheAnswersThreadByAliasOnly() async throws {
        let (fixture, question, delivery) = try await answered()
        let asker = try await fixture.caller("deep")
        let specialist = try await fixture.caller("kube.specialist.01")

        let sent = try await fixture.questions.followUp(question: question, rank: 1, text: "Does that work on 1.29?", by: asker)
        #expect(sent.alias == "you" && sent.from == .asker && sent.rank == 1)
        fixture.clock.advance(by: 60)
        let back = try await fixture.questions.followUp(delivery: delivery, text: "Yes. Which CNI do you run?", by: specialist)
        #expect(back.alias == "you" && back.from == .specialist)

        // The asker sees the thread under answer 1, the specialist under their delivery, each with the other's alias.
        let view = try await fixture.questions.question(question, by: asker)
        #expect(view.followUps.map(\.alias) == ["you", view.answers[0].alias])
        #expect(view.followUps.map(\.text) == ["Does that work on 1.29?", "Yes. Which CNI do you run?"])
        // An admin reads the thread too, with the asker as "the asker", not "you".
        let audited = try await fixture.questions.question(question, by: try await fixture.caller("admin"))
        #expect(audited.followUps.map(\.alias) == ["the asker", view.answers[0].alias])
        let closedAt = try #require(view.closedAt)
        #expect(view.threadOpenUntil == closedAt.addingTimeInterval(7 * 86_400))
        let item = try #require(try await fixture.questions.inbox(of: specialist).first)
        #expect(item.rank == 1)
        #expect(item.followUps.map(\.alias) == ["the asker", "you"])

        // Each message went to the compliance log with its text, in and out, and to the other side's outbox.
        let entries = try await fixture.questionStore.complianceEntries(since: .distantPast, until: nil)
        #expect(entries.filter { $0.kind == "follow_up" }.map(\.text) == ["Does that work on 1.29?", "Yes. Which CNI do you run?"])
        #expect(entries.filter { $0.kind == "follow_up_relay" }.count == 2)
        let followUps = try await fixture.outboxMessages().compactMap { message -> FollowUpMessage? in
            if case .followUp(let followUp) = message { followUp } else { nil }
        }
        // The specialist is told (they get questions by IM); the asker asked through the API and reads it there.
        #expect(followUps.count == 1)
        #expect(followUps.first?.recipient.handle == "kube.specialist.01")
        #expect(followUps.first?.followUp.alias == "the asker")
        #expect(followUps.first?.deliveryID == delivery)
    }

    @Test func outsidersGetTheSameNotFoundAsForNothing() async throws {
        let (fixture, question, delivery) = try await answered()
        let other = try await fixture.caller("r")
        await #expect(throws: DirectoryError.questionNotFound(question)) {
            try await fixture.questions.followUp(question: question, rank: 1, text: "hello", by: other)
        }
        await #expect(throws: DirectoryError.questionNotFound("q_nothing")) {
            try await fixture.questions.followUp(question: "q_nothing", rank: 1, text: "hello", by: other)
        }
        // Not even an admin is a party to a thread.
        await #expect(throws: DirectoryError.questionNotFound(question)) {
            try await fixture.questions.followUp(question: question, rank: 1, text: "hello", by: try await fixture.caller("admin"))
        }
        await #expect(throws: DirectoryError.answerNotFound(2)) {
            try await fixture.questions.followUp(question: question, rank: 2, text: "hello", by: try await fixture.caller("deep"))
        }
        // Another specialist cannot write on someone else's delivery; one who holds the question but whose answer was
        // not relayed has no thread.
        let second = try await fixture.caller("kube.specialist.02")
        await #expect(throws: DirectoryError.deliveryNotFound(delivery)) {
            try await fixture.questions.followUp(delivery: delivery, text: "hello", by: second)
        }
        let theirs = try #require(try await fixture.questions.inbox(of: second).first).id
        await #expect(throws: DirectoryError.noThread(theirs)) {
            try await fixture.questions.followUp(delivery: theirs, text: "hello", by: second)
        }
        #expect(try await fixture.questionStore.complianceEntries(since: .distantPast, until: nil).filter { $0.kind == "follow_up" }.isEmpty)
    }

    @Test func theThreadClosesFollowUpDaysAfterTheQuestion() async throws {
        var settings = Fixture.settings
        settings.followUpDays = 2
        let (fixture, question, delivery) = try await answered(settings: settings)
        let asker = try await fixture.caller("deep")
        let specialist = try await fixture.caller("kube.specialist.01")
        fixture.clock.advance(by: 2 * 86_400 - 1)
        _ = try await fixture.questions.followUp(question: question, rank: 1, text: "Just in time", by: asker)
        fixture.clock.advance(by: 1)
        await #expect(throws: DirectoryError.threadClosed(question)) {
            try await fixture.questions.followUp(question: question, rank: 1, text: "Too late", by: asker)
        }
        await #expect(throws: DirectoryError.threadClosed(question)) {
            try await fixture.questions.followUp(delivery: delivery, text: "Too late", by: specialist)
        }
        #expect(DirectoryError.threadClosed(question).code == "thread_closed")
    }

    @Test func anOpenQuestionsThreadIsOpen() async throws {
        // Two answers wanted, one came: the question is still open and so is answer 1's thread, however long it waits.
        let (fixture, question, _) = try await answered(maxAnswers: 2)
        fixture.clock.advance(by: 20 * 60)
        let view = try await fixture.questions.question(question, by: try await fixture.caller("deep"))
        #expect(view.status == .open && view.threadOpenUntil == nil)
        _ = try await fixture.questions.followUp(question: question, rank: 1, text: "Still there?", by: try await fixture.caller("deep"))
    }

    @Test func followUpsAreLimitedInRateLengthAndContent() async throws {
        var settings = Fixture.settings
        settings.asksPerMinute = 2
        settings.maxTextLength = 50
        let (fixture, question, _) = try await answered(settings: settings)
        let asker = try await fixture.caller("deep")
        await #expect(throws: DirectoryError.invalidField("text", "must be at most 50 characters")) {
            try await fixture.questions.followUp(question: question, rank: 1, text: String(repeating: "x", count: 51), by: asker)
        }
        await #expect(throws: DirectoryError.invalidField("text", "must not be empty")) {
            try await fixture.questions.followUp(question: question, rank: 1, text: "   ", by: asker)
        }
        await #expect(throws: DirectoryError.policyViolation("private-key")) {
            try await fixture.questions.followUp(question: question, rank: 1, text: "-----BEGIN RSA PRIVATE KEY-----", by: asker)
        }
        let violations = try await fixture.questionStore.complianceEntries(since: .distantPast, until: nil).filter { $0.kind == "policy_violation" }
        #expect(violations.count == 1)
        #expect(violations.first?.text?.contains("follow_up refused by rule 'private-key'") == true)
        #expect(violations.first?.text?.contains("BEGIN") == false)

        _ = try await fixture.questions.followUp(question: question, rank: 1, text: "one", by: asker)
        _ = try await fixture.questions.followUp(question: question, rank: 1, text: "two", by: asker)
        await #expect(throws: DirectoryError.rateLimited(retryAfterSeconds: 60)) {
            try await fixture.questions.followUp(question: question, rank: 1, text: "three", by: asker)
        }
        // Per sender: the specialist still may; and the asker again a minute later.
        _ = try await fixture.questions.followUp(
            delivery: try await Self.delivery(fixture), text: "ok", by: try await fixture.caller("kube.specialist.01"))
        fixture.clock.advance(by: 60)
        _ = try await fixture.questions.followUp(question: question, rank: 1, text: "three", by: asker)
    }

    @Test func followUpDaysIsValidated() {
        var settings = QuestionSettings()
        #expect(settings.followUpDays == 7)
        settings.followUpDays = 0
        #expect(throws: DirectoryError.invalidField("followUpDays", "must be at least 1")) { try settings.validated() }
    }

    static func delivery(_ fixture: Fixture) async throws -> String {
        try #require(try await fixture.questions.inbox(of: try await fixture.caller("kube.specialist.01")).first).id
    }
}
