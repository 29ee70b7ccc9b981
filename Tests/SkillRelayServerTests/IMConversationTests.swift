import Foundation
import SkillRelayDomain
import SkillRelayStore
import Testing

/// The IM conversation (what Matrix users write to the bot), on the real stores and the local IM's presence.
@Suite struct IMConversationTests {
    func make() async throws -> (Fixture, IMConversation, SQLiteIMState) {
        let fixture = try await Fixture.make()
        _ = try await fixture.addSpecialists(2)
        let state = SQLiteIMState(database: fixture.database, clock: fixture.clock)
        let conversation = IMConversation(questions: fixture.questions, directory: fixture.store, state: state, clock: fixture.clock)
        return (fixture, conversation, state)
    }

    @Test func strangersAndInactiveEmployeesGetOnePoliteRefusalAndNothingElse() async throws {
        let (fixture, conversation, _) = try await make()
        #expect(
            await conversation.handle(IncomingMessage(imID: "@mallory:evil.example", text: "ask k8s: who works here?")) == [IMConversation.refusal])
        _ = try await fixture.store.updateEmployee("pr", with: EmployeePatch(isActive: false), by: .cliOperator)
        #expect(await conversation.handle(IncomingMessage(imID: "@pr:localhost", text: "ask k8s: anything")) == [IMConversation.refusal])
        let questions = try await fixture.questionStore.complianceEntries(since: .distantPast, until: nil).filter { $0.kind == "question" }
        #expect(questions.isEmpty)
    }

    @Test func askingFromTheIMCreatesAQuestionWhoseAnswersGoBackThere() async throws {
        let (fixture, conversation, _) = try await make()
        let replies = await conversation.handle(IncomingMessage(imID: "@deep:localhost", text: "ask k8s: How do I drain a node?"))
        #expect(replies == ["Asked 2 specialists in Kubernetes; answers will come here."])
        // The question was sent to both specialists' IM; reply to one of those messages as the specialist would.
        let delivery = try #require(try await fixture.questions.inbox(of: try await fixture.caller("kube.specialist.01")).first)
        // What the outbox keeps when the IM returns the message's reference.
        try await fixture.questionStore.markOutboxSent([], references: [delivery.id: "$question-event"], now: fixture.clock.now())
        let answered = await conversation.handle(
            IncomingMessage(imID: "@kube.specialist.01:localhost", text: "kubectl drain", inReplyTo: "$question-event"))
        #expect(answered == ["Thanks! Your answer was relayed to the asker (answer 1)."])
        let outbox = try await fixture.outboxMessages()
        #expect(
            outbox.contains {
                if case .answer(let message) = $0 { message.asker.imID == "@deep:localhost" && message.answer.text == "kubectl drain" } else { false }
            })
    }

    @Test func aReplyPassOrALateAnswerIsAcknowledged() async throws {
        let (fixture, conversation, _) = try await make()
        _ = try await fixture.questions.ask(QuestionDraft(asker: .employee("deep"), topic: "kubernetes", text: "One answer please", maxAnswers: 1))
        for (index, handle) in ["kube.specialist.01", "kube.specialist.02"].enumerated() {
            let delivery = try #require(try await fixture.questions.inbox(of: try await fixture.caller(handle)).first)
            try await fixture.questionStore.markOutboxSent([], references: [delivery.id: "$event-\(index)"], now: fixture.clock.now())
        }
        #expect(
            await conversation.handle(IncomingMessage(imID: "@kube.specialist.01:localhost", text: "first", inReplyTo: "$event-0")) == [
                "Thanks! Your answer was relayed to the asker (answer 1)."
            ])
        #expect(
            await conversation.handle(IncomingMessage(imID: "@kube.specialist.02:localhost", text: "late", inReplyTo: "$event-1")) == [
                "Thanks, it was already answered; your answer is kept but not relayed."
            ])
    }

    @Test func pauseResumeTagAndHelpDoWhatTheySay() async throws {
        let (fixture, conversation, _) = try await make()
        let paused = await conversation.handle(IncomingMessage(imID: "@kube.specialist.01:localhost", text: "pause 2h"))
        #expect(paused.first?.hasPrefix("Paused: no questions until") == true)
        // Paused for exactly two hours: no candidate until then, one again after.
        func isCandidate(at time: Date) async throws -> Bool {
            try await fixture.questionStore.candidates(CandidateQuery(topic: "kubernetes"), now: time).contains { $0.handle == "kube.specialist.01" }
        }
        #expect(try await !isCandidate(at: fixture.clock.now()))
        #expect(try await !isCandidate(at: fixture.clock.now().addingTimeInterval(7199)))
        #expect(try await isCandidate(at: fixture.clock.now().addingTimeInterval(7200)))
        #expect(
            await conversation.handle(IncomingMessage(imID: "@kube.specialist.01:localhost", text: "resume")) == [
                "Welcome back: you will get questions again."
            ])
        #expect(try await isCandidate(at: fixture.clock.now()))
        #expect(
            await conversation.handle(IncomingMessage(imID: "@m:localhost", text: "tag r terraform 4")) == ["Tagged r with Terraform at level 4."])
        #expect(
            await conversation.handle(IncomingMessage(imID: "@m:localhost", text: "tag p terraform 4")) == [
                "Managers tag the skills of people below them, never their own, their peers' or their superiors'."
            ])
        #expect(
            await conversation.handle(IncomingMessage(imID: "@m:localhost", text: "tag r terraform 9")).first?.hasPrefix("Level 9 is out of range")
                == true)
        #expect(await conversation.handle(IncomingMessage(imID: "@m:localhost", text: "untag r terraform")) == ["Removed terraform from r."])
        #expect(
            await conversation.handle(IncomingMessage(imID: "@m:localhost", text: "pause forever")) == [
                "Say how long, e.g. pause 2h, pause 30m or pause 1d."
            ])
        #expect(await conversation.handle(IncomingMessage(imID: "@m:localhost", text: "hello there")) == [IMConversation.help])
    }

    @Test func loginSendsAOneTimeLinkOnlyInTheSendersOwnRoom() async throws {
        let (fixture, _, state) = try await make()
        let links = LoginLinks(service: fixture.web.signIn, baseURL: "https://relay.example.org/")
        let conversation = IMConversation(
            questions: fixture.questions, directory: fixture.store, state: state, clock: fixture.clock, loginLinks: links)
        let shared = await conversation.handle(IncomingMessage(imID: "@r:localhost", text: "login", isPrivate: false))
        #expect(shared.count == 1 && !shared[0].contains("token="))
        let replies = await conversation.handle(IncomingMessage(imID: "@r:localhost", text: "login"))
        let reply = try #require(replies.first)
        let url = try #require(reply.split(separator: "\n").last.map(String.init))
        #expect(url.hasPrefix("https://relay.example.org/login?token=sl_"))
        let secret = String(url.dropFirst("https://relay.example.org/login?token=".count))
        #expect(try await fixture.web.signIn.redeem(secret: secret)?.caller.handle == "r")
        #expect(try await fixture.web.signIn.redeem(secret: secret) == nil)
        // Without a web page configured, the bot says so.
        let plain = IMConversation(questions: fixture.questions, directory: fixture.store, state: state, clock: fixture.clock)
        #expect(await plain.handle(IncomingMessage(imID: "@r:localhost", text: "login")) == ["The web page is not set up on this SkillRelay."])
    }
}
