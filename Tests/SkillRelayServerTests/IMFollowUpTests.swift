import Foundation
import SkillRelayDomain
import SkillRelayStore
import Testing

/// Follow-ups in the IM conversation: replies to the relayed answer, to a follow-up or to the question continue the
/// answer's thread; an asker's plain message does while one question has open threads.
@Suite struct IMFollowUpTests {
    /// `deep` asks through the IM (three answers wanted, so it stays open); `kube.specialist.01` answers (answer 1), as
    /// a reply to the question's message.
    func answeredInTheIM() async throws -> (Fixture, IMConversation, question: String) {
        let fixture = try await Fixture.make()
        _ = try await fixture.addSpecialists(2)
        let state = SQLiteIMState(database: fixture.database, clock: fixture.clock)
        let conversation = IMConversation(questions: fixture.questions, directory: fixture.store, state: state, clock: fixture.clock)
        _ = await conversation.handle(IncomingMessage(imID: "@deep:localhost", text: "ask k8s: How do I drain a node?"))
        for (index, handle) in ["kube.specialist.01", "kube.specialist.02"].enumerated() {
            let delivery = try #require(try await fixture.questions.inbox(of: try await fixture.caller(handle)).first)
            try await fixture.questionStore.markOutboxSent([], references: [delivery.id: "$question-\(index + 1)"], now: fixture.clock.now())
        }
        let answered = await conversation.handle(
            IncomingMessage(imID: "@kube.specialist.01:localhost", text: "kubectl drain", inReplyTo: "$question-1"))
        #expect(answered == ["Thanks! Your answer was relayed to the asker (answer 1)."])
        let question = try #require(try await fixture.questions.askedQuestions(by: try await fixture.caller("deep")).first).id
        // What the outbox keeps when the IM returns the relayed answer's reference.
        let key = ThreadReferenceKey(questionID: question, rank: 1, side: .asker).text
        try await fixture.questionStore.markOutboxSent([], references: [key: "$answer-1"], now: fixture.clock.now())
        return (fixture, conversation, question)
    }

    func followUpMessages(_ fixture: Fixture) async throws -> [FollowUpMessage] {
        try await fixture.outboxMessages().compactMap { if case .followUp(let message) = $0 { message } else { nil } }
    }

    @Test func repliesGoBackAndForthOnTheAnswersThread() async throws {
        let (fixture, conversation, question) = try await answeredInTheIM()
        // The asker replies to the relayed answer: the specialist gets it as a reply to their question's message.
        let asked = await conversation.handle(IncomingMessage(imID: "@deep:localhost", text: "And on 1.29?", inReplyTo: "$answer-1"))
        #expect(asked == ["Sent to the specialist of answer 1; their reply will come here."])
        let toSpecialist = try #require(try await followUpMessages(fixture).last)
        #expect(toSpecialist.recipient.imID == "@kube.specialist.01:localhost")
        #expect(toSpecialist.replyTo == "$question-1")
        #expect(IMConversation.followUpText(toSpecialist).hasPrefix("Follow-up from the asker about Kubernetes:\n\nAnd on 1.29?"))
        try await fixture.questionStore.markOutboxSent(
            [], references: [ThreadReferenceKey(questionID: question, rank: 1, side: .specialist).text: "$follow-up-1"], now: fixture.clock.now())

        // The specialist replies to that follow-up (a Matrix thread reply names the thread's root as well).
        let back = await conversation.handle(
            IncomingMessage(imID: "@kube.specialist.01:localhost", text: "Yes, same flags.", inReplyTo: "$follow-up-1", thread: "$question-1"))
        #expect(back == ["Sent to the asker; who you are stays private."])
        let toAsker = try #require(try await followUpMessages(fixture).last)
        #expect(toAsker.recipient.imID == "@deep:localhost")
        #expect(toAsker.replyTo == "$answer-1")
        #expect(toAsker.deliveryID == nil)
        let alias = try #require(try await fixture.questions.question(question, by: try await fixture.caller("deep")).answers.first).alias
        #expect(IMConversation.followUpText(toAsker).hasPrefix("Follow-up from \(alias) on answer 1 about Kubernetes:\n\nYes, same flags."))

        // A reply to the question's own message, once the answer was relayed, is a follow-up too, not a second answer.
        let again = await conversation.handle(
            IncomingMessage(imID: "@kube.specialist.01:localhost", text: "One more thing", inReplyTo: "$question-1"))
        #expect(again == ["Sent to the asker; who you are stays private."])
        // "pass" on the question stays the command, refused since the answer is in.
        let passed = await conversation.handle(IncomingMessage(imID: "@kube.specialist.01:localhost", text: "pass", inReplyTo: "$question-1"))
        #expect(passed == [DirectoryError.deliveryAlreadyAnswered.message])
        // Someone else replying to the asker's answer message learns nothing.
        let stranger = await conversation.handle(IncomingMessage(imID: "@r:localhost", text: "hi", inReplyTo: "$answer-1"))
        #expect(stranger == [DirectoryError.questionNotFound(question).message])
        let view = try await fixture.questions.question(question, by: try await fixture.caller("deep"))
        #expect(view.followUps.map(\.text) == ["And on 1.29?", "Yes, same flags.", "One more thing"])
    }

    @Test func anAskersPlainMessageFollowsUpOnTheirOnlyAnswer() async throws {
        let (fixture, conversation, question) = try await answeredInTheIM()
        let sent = await conversation.handle(IncomingMessage(imID: "@deep:localhost", text: "thanks, that worked"))
        #expect(sent == ["Sent to the specialist of answer 1; their reply will come here."])
        let view = try await fixture.questions.question(question, by: try await fixture.caller("deep"))
        #expect(view.followUps.map(\.text) == ["thanks, that worked"])
        // Commands stay commands, and someone with no open thread gets the help text.
        #expect(await conversation.handle(IncomingMessage(imID: "@r:localhost", text: "hello there")) == [IMConversation.help])
        // Once the question expired and its thread's time passed, the plain message is no follow-up any more.
        fixture.clock.advance(by: 1800)
        try await fixture.questions.tick()
        #expect(try await fixture.questions.question(question, by: try await fixture.caller("deep")).status == .expired)
        fixture.clock.advance(by: 7 * 86_400)
        #expect(await conversation.handle(IncomingMessage(imID: "@deep:localhost", text: "hello again")) == [IMConversation.help])
    }

    @Test func withSeveralAnswersThePlainMessageAsksWhichOne() async throws {
        let (fixture, conversation, question) = try await answeredInTheIM()
        let answered = await conversation.handle(
            IncomingMessage(imID: "@kube.specialist.02:localhost", text: "cordon first", inReplyTo: "$question-2"))
        #expect(answered == ["Thanks! Your answer was relayed to the asker (answer 2)."])
        let which = await conversation.handle(IncomingMessage(imID: "@deep:localhost", text: "thanks"))
        // Aliases are the specialists' numbers within the question, whichever the wave made them.
        let aliases = try await fixture.questions.question(question, by: try await fixture.caller("deep")).answers.map(\.alias)
        #expect(
            which == [
                "Your question about Kubernetes has several answers: answer 1 (\(aliases[0])), answer 2 (\(aliases[1])). Reply to the "
                    + "answer you mean, or write answer <n>: <your message>."
            ])
        let named = await conversation.handle(IncomingMessage(imID: "@deep:localhost", text: "answer 2: why cordon first?"))
        #expect(named == ["Sent to the specialist of answer 2; their reply will come here."])
        let view = try await fixture.questions.question(question, by: try await fixture.caller("deep"))
        #expect(view.followUps.map(\.rank) == [2])
        #expect(view.followUps.map(\.text) == ["why cordon first?"])
    }
}
