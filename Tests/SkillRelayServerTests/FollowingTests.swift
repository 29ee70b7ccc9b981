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
        let (hub, fixture, handles, elsewhere, elsewhereEvents, running) = try await Self.twoInstances(
            settings: QuestionFlowTests.settings(waveSize: 2, maxWaves: 3), specialists: 4)

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

    /// An instance killed between recording a follow-up or a reveal offer and notifying the others takes the
    /// notifications with it. A specialist's inbox stream on another instance reads the inbox again once that instance
    /// is seen gone without a farewell, and shows what it missed, once: nothing the specialist saw before the stream
    /// began, nothing it showed live, and nothing again when a late notification comes after all.
    @Test func aSpecialistsStreamShowsWhatAKilledInstanceRecordedAndNeverTold() async throws {
        let (hub, fixture, handles, elsewhere, _, running) = try await Self.twoInstances(
            settings: QuestionFlowTests.settings(waveSize: 1, maxWaves: 1), specialists: 1)
        let handle = try #require(handles.first)

        let asked = try await fixture.questions.ask(
            QuestionDraft(asker: .employee("boss"), topic: "k8s", text: "How do I drain a node safely?", maxAnswers: 1))
        let boss = try await fixture.caller("boss")
        try await answerOne(through: fixture.questions, fixture: fixture, handles: [handle], text: "Cordon it first.")
        // Times a store keeps only to the millisecond (SQLite) or microsecond (PostgreSQL).
        fixture.clock.advance(by: 0.000_456_7)
        let seenBefore = try await fixture.questions.followUp(question: asked.id, rank: 1, text: "Which version?", by: boss)
        let specialist = try await fixture.caller(handle)
        let delivery = try #require(try await fixture.questions.inbox(of: specialist).first).id
        let live = CollectedEvents(try await fixture.questions.followInbox(of: specialist))

        fixture.clock.advance(by: 60.000_123_4)
        let heardLive = try await elsewhere.followUp(question: asked.id, rank: 1, text: "1.29, if it matters.", by: boss)
        try await live.events.wait(within: Self.deadline, "the follow-up heard live") { !$0.isEmpty }

        // The other instance records a follow-up and a reveal offer, and dies before telling anyone.
        hub.silence("elsewhere")
        fixture.clock.advance(by: 60.000_987_6)
        let neverTold = try await elsewhere.followUp(question: asked.id, rank: 1, text: "Thanks, that worked.", by: boss)
        _ = try await elsewhere.reveal(.offer, question: asked.id, rank: 1, by: boss)
        let inbox = try #require(try await fixture.questions.inbox(of: specialist).first)
        let offered = try #require(inbox.reveal)
        #expect(offered.state != RevealView.none.state)
        #expect(live.events.all.count == 1)

        hub.stopped("elsewhere")
        try await live.events.wait(within: Self.deadline, "what the killed instance never told") { $0.count == 3 }
        // Told late after all (as a notification that did go out would be), to the clock's precision: not shown again.
        let neverToldLive = FollowUp(rank: 1, from: .asker, alias: "the asker", text: neverTold.text, sentAt: neverTold.sentAt)
        let closing = InboxEvent.closed(deliveryID: "d-elsewhere", reason: .expired)
        for event in [InboxEvent.followUp(deliveryID: delivery, neverToldLive), .reveal(deliveryID: delivery, rank: 1, offered), closing] {
            fixture.questions.eventStreams.publish(event, handle: handle)
        }
        try await live.events.wait(within: Self.deadline, "a later event") { $0.count >= 4 }
        #expect(
            live.events.all.map(Self.summary) == [
                "follow-up from the asker: \(heardLive.text)", "reveal \(offered.state)", "follow-up from the asker: \(neverTold.text)",
                "closed d-elsewhere",
            ])
        #expect(!live.events.all.map(Self.summary).contains("follow-up from the asker: \(seenBefore.text)"))
        for task in running { task.cancel() }
    }

    /// Two instances on one database, both relays running: the fixture's service ("here", with `specialists` tagged)
    /// and another ("elsewhere") with live events of its own.
    private static func twoInstances(settings: QuestionSettings, specialists: Int) async throws -> (
        hub: InProcessRelayHub, fixture: Fixture, handles: [String], elsewhere: QuestionService, elsewhereEvents: QuestionEvents,
        running: [Task<Void, any Error>]
    ) {
        let hub = InProcessRelayHub()
        let fixture = try await Fixture.make(settings: settings, relay: hub.relay(named: "here"))
        let handles = try await fixture.addSpecialists(specialists).keys.sorted()
        let elsewhereEvents = QuestionEvents(relay: hub.relay(named: "elsewhere"))
        let elsewhere = try QuestionService(
            store: fixture.questionStore, presence: LocalPresenceSource(store: fixture.questionStore), settings: settings, clock: fixture.clock,
            events: elsewhereEvents)
        let running = [Task { try await fixture.questions.eventStreams.relayEvents() }, Task { try await elsewhereEvents.relayEvents() }]
        try await hub.connected.wait(within: deadline, "both relays running") { $0.count == 2 }
        return (hub, fixture, handles, elsewhere, elsewhereEvents, running)
    }

    /// An inbox event in a few words: which kind, and for a follow-up its sender and text (its time is as precise as
    /// wherever it was read from).
    private static func summary(_ event: InboxEvent) -> String {
        switch event {
        case .followUp(_, let followUp): "follow-up from \(followUp.alias): \(followUp.text)"
        case .reveal(_, _, let view): "reveal \(view.state)"
        case .closed(let delivery, _): "closed \(delivery)"
        case .delivered(let item): "delivered \(item.id)"
        case .introduction(let delivery, _): "introduction \(delivery)"
        }
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
