import Foundation
import GRDB
import SkillRelayDomain
import SkillRelayTestSupport
import Synchronization
import Testing

@testable import SkillRelayStore

/// The outbox dispatcher: one recipient's messages in order, different recipients side by side.
@Suite struct OutboxDispatcherTests {
    /// A fake messenger that records what it sent, in order.
    final class RecordingMessenger: Messenger, Sendable {
        let sent = Mutex<[String]>([])
        func deliverQuestion(_ message: QuestionMessage, key: String) async throws -> String? {
            record("question \(message.deliveryID)")
            return "$event-\(message.deliveryID)"
        }
        func deliverAnswer(_ message: AnswerMessage, key: String) async throws { record("answer \(message.questionID)") }
        func notifyClosed(_ message: ClosedMessage, key: String) async throws { record("closed \(message.deliveryID)") }
        func notifyAsker(_ message: AskerNotice, key: String) async throws { record("notice \(message.questionID)") }
        private func record(_ line: String) { sent.withLock { $0.append(line) } }
    }

    /// A fake callback sender that holds every POST until released: a bot's slow callback URL.
    final class HeldCallbackSender: CallbackSender, Sendable {
        let released = Mutex(false)
        let posted = Mutex(0)
        func post(_ message: CallbackMessage, key: String) async throws {
            while !released.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
            posted.withLock { $0 += 1 }
        }
    }

    @Test func aSlowCallbackHoldsUpNobodyElsesMessagesAndEachPersonsComeInOrder() async throws {
        let clock = TestClock()
        let store = SQLiteQuestionStore(database: try AppDatabase.inMemory(), clock: clock)
        let topic = TopicReference(slug: "infra", name: "Infrastructure")
        func question(_ delivery: String, to handle: String) -> OutboxMessage {
            .question(
                QuestionMessage(deliveryID: delivery, recipient: Recipient(handle: handle, imID: nil), topic: topic, text: "?", maxAnswers: 1))
        }
        let messages: [OutboxMessage] = [
            .callback(CallbackMessage(questionID: "q1", url: "http://bot.example/slow", body: "{}")),
            question("d1", to: "alice"),
            question("d2", to: "bob"),
            .closed(ClosedMessage(deliveryID: "d1", recipient: Recipient(handle: "alice", imID: nil), topic: topic, reason: .answered)),
            question("d3", to: "alice"),
        ]
        try await store.database.writer.write { db in
            for message in messages { try SQLiteQuestionStore.enqueue(db, message, now: clock.now()) }
        }
        let messenger = RecordingMessenger()
        let callbacks = HeldCallbackSender()
        let dispatcher = OutboxDispatcher(store: store, messenger: messenger, callbacks: callbacks, clock: clock)
        let drain = Task { try await dispatcher.drain() }
        // Every IM message goes out while the callback is still held. Waited for generously (a minute): the callback is
        // held however long this takes, so only a broken dispatcher waits that long, never a slow machine.
        let patience = ContinuousClock.now + .seconds(60)
        while messenger.sent.withLock({ $0.count }) < 4, ContinuousClock.now < patience { try await Task.sleep(for: .milliseconds(5)) }
        let sent = messenger.sent.withLock { $0 }
        #expect(callbacks.posted.withLock { $0 } == 0)
        #expect(Set(sent) == ["question d1", "question d2", "closed d1", "question d3"])
        #expect(sent.filter { $0.hasSuffix("d1") || $0.hasSuffix("d3") } == ["question d1", "closed d1", "question d3"])
        callbacks.released.withLock { $0 = true }
        #expect(try await drain.value == 5)
        #expect(try await store.pendingOutbox(now: clock.now(), limit: 10).isEmpty)
    }

    /// A fake messenger whose sends take a little while, counting how many overlap. Every send is first held until
    /// `holdUntil` are in flight at once (at most a minute: only a dispatcher that never sends that many side by side
    /// waits so long), so that reaching the expected overlap does not depend on the machine's speed; the little while
    /// after it gives a dispatcher that sends too many at once the chance to show it.
    final class OverlapMessenger: Messenger, Sendable {
        private let state = Mutex((inFlight: 0, most: 0, sent: [String]()))
        let holdUntil: Int
        var most: Int { state.withLock { $0.most } }
        var sent: [String] { state.withLock { $0.sent } }
        init(holdUntil: Int) { self.holdUntil = holdUntil }
        func deliverQuestion(_ message: QuestionMessage, key: String) async throws -> String? {
            state.withLock { state in
                state.inFlight += 1
                state.most = max(state.most, state.inFlight)
            }
            let patience = ContinuousClock.now + .seconds(60)
            while state.withLock({ $0.most }) < holdUntil, ContinuousClock.now < patience { try await Task.sleep(for: .milliseconds(1)) }
            try await Task.sleep(for: .milliseconds(20))
            state.withLock { state in
                state.inFlight -= 1
                state.sent.append(message.deliveryID)
            }
            return nil
        }
        func deliverAnswer(_ message: AnswerMessage, key: String) async throws {}
        func notifyClosed(_ message: ClosedMessage, key: String) async throws {}
        func notifyAsker(_ message: AskerNotice, key: String) async throws {}
    }

    @Test(arguments: [(people: 3, most: 1), (people: 30, most: 4)])
    func aWaveGoesOutOneAtATimeAndABacklogSeveralAtATime(people: Int, most: Int) async throws {
        let clock = TestClock()
        let store = SQLiteQuestionStore(database: try AppDatabase.inMemory(), clock: clock)
        let topic = TopicReference(slug: "infra", name: "Infrastructure")
        try await store.database.writer.write { db in
            // Two messages each, so that each person's order can be checked.
            for round in 1...2 {
                for person in 1...people {
                    let message = QuestionMessage(
                        deliveryID: "p\(person)-\(round)", recipient: Recipient(handle: "p\(person)", imID: nil), topic: topic, text: "?",
                        maxAnswers: 1)
                    try SQLiteQuestionStore.enqueue(db, .question(message), now: clock.now())
                }
            }
        }
        let messenger = OverlapMessenger(holdUntil: most)
        let dispatcher = OutboxDispatcher(
            store: store, messenger: messenger, callbacks: HeldCallbackSender(), clock: clock, imConcurrency: 1, imBacklogConcurrency: 4)
        #expect(try await dispatcher.drain() == 2 * people)
        #expect(messenger.most == most)
        for person in 1...people {
            #expect(messenger.sent.filter { $0.hasPrefix("p\(person)-") } == ["p\(person)-1", "p\(person)-2"])
        }
    }

    /// A fake messenger that always fails: an IM server that is down.
    final class FailingMessenger: Messenger, Sendable {
        struct Down: Error {}
        func deliverQuestion(_ message: QuestionMessage, key: String) async throws -> String? { throw Down() }
        func deliverAnswer(_ message: AnswerMessage, key: String) async throws { throw Down() }
        func notifyClosed(_ message: ClosedMessage, key: String) async throws { throw Down() }
        func notifyAsker(_ message: AskerNotice, key: String) async throws { throw Down() }
    }

    @Test func theLagIsTheOldestFirstTryAndLeavesRetriesOut() async throws {
        let clock = TestClock()
        let store = SQLiteQuestionStore(database: try AppDatabase.inMemory(), clock: clock)
        let message = QuestionMessage(
            deliveryID: "d1", recipient: Recipient(handle: "alice", imID: nil), topic: TopicReference(slug: "infra", name: "Infrastructure"),
            text: "?", maxAnswers: 1)
        try await store.database.writer.write { db in try SQLiteQuestionStore.enqueue(db, .question(message), now: clock.now()) }
        clock.advance(by: 7)
        let failing = OutboxDispatcher(store: store, messenger: FailingMessenger(), callbacks: HeldCallbackSender(), clock: clock)
        // A drain as large as its limit has not caught up, and its oldest first try was queued 7 s ago.
        #expect(try await failing.drain(limit: 1) == 0)
        #expect(failing.lag.current == 7)
        // Its retry is due after the backoff, much later: still waiting, but not because SkillRelay is behind.
        clock.advance(by: 60)
        #expect(try await failing.drain(limit: 1) == 0)
        #expect(failing.lag.current == 0)
    }

    @Test func theDrainReadsPendingMessagesByIndexAndSentOnesArePurgedAfterAWeek() async throws {
        let clock = TestClock()
        let store = SQLiteQuestionStore(database: try AppDatabase.inMemory(), clock: clock)
        let plan = try await store.database.writer.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    EXPLAIN QUERY PLAN SELECT id, message, attempts, createdAt FROM outbox
                    WHERE sentAt IS NULL AND failedAt IS NULL AND nextAttemptAt <= ? ORDER BY id LIMIT ?
                    """, arguments: [clock.now(), 200]
            ).map { $0["detail"] as String }
        }
        // Not "SCAN outbox": that read every message ever sent, on every drain.
        #expect(plan == ["SCAN outbox USING INDEX outboxDueById"], "plan: \(plan)")

        let topic = TopicReference(slug: "infra", name: "Infrastructure")
        let messages = ["sent-long-ago", "failed-long-ago", "still-waiting", "sent-lately"].map { id in
            OutboxMessage.question(
                QuestionMessage(deliveryID: id, recipient: Recipient(handle: "alice", imID: nil), topic: topic, text: "?", maxAnswers: 1))
        }
        try await store.database.writer.write { db in
            for message in messages { try SQLiteQuestionStore.enqueue(db, message, now: clock.now()) }
        }
        let ids = try await store.pendingOutbox(now: clock.now(), limit: 10).map(\.id)
        try await store.markOutboxSent([ids[0]], references: [:], now: clock.now())
        try await store.markOutboxFailed(ids[1], error: "gave up", retryAt: nil)
        clock.advance(by: 8 * 86_400)
        try await store.markOutboxSent([ids[3]], references: [:], now: clock.now())
        #expect(try await store.purgeOutbox(before: clock.now().addingTimeInterval(-7 * 86_400)) == 2)
        let left = try await store.database.writer.read { db in try Int64.fetchAll(db, sql: "SELECT id FROM outbox ORDER BY id") }
        #expect(left == [ids[2], ids[3]])
        #expect(try await store.pendingOutbox(now: clock.now(), limit: 10).map(\.id) == [ids[2]])
    }
}
