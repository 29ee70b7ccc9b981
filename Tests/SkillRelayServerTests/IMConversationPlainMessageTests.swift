import Foundation
import SkillRelayDomain
import SkillRelayStore
import Testing

/// Answers typed the way people type: a specialist's plain message (no reply, no thread) in their conversation with
/// the bot, on the real stores; the test clock drives the minute `undo` has.
@Suite struct IMConversationPlainMessageTests {
    static let specialist = "@kube.specialist.01:localhost"

    func make() async throws -> (Fixture, IMConversation) {
        let fixture = try await Fixture.make()
        _ = try await fixture.addSpecialists(2)
        let state = SQLiteIMState(database: fixture.database, clock: fixture.clock)
        return (fixture, IMConversation(questions: fixture.questions, directory: fixture.store, state: state, clock: fixture.clock))
    }

    func ask(_ fixture: Fixture, _ text: String) async throws -> String {
        try await fixture.questions.ask(QuestionDraft(asker: .employee("deep"), topic: "kubernetes", text: text, maxAnswers: 1)).id
    }

    func answers(_ fixture: Fixture, _ question: String) async throws -> [String] {
        try await fixture.questions.question(question, by: try await fixture.caller("deep")).answers.map(\.text)
    }

    static let held = "Taken as your answer to the question about Kubernetes; it goes to the asker in a minute (write undo to take it back)."

    @Test func withOneOpenQuestionAPlainMessageIsItsAnswerAfterAMinute() async throws {
        let (fixture, conversation) = try await make()
        let question = try await ask(fixture, "How do I drain a node?")
        #expect(await conversation.handle(IncomingMessage(imID: Self.specialist, text: "kubectl drain, after a cordon")) == [Self.held])
        // Held: not relayed within the minute, however often the worker ticks.
        fixture.clock.advance(by: 59)
        try await fixture.questions.tick()
        #expect(try await answers(fixture, question).isEmpty)
        fixture.clock.advance(by: 1)
        try await fixture.questions.tick()
        #expect(try await answers(fixture, question) == ["kubectl drain, after a cordon"])
        // The compliance log has the message when it came and the answer when it was relayed.
        let kinds = try await fixture.questionStore.complianceEntries(since: .distantPast, until: nil).map(\.kind)
        #expect(kinds.contains("held_answer") && kinds.contains("answer") && kinds.contains("relay"))
        // Relayed to the asker's IM? They asked through the API, so only the view has it; the event stream too.
        #expect(
            await conversation.handle(IncomingMessage(imID: Self.specialist, text: "undo")) == [
                "Too late to take back: your answer about Kubernetes has gone to the asker."
            ])
    }

    @Test func aPlainPassPassesTheOneQuestionHeld() async throws {
        let (fixture, conversation) = try await make()
        let question = try await ask(fixture, "How do I drain a node?")
        #expect(await conversation.handle(IncomingMessage(imID: Self.specialist, text: "Pass")) == ["Passed; thanks for letting us know."])
        fixture.clock.advance(by: 120)
        try await fixture.questions.tick()
        #expect(try await answers(fixture, question).isEmpty)
        let inbox = try await fixture.questions.inbox(of: try await fixture.caller("kube.specialist.01"))
        #expect(inbox.first?.state == .passed)
        // With two held, it asks which.
        _ = try await ask(fixture, "How do I cordon a node?")
        _ = try await ask(fixture, "How do I taint a node?")
        #expect(
            await conversation.handle(IncomingMessage(imID: Self.specialist, text: "pass")) == [
                "You hold 2 open questions; reply pass to the one you want to pass."
            ])
    }

    @Test func undoWithinTheMinuteUnsendsIt() async throws {
        let (fixture, conversation) = try await make()
        let question = try await ask(fixture, "How do I drain a node?")
        _ = await conversation.handle(IncomingMessage(imID: Self.specialist, text: "reboot it"))
        fixture.clock.advance(by: 30)
        #expect(
            await conversation.handle(IncomingMessage(imID: Self.specialist, text: "undo")) == [
                "Taken back: your answer about Kubernetes was not sent. Write it again when you like."
            ])
        fixture.clock.advance(by: 120)
        try await fixture.questions.tick()
        #expect(try await answers(fixture, question).isEmpty)
        let entries = try await fixture.questionStore.complianceEntries(since: .distantPast, until: nil)
        #expect(entries.contains { $0.kind == "withdrawn_answer" } && !entries.contains { $0.kind == "answer" })
        // The question is still theirs to answer: the next plain message is taken again.
        #expect(await conversation.handle(IncomingMessage(imID: Self.specialist, text: "kubectl drain")) == [Self.held])
        #expect(await conversation.handle(IncomingMessage(imID: Self.specialist, text: "undo")).first?.hasPrefix("Taken back") == true)
        #expect(await conversation.handle(IncomingMessage(imID: Self.specialist, text: "undo")) == ["There is nothing to take back."])
    }

    @Test func undoAfterTheMinuteIsTooLateEvenBeforeTheWorkerRelaysIt() async throws {
        let (fixture, conversation) = try await make()
        let question = try await ask(fixture, "How do I drain a node?")
        _ = await conversation.handle(IncomingMessage(imID: Self.specialist, text: "kubectl drain"))
        fixture.clock.advance(by: 60)
        #expect(
            await conversation.handle(IncomingMessage(imID: Self.specialist, text: "undo")) == [
                "Too late to take back: your answer about Kubernetes has gone to the asker."
            ])
        try await fixture.questions.tick()
        #expect(try await answers(fixture, question) == ["kubectl drain"])
    }

    @Test func withSeveralOpenQuestionsTheBotAsksWhichAndTheNumberPicks() async throws {
        let (fixture, conversation) = try await make()
        let first = try await ask(fixture, "How do I drain a node?")
        let second = try await ask(fixture, "Why does my pod restart every few minutes with exit code 137 and nothing in the logs?")
        let which = await conversation.handle(IncomingMessage(imID: Self.specialist, text: "It runs out of memory: raise the limit."))
        #expect(
            which == [
                """
                You hold 2 open questions; which one does this answer?
                1. Kubernetes: How do I drain a node?
                2. Kubernetes: Why does my pod restart every few minutes with exit code 137…
                Reply with the number, or reply to the question itself.
                """
            ])
        #expect(await conversation.handle(IncomingMessage(imID: Self.specialist, text: "2")) == [Self.held])
        fixture.clock.advance(by: 60)
        try await fixture.questions.tick()
        #expect(try await answers(fixture, second) == ["It runs out of memory: raise the limit."])
        #expect(try await answers(fixture, first).isEmpty)
        // One open question left: the next plain message goes to it without asking.
        #expect(await conversation.handle(IncomingMessage(imID: Self.specialist, text: "kubectl drain")) == [Self.held])
    }

    @Test func aNumberOutOfRangeOrForAClosedQuestionIsNotSent() async throws {
        let (fixture, conversation) = try await make()
        let first = try await ask(fixture, "First?")
        _ = try await ask(fixture, "Second?")
        _ = await conversation.handle(IncomingMessage(imID: Self.specialist, text: "An answer"))
        #expect(
            await conversation.handle(IncomingMessage(imID: Self.specialist, text: "3")) == [
                "There is no question 3; write your answer again and I'll ask once more."
            ])
        _ = await conversation.handle(IncomingMessage(imID: Self.specialist, text: "An answer"))
        try await fixture.questions.cancel(first, by: try await fixture.caller("deep"))
        #expect(
            await conversation.handle(IncomingMessage(imID: Self.specialist, text: "1")) == [
                "That question is no longer open, so your message was not sent."
            ])
    }

    @Test func peopleWithNoOpenQuestionOrInASharedRoomStillGetTheHelpText() async throws {
        let (fixture, conversation) = try await make()
        #expect(await conversation.handle(IncomingMessage(imID: Self.specialist, text: "hello there")) == [IMConversation.help])
        _ = try await ask(fixture, "How do I drain a node?")
        #expect(await conversation.handle(IncomingMessage(imID: Self.specialist, text: "hello there", isPrivate: false)) == [IMConversation.help])
        // A number with no choice waiting is a plain message like any other.
        #expect(await conversation.handle(IncomingMessage(imID: "@m:localhost", text: "2")) == [IMConversation.help])
    }

    @Test func aPlainMessageBreakingTheContentPolicyIsRefusedAtOnce() async throws {
        let (fixture, conversation) = try await make()
        _ = try await ask(fixture, "What is the test card?")
        let reply = await conversation.handle(IncomingMessage(imID: Self.specialist, text: "Use 4111 1111 1111 1111"))
        #expect(reply.first?.contains("Taken as your answer") == false)
        let entries = try await fixture.questionStore.complianceEntries(since: .distantPast, until: nil)
        #expect(entries.contains { $0.kind == "policy_violation" } && !entries.contains { $0.kind == "held_answer" })
    }

    @Test func aMessageInTheQuestionsThreadIsAnAnswerToIt() async throws {
        let (fixture, conversation) = try await make()
        let question = try await ask(fixture, "How do I drain a node?")
        let delivery = try #require(try await fixture.questions.inbox(of: try await fixture.caller("kube.specialist.01")).first)
        try await fixture.questionStore.markOutboxSent([], references: [delivery.id: "$question-event"], now: fixture.clock.now())
        // Element's "reply in thread" after the first: the thread is the question, the reply fallback something else.
        let replies = await conversation.handle(
            IncomingMessage(imID: Self.specialist, text: "kubectl drain", inReplyTo: "$my-earlier-message", thread: "$question-event"))
        #expect(replies == ["Thanks! Your answer was relayed to the asker (answer 1)."])
        #expect(try await answers(fixture, question) == ["kubectl drain"])
    }
}
