import Foundation
import SkillRelayDomain
import SkillRelayLocalIM
import SkillRelayStore
import SkillRelayTestSupport
import Testing

/// An asker follows a question on one instance while another instance, on the same database, moves it on. Where this
/// instance's relay could not hear the other for a while, what its live events missed is read from the store once it
/// hears it again, and shown once.
@Suite struct FollowingTests {
    static let deadline = 60.0

    @Test func anAskersStreamShowsWhatItMissedOnceItsRelayHearsTheOtherInstanceAgain() async throws {
        let settings = QuestionFlowTests.settings(waveSize: 2, maxWaves: 3)
        let hub = InProcessRelayHub()
        let fixture = try await Fixture.make(settings: settings, relay: hub.relay(named: "here"))
        let handles = try await fixture.addSpecialists(4).keys.sorted()
        // The other instance: the same database, live events of its own.
        let elsewhereEvents = QuestionEvents(relay: hub.relay(named: "elsewhere"))
        let elsewhere = try QuestionService(
            store: fixture.questionStore, presence: LocalPresenceSource(store: fixture.questionStore), settings: settings, clock: fixture.clock,
            events: elsewhereEvents)
        let running = [Task { try await fixture.questions.eventStreams.relayEvents() }, Task { try await elsewhereEvents.relayEvents() }]
        try await hub.connected.wait(within: Self.deadline, "both relays running") { $0.count == 2 }

        let asked = try await fixture.questions.ask(
            QuestionDraft(asker: .employee("boss"), topic: "k8s", text: "How do I drain a node safely?", maxAnswers: 2))
        let boss = try await fixture.caller("boss")
        let following = try await fixture.questions.follow(question: asked.id, by: boss)
        #expect(following.past.isEmpty)
        #expect(following.endsWhenClosed)
        let live = CollectedEvents(try #require(following.live))

        // This instance cannot hear the other while, there, one specialist answers, a second wave goes out, and a
        // second specialist answers, which closes the question.
        hub.cutOff("here")
        try await answerOne(through: elsewhere, fixture: fixture, handles: handles, text: "Cordon it first.")
        fixture.clock.advance(by: 120)
        try await elsewhere.tick()
        try await answerOne(through: elsewhere, fixture: fixture, handles: handles, text: "Then drain it.")
        let view = try await fixture.questions.question(asked.id, by: boss)
        #expect(view.status == .answered)
        #expect(view.waves == 2)
        #expect(live.events.all.isEmpty)

        hub.hearAgain("here")
        // Heard live after the catch-up: the closing again (already shown, so not again), then an introduction.
        let person = RevealedPerson(name: "Kim Specialist", imID: "@kim:localhost")
        elsewhereEvents.publish(.closed(.answered), question: asked.id)
        elsewhereEvents.publish(.introduction(rank: 1, person), question: asked.id)
        try await live.events.wait(within: Self.deadline, "what was missed, then the introduction") {
            $0.contains { if case .introduction = $0 { true } else { false } }
        }
        #expect(
            live.events.all == [
                .wave(number: 2, deliveredTo: view.deliveredTo), .answer(view.answers[0]), .answer(view.answers[1]), .closed(.answered),
                .introduction(rank: 1, person),
            ])
        for task in running { task.cancel() }
    }

    /// A specialist holding the question answers it through `service`.
    private func answerOne(through service: QuestionService, fixture: Fixture, handles: [String], text: String) async throws {
        for handle in handles {
            let caller = try await fixture.caller(handle)
            guard let held = try await service.inbox(of: caller).first(where: { $0.state == .pending }) else { continue }
            _ = try await service.answer(delivery: held.id, text: text, by: caller)
            return
        }
        Issue.record("nobody holds the question")
    }
}
