import Foundation
import SkillRelayDomain
import SkillRelayTestSupport
import Synchronization
import Testing

/// The single-instance side of the ports several instances share: a lead that is always this instance's, live events
/// in process, and how a relay plugs into them.
@Suite struct SingleInstanceTests {
    @Test func aSoleInstanceLeadsAtOnceAndHandsBackWhatItsWorkThrows() async throws {
        let ran = Mutex(0)
        try await SoleInstance().whileLeading("the test's work") { ran.withLock { $0 += 1 } }
        #expect(ran.withLock { $0 } == 1)
        await #expect(throws: TimedOut.self) {
            try await SoleInstance().whileLeading("the test's work") { throw TimedOut(what: "the work") }
        }
    }

    @Test func withoutARelayEachLocalStreamGetsEachEventOnce() async throws {
        let events = QuestionEvents()
        // Nothing to relay: returns at once rather than running forever.
        try await events.relayEvents()
        var asker = events.askerEvents(question: "q-1").makeAsyncIterator()
        var inbox = events.inboxEvents(handle: "kube.specialist.01").makeAsyncIterator()
        events.publish(.wave(number: 1, deliveredTo: 2), question: "q-1")
        events.publish(.wave(number: 1, deliveredTo: 9), question: "q-other")
        events.publish(.closed(.answered), question: "q-1")
        events.publish(.closed(deliveryID: "d-1", reason: .expired), handle: "kube.specialist.01")
        events.finishAll()
        #expect(await asker.next() == .wave(number: 1, deliveredTo: 2))
        #expect(await asker.next() == .closed(.answered))
        #expect(await asker.next() == nil)
        #expect(await inbox.next() == .closed(deliveryID: "d-1", reason: .expired))
        #expect(await inbox.next() == nil)
    }

    /// Several instances send the outbox at least once: one that dies between sending a message and marking it leaves
    /// it to another, which sends it again once the lease is over. A specialist's stream shows what happens once to a
    /// delivery (it arrives, it closes) once, whichever instance it comes from; a reveal state shows each time it
    /// changes.
    @Test func aDeliverySentAgainByAnotherInstanceShowsOnceInTheInbox() async throws {
        let (_, dead, survivor, running) = try await Self.twoInstances("dead", "survivor")
        let inbox = CollectedEvents(survivor.inboxEvents(handle: "kube.specialist.01"))
        let item = InboxItem(
            id: "d-1", topic: TopicReference(slug: "k8s", name: "Kubernetes"), text: "How do I drain a node?", state: .pending,
            questionStatus: .open, deliveredAt: Date(timeIntervalSince1970: 1_800_000_000))
        let offered = InboxEvent.reveal(deliveryID: "d-1", rank: 1, RevealView(state: .offered))

        dead.publish(.delivered(item), handle: "kube.specialist.01")
        dead.publish(.closed(deliveryID: "d-1", reason: .expired), handle: "kube.specialist.01")
        try await inbox.events.wait(within: 60, "the delivery and its closing from the other instance") { $0.count == 2 }
        // The survivor sends both again; then a reveal state twice, taken back, and offered again.
        let withdrawn = InboxEvent.reveal(deliveryID: "d-1", rank: 1, .none)
        for event in [InboxEvent.delivered(item), .closed(deliveryID: "d-1", reason: .expired), offered, offered, withdrawn, offered] {
            survivor.publish(event, handle: "kube.specialist.01")
        }
        try await inbox.events.wait(within: 60, "five events") { $0.count >= 5 }
        #expect(inbox.events.all == [.delivered(item), .closed(deliveryID: "d-1", reason: .expired), offered, withdrawn, offered])
        for task in running { task.cancel() }
    }

    @Test func withARelayEventsReachTheOtherInstanceOnceAndAreNotHandedBack() async throws {
        let (hub, here, there, running) = try await Self.twoInstances("here", "there")
        let local = CollectedEvents(here.askerEvents(question: "q-1"))
        let remote = CollectedEvents(there.askerEvents(question: "q-1"))
        let remoteInbox = CollectedEvents(there.inboxEvents(handle: "kube.specialist.01"))

        here.publish(.wave(number: 1, deliveredTo: 2), question: "q-1")
        here.publish(.reveal(deliveryID: "d-1", rank: 1, RevealView(state: .offered)), handle: "kube.specialist.01")
        here.publish(.closed(.answered), question: "q-1")

        try await local.events.wait(within: 60, "the local events") { $0.count == 2 }
        try await remote.events.wait(within: 60, "the relayed events") { $0.count == 2 }
        try await remoteInbox.events.wait(within: 60, "the relayed inbox event") { $0.count == 1 }
        #expect(local.events.all == [.wave(number: 1, deliveredTo: 2), .closed(.answered)])
        #expect(remote.events.all == [.wave(number: 1, deliveredTo: 2), .closed(.answered)])
        #expect(remoteInbox.events.all == [.reveal(deliveryID: "d-1", rank: 1, RevealView(state: .offered))])
        // Everything went to the hub once, from the instance that published it.
        #expect(hub.forwarded.all.map(\.from) == ["here", "here", "here"])
        for task in running { task.cancel() }
    }

    /// A relay that could not hear the other instances for a while says so once it hears them again: every stream on
    /// its instance is told it may have missed events. A plain asker stream goes on; an inbox stream ends, so that its
    /// follower reads the inbox again rather than trust a stream with a hole in it.
    @Test func streamsAreToldWhenTheirRelayMayHaveMissedEventsAndAnInboxStreamEnds() async throws {
        let (hub, here, there, running) = try await Self.twoInstances("here", "there")
        let updates = CollectedEvents(there.askerUpdates(question: "q-1"))
        let otherQuestion = CollectedEvents(there.askerUpdates(question: "q-2"))
        let plain = CollectedEvents(there.askerEvents(question: "q-1"))
        let inbox = CollectedEvents(there.inboxEvents(handle: "kube.specialist.01"))

        hub.cutOff("there")
        here.publish(.wave(number: 2, deliveredTo: 5), question: "q-1")
        hub.hearAgain("there")
        here.publish(.closed(.expired), question: "q-1")

        try await updates.events.wait(within: 60, "word of a gap, then the closing") { $0.count == 2 }
        #expect(updates.events.all == [.mayHaveMissed(.all), .event(.closed(.expired))])
        // Every stream is told, whatever its question.
        try await otherQuestion.events.wait(within: 60, "word of a gap on another question's stream") { $0.count == 1 }
        #expect(otherQuestion.events.all == [.mayHaveMissed(.all)])
        try await plain.events.wait(within: 60, "the closing") { $0.count == 1 }
        #expect(plain.events.all == [.closed(.expired)])
        try await inbox.ended.wait(within: 60, "the inbox stream ending") { !$0.isEmpty }
        #expect(inbox.events.all.isEmpty)
        for task in running { task.cancel() }
    }

    /// When another instance stopped, which may have died before telling the others what it published, asker streams
    /// are told they may have missed events; inbox streams go on, since what they show is sent again by another
    /// instance when the one that stopped had not told the others.
    @Test func whenAnotherInstanceStopsAskerStreamsAreToldAndInboxStreamsGoOn() async throws {
        let (hub, here, there, running) = try await Self.twoInstances("here", "there")
        let updates = CollectedEvents(there.askerUpdates(question: "q-1"))
        let inbox = CollectedEvents(there.inboxEvents(handle: "kube.specialist.01"))

        hub.stopped("here")
        try await updates.events.wait(within: 60, "word of a gap") { $0.count == 1 }
        #expect(updates.events.all == [.mayHaveMissed(.publishedByStoppedInstance)])
        here.publish(.closed(deliveryID: "d-1", reason: .expired), handle: "kube.specialist.01")
        try await inbox.events.wait(within: 60, "the closing, on the stream still open") { $0.count == 1 }
        #expect(inbox.events.all == [.closed(deliveryID: "d-1", reason: .expired)])
        #expect(inbox.ended.all.isEmpty)
        for task in running { task.cancel() }
    }

    /// An inbox stream that reads the inbox (where other instances publish too) fails with the first read, before it
    /// shows anything; one that cannot read the inbox again when another instance stopped ends, so that its follower
    /// reads the inbox again when it reconnects.
    @Test func anInboxStreamThatCannotReadTheInboxFailsAtOnceOrEnds() async throws {
        let (hub, _, there, running) = try await Self.twoInstances("here", "there")
        await #expect(throws: TimedOut.self) {
            _ = try await there.inboxEvents(handle: "kube.specialist.01", readingInbox: { throw TimedOut(what: "the inbox") })
        }
        let reads = Mutex(0)
        let inbox = CollectedEvents(
            try await there.inboxEvents(
                handle: "kube.specialist.01",
                readingInbox: {
                    let count = reads.withLock { count in
                        count += 1
                        return count
                    }
                    if count > 1 { throw TimedOut(what: "the inbox, again") }
                    return []
                }))
        hub.stopped("here")
        try await inbox.ended.wait(within: 60, "the inbox stream ending") { !$0.isEmpty }
        #expect(inbox.events.all.isEmpty)
        #expect(reads.withLock { $0 } == 2)
        for task in running { task.cancel() }
    }

    /// Two instances' live events joined by an in-process hub, both relays running.
    static func twoInstances(_ first: String, _ second: String) async throws -> (
        hub: InProcessRelayHub, first: QuestionEvents, second: QuestionEvents, running: [Task<Void, any Error>]
    ) {
        let hub = InProcessRelayHub()
        let events = [first, second].map { QuestionEvents(relay: hub.relay(named: $0)) }
        let running = events.map { events in Task { try await events.relayEvents() } }
        try await hub.connected.wait(within: 60, "both relays running") { $0.count == 2 }
        return (hub, events[0], events[1], running)
    }

    @Test func everyLiveEventSurvivesTheTripToAnotherInstance() throws {
        let when = Date(timeIntervalSince1970: 1_800_000_000.125)
        let answer = RelayedAnswer(
            rank: 2, alias: "specialist 2", label: AnswererLabel(topic: "kubernetes", level: nil, band: nil), text: "Cordon, then drain.",
            receivedAt: when, helpful: true)
        let followUp = FollowUp(rank: 2, from: .specialist, alias: "specialist 2", text: "Did that help?", sentAt: when)
        let person = RevealedPerson(name: "Kim Specialist", imID: "@kim:example.org")
        var item = InboxItem(
            id: "d-1", topic: TopicReference(slug: "kubernetes", name: "Kubernetes"), text: "How?", state: .answered, questionStatus: .answered,
            deliveredAt: when, rank: 2, reveal: RevealView(state: .revealed, other: person))
        item.followUps = [followUp]
        let events: [QuestionEvent] = [
            .asker(question: "q-1", .wave(number: 2, deliveredTo: 4)), .asker(question: "q-1", .answer(answer)),
            .asker(question: "q-1", .closed(.cancelled)), .asker(question: "q-1", .reveal(rank: 2, RevealView(state: .revealed, other: person))),
            .asker(question: "q-1", .introduction(rank: 2, person)), .asker(question: "q-1", .followUp(followUp)),
            .inbox(handle: "kim", .delivered(item)), .inbox(handle: "kim", .closed(deliveryID: "d-1", reason: .expired)),
            .inbox(handle: "kim", .reveal(deliveryID: "d-1", rank: 2, RevealView(state: .declined))),
            .inbox(handle: "kim", .introduction(deliveryID: "d-1", person)), .inbox(handle: "kim", .followUp(deliveryID: "d-1", followUp)),
        ]
        for event in events {
            #expect(try JSONDecoder().decode(QuestionEvent.self, from: JSONEncoder().encode(event)) == event)
        }
    }
}
