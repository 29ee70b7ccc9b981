import Foundation
import SkillRelayDomain
import SkillRelayLocalIM
import SkillRelayTestSupport
import Synchronization
import Testing

/// The `local` IM sends by publishing to event streams, on every instance sharing the database. The outbox marks a
/// message sent when its send returns, so the send must not return before the other instances have it: an instance
/// killed in between would otherwise leave a specialist connected elsewhere without the question, and nobody would
/// send it again.
@Suite struct LocalMessengerTests {
    static let topic = TopicReference(slug: "kubernetes", name: "Kubernetes")
    static let specialist = Recipient(handle: "kube.specialist.01", imID: nil)

    @Test func aLocalMessageIsSentOnlyOnceTheOtherInstancesHaveIt() async throws {
        let relay = FakeRelay()
        let events = QuestionEvents(relay: relay)
        let messenger = LocalMessenger(events: events)
        let inbox = CollectedEvents(events.inboxEvents(handle: Self.specialist.handle))

        let question = QuestionMessage(
            deliveryID: "d-1", recipient: Self.specialist, topic: Self.topic, text: "How do I drain a node?", maxAnswers: 1)
        #expect(try await messenger.deliverQuestion(question, key: "k-1") == nil)
        try await messenger.notifyClosed(
            ClosedMessage(deliveryID: "d-1", recipient: Self.specialist, topic: Self.topic, reason: .answered), key: "k-2")

        // Handed on before each send returned, not left to a sender in the background.
        #expect(relay.queued.all.isEmpty)
        #expect(relay.handedOn.all.map(\.name) == ["delivered d-1", "closed d-1"])
        try await inbox.events.wait(within: 60, "both on this instance's stream") { $0.count == 2 }
        #expect(inbox.events.all.map(\.name) == ["delivered d-1", "closed d-1"])
    }

    @Test func aLocalMessageTheOtherInstancesCannotHaveIsPutOffAndShownOnceWhenSentAgain() async throws {
        let relay = FakeRelay()
        let events = QuestionEvents(relay: relay)
        let messenger = LocalMessenger(events: events)
        let asker = CollectedEvents(events.askerEvents(question: "q-1"))
        func introduction(rank: Int) -> Introduction {
            Introduction(
                questionID: "q-1", rank: rank, deliveryID: "d-\(rank)", topic: Self.topic, asker: Recipient(handle: "lena.weber", imID: nil),
                askerName: "Lena Weber", specialist: Self.specialist, specialistName: "Kim Specialist")
        }

        relay.failing.withLock { $0 = true }
        let refused = await #expect(throws: DeliveryDeferred.self) { _ = try await messenger.introduce(introduction(rank: 1), key: "k-1") }
        #expect(refused?.retryAfter ?? 0 > 0)
        relay.failing.withLock { $0 = false }
        // The outbox sends it again; then a second introduction marks the end of what this stream will see.
        _ = try await messenger.introduce(introduction(rank: 1), key: "k-1")
        _ = try await messenger.introduce(introduction(rank: 2), key: "k-2")

        try await asker.events.wait(within: 60, "both introductions") { $0.count >= 2 }
        let expected = [1, 2].map { AskerEvent.introduction(rank: $0, RevealedPerson(name: "Kim Specialist", imID: nil)) }
        #expect(asker.events.all == expected)
    }

    /// A relay as the database's is, without one: `forward` leaves the event to a sender in the background (here, one
    /// that never runs), `send` hands it on before it returns, or fails while `failing`.
    final class FakeRelay: QuestionEventRelay {
        let queued = Recorded<QuestionEvent>()
        let handedOn = Recorded<QuestionEvent>()
        let failing = Mutex(false)

        struct Unreachable: Error {}

        func forward(_ event: QuestionEvent) { queued.append(event) }

        func send(_ event: QuestionEvent) async throws {
            if failing.withLock({ $0 }) { throw Unreachable() }
            handedOn.append(event)
        }

        /// Hears nobody, and these tests do not ask.
        var hasListened: Bool { true }

        /// Nothing here hands the queued events on.
        func flush(within limit: Duration) async {}

        func run(delivering deliver: @escaping @Sendable (QuestionEvent) -> Void, missed: @escaping @Sendable (MissedEvents) -> Void) async throws {
            try await Task.sleep(for: .seconds(86_400))
        }
    }
}

extension QuestionEvent {
    /// What the tests above compare: which once-only event it is.
    var name: String {
        switch self {
        case .inbox(_, .delivered(let item)): "delivered \(item.id)"
        case .inbox(_, .closed(let delivery, _)): "closed \(delivery)"
        default: "\(self)"
        }
    }
}

extension InboxEvent {
    var name: String { QuestionEvent.inbox(handle: "", self).name }
}
