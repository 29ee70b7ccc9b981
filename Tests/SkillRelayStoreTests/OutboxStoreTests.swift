import Foundation
import SkillRelayDomain
import SkillRelayTestSupport
import Testing

/// The outbox as every store keeps it (the conformance suite): queueing order, a failed or put-off message holding back
/// its own destination's later messages and nobody else's, a message given up logged, the next due time.
@Suite struct OutboxStoreTests {
    static func question(_ delivery: String, to handle: String) -> OutboxMessage {
        .question(
            QuestionMessage(
                deliveryID: delivery, recipient: Recipient(handle: handle, imID: nil), topic: TopicReference(slug: "infra", name: "Infrastructure"),
                text: "?", maxAnswers: 1))
    }

    static func deliveries(_ items: [OutboxItem]) -> [String] {
        items.compactMap { item in
            guard case .question(let message) = item.message else { return nil }
            return message.deliveryID
        }
    }

    @Test(arguments: StoreBackend.available)
    func aFailedMessageHoldsBackItsOwnDestinationsLaterMessagesAndNobodyElses(backend: StoreBackend) async throws {
        let clock = TestClock()
        let database = try await TestDatabase.empty(backend)
        let store = database.questionStore(clock: clock)
        try await database.enqueue(
            [Self.question("a1", to: "alice"), Self.question("a2", to: "alice"), Self.question("b1", to: "bob"), Self.question("a3", to: "alice")],
            now: clock.now())
        let due = try await store.pendingOutbox(now: clock.now(), limit: 10, excluding: [])
        #expect(Self.deliveries(due) == ["a1", "a2", "b1", "a3"])
        #expect(due.allSatisfy { $0.attempts == 0 && !$0.deferred })
        // a1 fails and is retried in a minute; b1 goes out. a2 and a3 wait behind a1.
        try await store.markOutboxFailed(due[0].id, error: "down", retryAt: clock.now().addingTimeInterval(60))
        try await store.markOutboxSent([due[2].id], references: [:], now: clock.now())
        #expect(try await store.pendingOutbox(now: clock.now(), limit: 10, excluding: []).isEmpty)
        // Held back, not due later: the next due time is still theirs.
        #expect(try await store.nextDueTime() == clock.now())
        // Due again: alice's in order, a1 with its try counted.
        clock.advance(by: 60)
        let retry = try await store.pendingOutbox(now: clock.now(), limit: 10, excluding: [])
        #expect(Self.deliveries(retry) == ["a1", "a2", "a3"])
        #expect(retry.first?.attempts == 1)
        // Given up: the others go on, and the compliance log says which never arrived.
        try await store.markOutboxFailed(retry[0].id, error: "gone", retryAt: nil)
        #expect(Self.deliveries(try await store.pendingOutbox(now: clock.now(), limit: 10, excluding: [])) == ["a2", "a3"])
        let undelivered = try await store.complianceEntries(since: .distantPast, until: nil).filter { $0.kind == "undelivered" }
        #expect(undelivered.map(\.deliveryID) == ["a1"])
        #expect(undelivered.first?.text == "gave up after 2 tries: gone")
        #expect(undelivered.first?.recipient == "employee:alice")
        await database.close()
    }

    @Test(arguments: StoreBackend.available)
    func aPutOffMessageWaitsWithoutATryCountedAndBusyDestinationsAreLeftOut(backend: StoreBackend) async throws {
        let clock = TestClock()
        let database = try await TestDatabase.empty(backend)
        let store = database.questionStore(clock: clock)
        try await database.enqueue(
            [Self.question("d1", to: "alice"), Self.question("d2", to: "alice"), Self.question("e1", to: "bob")], now: clock.now())
        let due = try await store.pendingOutbox(now: clock.now(), limit: 10, excluding: [])
        try await store.deferOutbox(due[0].id, until: clock.now().addingTimeInterval(30), reason: "429")
        #expect(Self.deliveries(try await store.pendingOutbox(now: clock.now(), limit: 10, excluding: ["person:bob"])).isEmpty)
        clock.advance(by: 30)
        let later = try await store.pendingOutbox(now: clock.now(), limit: 10, excluding: [])
        #expect(Self.deliveries(later) == ["d1", "d2", "e1"])
        #expect(later.first?.attempts == 0)
        #expect(later.first?.deferred == true)
        await database.close()
    }

    /// Held back means queued behind: a message queued before its destination's held-back one still goes.
    @Test(arguments: StoreBackend.available)
    func aMessageQueuedBeforeItsDestinationsHeldBackOneStillGoes(backend: StoreBackend) async throws {
        let clock = TestClock()
        let database = try await TestDatabase.empty(backend)
        let store = database.questionStore(clock: clock)
        try await database.enqueue([Self.question("a1", to: "alice"), Self.question("a2", to: "alice")], now: clock.now())
        let due = try await store.pendingOutbox(now: clock.now(), limit: 10, excluding: [])
        #expect(Self.deliveries(due) == ["a1", "a2"])
        // a2 is put off for half a minute; a1 failed and may be tried again at once.
        try await store.deferOutbox(due[1].id, until: clock.now().addingTimeInterval(30), reason: "429")
        try await store.markOutboxFailed(due[0].id, error: "timeout", retryAt: clock.now())
        #expect(Self.deliveries(try await store.pendingOutbox(now: clock.now(), limit: 10, excluding: [])) == ["a1"])
        await database.close()
    }

    /// Many destinations held back at once (the IM server down, or its rate limit putting off one message after
    /// another): each holds back its own later messages, and the others go in queueing order.
    @Test(arguments: StoreBackend.available)
    func manyDestinationsHeldBackAtOnceHoldBackOnlyTheirOwnMessages(backend: StoreBackend) async throws {
        let clock = TestClock()
        let database = try await TestDatabase.empty(backend)
        let store = database.questionStore(clock: clock)
        let held = 150
        var messages: [OutboxMessage] = []
        for round in 0..<2 {
            for person in 0..<held {
                messages.append(Self.question("p\(person)-\(round)", to: "p\(person)"))
                if person % 10 == 0 { messages.append(Self.question("free\(person)-\(round)", to: "free\(person)")) }
            }
        }
        try await database.enqueue(messages, now: clock.now())
        let due = try await store.pendingOutbox(now: clock.now(), limit: 1000, excluding: [])
        #expect(due.count == messages.count)
        // Every p's first message is put off; their second ones wait behind them.
        for item in due {
            guard let delivery = Self.deliveries([item]).first, delivery.hasPrefix("p"), delivery.hasSuffix("-0") else { continue }
            try await store.deferOutbox(item.id, until: clock.now().addingTimeInterval(30), reason: "429")
        }
        let free = Self.deliveries(try await store.pendingOutbox(now: clock.now(), limit: 1000, excluding: []))
        #expect(free == Self.deliveries(due).filter { $0.hasPrefix("free") })
        // Five at a time, the first five of them.
        #expect(Self.deliveries(try await store.pendingOutbox(now: clock.now(), limit: 5, excluding: [])) == Array(free.prefix(5)))
        clock.advance(by: 30)
        let all = try await store.pendingOutbox(now: clock.now(), limit: 1000, excluding: [])
        #expect(Self.deliveries(all) == Self.deliveries(due))
        await database.close()
    }
}
