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
        func deliverAnswer(_ message: AnswerMessage, key: String) async throws -> String? {
            record("answer \(message.questionID)")
            return nil
        }
        func deliverFollowUp(_ message: FollowUpMessage, key: String) async throws -> String? {
            record("follow-up \(message.questionID)")
            return nil
        }
        func notifyClosed(_ message: ClosedMessage, key: String) async throws { record("closed \(message.deliveryID)") }
        func notifyAsker(_ message: AskerNotice, key: String) async throws { record("notice \(message.questionID)") }
        func deliverReveal(_ message: RevealNotice, key: String) async throws -> String? {
            record("reveal \(message.questionID)")
            return nil
        }
        func introduce(_ introduction: Introduction, key: String) async throws -> String? {
            record("introduction \(introduction.questionID)")
            return nil
        }
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

    /// A fake messenger that sends questions as `RecordingMessenger` does, except to the `hanging` people: those sends
    /// never go through, and wait until they are cut off (cancelled), as with a room or a homeserver that stopped
    /// answering. `events` says "sent D" or "hanging D" for each delivery D, as it happens.
    final class HangingMessenger: Messenger, Sendable {
        let recording = RecordingMessenger()
        let hanging: Set<String>
        let events = Recorded<String>()
        init(hanging: Set<String>) { self.hanging = hanging }
        func deliverQuestion(_ message: QuestionMessage, key: String) async throws -> String? {
            guard hanging.contains(message.recipient.handle) else {
                defer { events.append("sent \(message.deliveryID)") }
                return try await recording.deliverQuestion(message, key: key)
            }
            events.append("hanging \(message.deliveryID)")
            while true { try await Task.sleep(for: .seconds(1)) }
        }
        func deliverAnswer(_ message: AnswerMessage, key: String) async throws -> String? { try await recording.deliverAnswer(message, key: key) }
        func deliverFollowUp(_ message: FollowUpMessage, key: String) async throws -> String? {
            try await recording.deliverFollowUp(message, key: key)
        }
        func notifyClosed(_ message: ClosedMessage, key: String) async throws { try await recording.notifyClosed(message, key: key) }
        func notifyAsker(_ message: AskerNotice, key: String) async throws { try await recording.notifyAsker(message, key: key) }
        func deliverReveal(_ message: RevealNotice, key: String) async throws -> String? { try await recording.deliverReveal(message, key: key) }
        func introduce(_ introduction: Introduction, key: String) async throws -> String? {
            try await recording.introduce(introduction, key: key)
        }
    }

    /// A clean stop (SIGTERM) while one person's send hangs: what went out is recorded, so that the next process does
    /// not send it again; the send cut off is not counted as a try, and nothing is read or sent from then on.
    @Test func aCleanStopRecordsWhatWasSentAndCutsOffAHangingSendUncounted() async throws {
        let clock = TestClock()
        let store = try await Self.store(
            queueing: [Self.question("a1", to: "alice"), Self.question("b1", to: "bob"), Self.question("b2", to: "bob")], clock: clock)
        let messenger = HangingMessenger(hanging: ["bob"])
        // Without a pump, no drain follows alice's send: its outcome waits unrecorded until the stop.
        let dispatcher = OutboxDispatcher(store: store, messenger: messenger, callbacks: DeadCallbackSender(), clock: clock, imConcurrency: 2)
        #expect(try await dispatcher.drain() == 3)
        try await messenger.events.wait(within: 60, "alice's sent and bob's hanging") { Set($0) == ["sent a1", "hanging b1"] }
        #expect(try await Self.outboxRow(store, delivery: "a1")["sentAt"] as Date? == nil)

        try await dispatcher.stop(grace: .milliseconds(50))
        #expect(try await Self.outboxRow(store, delivery: "a1")["sentAt"] as Date? != nil)
        for delivery in ["b1", "b2"] {
            let row = try await Self.outboxRow(store, delivery: delivery)
            #expect(row["sentAt"] as Date? == nil, "\(delivery)")
            #expect(row["attempts"] as Int == 0, "\(delivery)")
            #expect(row["lastError"] as String? == nil, "\(delivery)")
        }
        // A question asked while the server winds down is queued, and left for the next process.
        try await store.database.writer.write { db in try SQLiteQuestionStore.enqueue(db, Self.question("c1", to: "carol"), now: clock.now()) }
        #expect(try await dispatcher.drain() == 0)
        #expect(messenger.events.all.sorted() == ["hanging b1", "sent a1"])

        // The next process sends what was left, in order, and not alice's again.
        let next = RecordingMessenger()
        let restarted = OutboxPump(
            dispatcher: OutboxDispatcher(store: store, messenger: next, callbacks: DeadCallbackSender(), clock: clock, imConcurrency: 2))
        await restarted.flush()
        let sent = next.sent.withLock { $0 }
        #expect(sent.sorted() == ["question b1", "question b2", "question c1"])
        #expect(sent.filter { $0.hasPrefix("question b") } == ["question b1", "question b2"])
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
        let pump = OutboxPump(dispatcher: dispatcher)
        // The drain hands the callback URL and alice (the first person; one person at a time outside a backlog) each
        // to a worker of its own, and waits for neither; bob's follows when alice's worker is done.
        #expect(try await dispatcher.drain() == 4)
        // Every IM message goes out while the callback is still held. Waited for generously (two minutes): the callback
        // is held however long this takes, so only a broken dispatcher waits that long, never a slow machine.
        let patience = ContinuousClock.now + .seconds(120)
        while messenger.sent.withLock({ $0.count }) < 4, ContinuousClock.now < patience { try await Task.sleep(for: .milliseconds(5)) }
        let sent = messenger.sent.withLock { $0 }
        #expect(callbacks.posted.withLock { $0 } == 0)
        #expect(Set(sent) == ["question d1", "question d2", "closed d1", "question d3"])
        #expect(sent.filter { $0.hasSuffix("d1") || $0.hasSuffix("d3") } == ["question d1", "closed d1", "question d3"])
        callbacks.released.withLock { $0 = true }
        await pump.flush()
        #expect(callbacks.posted.withLock { $0 } == 1)
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
        func deliverAnswer(_ message: AnswerMessage, key: String) async throws -> String? { nil }
        func deliverFollowUp(_ message: FollowUpMessage, key: String) async throws -> String? { nil }
        func notifyClosed(_ message: ClosedMessage, key: String) async throws {}
        func notifyAsker(_ message: AskerNotice, key: String) async throws {}
        func deliverReveal(_ message: RevealNotice, key: String) async throws -> String? { nil }
        func introduce(_ introduction: Introduction, key: String) async throws -> String? { nil }
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
        await OutboxPump(dispatcher: dispatcher).flush()
        #expect(messenger.sent.count == 2 * people)
        #expect(messenger.most == most)
        for person in 1...people {
            #expect(messenger.sent.filter { $0.hasPrefix("p\(person)-") } == ["p\(person)-1", "p\(person)-2"])
        }
    }

    /// A fake messenger that always fails: an IM server that is down.
    final class FailingMessenger: Messenger, Sendable {
        struct Down: Error {}
        func deliverQuestion(_ message: QuestionMessage, key: String) async throws -> String? { throw Down() }
        func deliverAnswer(_ message: AnswerMessage, key: String) async throws -> String? { throw Down() }
        func deliverFollowUp(_ message: FollowUpMessage, key: String) async throws -> String? { throw Down() }
        func notifyClosed(_ message: ClosedMessage, key: String) async throws { throw Down() }
        func notifyAsker(_ message: AskerNotice, key: String) async throws { throw Down() }
        func deliverReveal(_ message: RevealNotice, key: String) async throws -> String? { throw Down() }
        func introduce(_ introduction: Introduction, key: String) async throws -> String? { throw Down() }
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
        #expect(try await failing.drain(limit: 1) == 1)
        #expect(failing.lag.current == 7)
        await failing.idle()
        // Its retry is due after the backoff, much later: still waiting, but not because SkillRelay is behind.
        clock.advance(by: 60)
        #expect(try await failing.drain(limit: 1) == 1)
        #expect(failing.lag.current == 0)
        await failing.idle()
        // A bot's callback waiting for its first try is not SkillRelay falling behind either: a dead URL must not
        // refuse everyone's questions.
        let callback = CallbackMessage(questionID: "q1", url: "http://bot.example/hook", body: "{}")
        try await store.database.writer.write { db in try SQLiteQuestionStore.enqueue(db, .callback(callback), now: clock.now()) }
        clock.advance(by: 30)
        #expect(try await failing.drain(limit: 1) == 1)
        #expect(failing.lag.current == 0)
        await failing.idle()
    }

    @Test func theDrainReadsPendingMessagesByIndexAndSentOnesArePurgedAfterAWeek() async throws {
        let clock = TestClock()
        let store = SQLiteQuestionStore(database: try AppDatabase.inMemory(), clock: clock)
        let plan = try await store.database.writer.read { db in
            try Row.fetchAll(
                db,
                sql: "EXPLAIN QUERY PLAN " + SQLiteQuestionStore.pendingOutboxSQL(), arguments: ["now": clock.now(), "limit": 200]
            ).map { $0["detail"] as String }
        }
        // Not "SCAN outbox": that read every message ever sent, on every drain; and each destination's earlier
        // messages by its own index.
        #expect(plan.first == "SCAN due USING INDEX outboxDueById", "plan: \(plan)")
        #expect(plan.contains { $0.contains("SEARCH earlier USING INDEX outboxPendingByDestination (destination=? AND id<?)") }, "plan: \(plan)")

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

    /// A fake messenger that fails each delivery with the errors the test gave it, one per try, then sends it.
    final class ScriptedMessenger: Messenger, Sendable {
        private let state: Mutex<(errors: [String: [any Error]], tries: [String], sent: [String])>
        init(_ errors: [String: [any Error]]) { state = Mutex((errors, [], [])) }
        var sent: [String] { state.withLock { $0.sent } }
        var tries: [String] { state.withLock { $0.tries } }
        func deliverQuestion(_ message: QuestionMessage, key: String) async throws -> String? {
            try state.withLock { state in
                state.tries.append(message.deliveryID)
                if let error = state.errors[message.deliveryID]?.first {
                    state.errors[message.deliveryID]?.removeFirst()
                    throw error
                }
                state.sent.append(message.deliveryID)
            }
            return nil
        }
        func deliverAnswer(_ message: AnswerMessage, key: String) async throws -> String? { nil }
        func deliverFollowUp(_ message: FollowUpMessage, key: String) async throws -> String? { nil }
        func notifyClosed(_ message: ClosedMessage, key: String) async throws {}
        func notifyAsker(_ message: AskerNotice, key: String) async throws {}
        func deliverReveal(_ message: RevealNotice, key: String) async throws -> String? { nil }
        func introduce(_ introduction: Introduction, key: String) async throws -> String? { nil }
    }

    /// A fake callback sender that always fails, counting its tries: a bot's dead URL.
    final class DeadCallbackSender: CallbackSender, Sendable {
        struct Refused: Error {}
        let tries = Mutex(0)
        func post(_ message: CallbackMessage, key: String) async throws {
            tries.withLock { $0 += 1 }
            throw Refused()
        }
    }

    static func question(_ delivery: String, to handle: String) -> OutboxMessage {
        .question(
            QuestionMessage(
                deliveryID: delivery, recipient: Recipient(handle: handle, imID: nil), topic: TopicReference(slug: "infra", name: "Infrastructure"),
                text: "?", maxAnswers: 1))
    }

    /// A store in memory with `messages` queued, in order.
    static func store(queueing messages: [OutboxMessage], clock: TestClock) async throws -> SQLiteQuestionStore {
        let store = SQLiteQuestionStore(database: try AppDatabase.inMemory(), clock: clock)
        try await store.database.writer.write { db in
            for message in messages { try SQLiteQuestionStore.enqueue(db, message, now: clock.now()) }
        }
        return store
    }

    static func outboxRow(_ store: SQLiteQuestionStore, delivery: String) async throws -> Row {
        try await store.database.writer.read { db in
            try #require(try Row.fetchOne(db, sql: "SELECT * FROM outbox WHERE message LIKE ?", arguments: ["%\"\(delivery)\"%"]))
        }
    }

    @Test func aFailedMessageHoldsBackItsOwnDestinationsLaterMessagesAndNobodyElses() async throws {
        // Given three messages to alice, the first failing twice, and one to bob.
        let clock = TestClock()
        let store = SQLiteQuestionStore(database: try AppDatabase.inMemory(), clock: clock)
        try await store.database.writer.write { db in
            for message in [
                Self.question("a1", to: "alice"), Self.question("a2", to: "alice"), Self.question("a3", to: "alice"),
                Self.question("b1", to: "bob"),
            ] { try SQLiteQuestionStore.enqueue(db, message, now: clock.now()) }
        }
        let messenger = ScriptedMessenger(["a1": [FailingMessenger.Down(), FailingMessenger.Down()]])
        let pump = OutboxPump(dispatcher: OutboxDispatcher(store: store, messenger: messenger, callbacks: DeadCallbackSender(), clock: clock))
        // When the outbox drains: bob's goes out, alice's first fails and her later ones wait behind it.
        await pump.flush()
        #expect(messenger.sent == ["b1"])
        clock.advance(by: 1)
        await pump.flush()
        #expect(messenger.sent == ["b1"])
        // Then, once it goes through, alice's arrive in the order they were queued.
        clock.advance(by: 2)
        await pump.flush()
        #expect(messenger.sent == ["b1", "a1", "a2", "a3"])
        #expect(messenger.tries.filter { $0.hasPrefix("a") } == ["a1", "a1", "a1", "a2", "a3"])
        #expect(try await Self.outboxRow(store, delivery: "a1")["attempts"] as Int == 3)
    }

    @Test func aRateLimitedMessageWaitsAsToldIsNotCountedAndIsNeverGivenUp() async throws {
        let clock = TestClock()
        let store = SQLiteQuestionStore(database: try AppDatabase.inMemory(), clock: clock)
        try await store.database.writer.write { db in
            for message in [Self.question("d1", to: "alice"), Self.question("d2", to: "alice")] {
                try SQLiteQuestionStore.enqueue(db, message, now: clock.now())
            }
        }
        // More rate limits in a row than a message has tries.
        let limits = OutboxDispatcher.maxAttempts + 2
        let messenger = ScriptedMessenger(["d1": Array(repeating: DeliveryDeferred(retryAfter: 30, reason: "429"), count: limits)])
        let pump = OutboxPump(dispatcher: OutboxDispatcher(store: store, messenger: messenger, callbacks: DeadCallbackSender(), clock: clock))
        for _ in 0..<limits {
            await pump.flush()
            let row = try await Self.outboxRow(store, delivery: "d1")
            #expect(row["attempts"] as Int == 0)
            #expect(row["failedAt"] as Date? == nil)
            #expect(row["nextAttemptAt"] as Date == clock.now().addingTimeInterval(30))
            // Not a moment before the homeserver said.
            clock.advance(by: 29)
            await pump.flush()
            clock.advance(by: 1)
        }
        #expect(messenger.tries == Array(repeating: "d1", count: limits))
        await pump.flush()
        #expect(messenger.sent == ["d1", "d2"])
        #expect(try await Self.outboxRow(store, delivery: "d1")["attempts"] as Int == 1)
    }

    @Test func aDestinationThatKeepsFailingIsGivenUpLoggedAndRestsWhileOthersGoOn() async throws {
        let clock = TestClock()
        let store = SQLiteQuestionStore(database: try AppDatabase.inMemory(), clock: clock)
        let dead = "http://bot.example/dead"
        try await store.database.writer.write { db in
            for id in ["q1", "q2"] {
                try SQLiteQuestionStore.enqueue(db, .callback(CallbackMessage(questionID: id, url: dead, body: "{}")), now: clock.now())
            }
        }
        let callbacks = DeadCallbackSender()
        let messenger = ScriptedMessenger([:])
        let pump = OutboxPump(dispatcher: OutboxDispatcher(store: store, messenger: messenger, callbacks: callbacks, clock: clock))
        for attempt in 0..<OutboxDispatcher.maxAttempts {
            if attempt > 0 { clock.advance(by: 300) }
            await pump.flush()
        }
        // The first is given up after its tries, and the compliance log says so.
        #expect(callbacks.tries.withLock { $0 } == OutboxDispatcher.maxAttempts)
        let undelivered = try await store.complianceEntries(since: .distantPast, until: nil).filter { $0.kind == "undelivered" }
        #expect(undelivered.count == 1)
        #expect(undelivered.first?.recipient == "callback:\(dead)")
        #expect(undelivered.first?.questionID == "q1")
        // The URL rests behind its breaker: the next message to it waits, while a person's goes out at once.
        try await store.database.writer.write { db in try SQLiteQuestionStore.enqueue(db, Self.question("b1", to: "bob"), now: clock.now()) }
        await pump.flush()
        #expect(messenger.sent == ["b1"])
        #expect(callbacks.tries.withLock { $0 } == OutboxDispatcher.maxAttempts)
        clock.advance(by: 300)
        await pump.flush()
        #expect(callbacks.tries.withLock { $0 } == OutboxDispatcher.maxAttempts + 1)
    }

    /// A fake messenger whose sends to one person never return: their room is stuck.
    final class StuckRoomMessenger: Messenger, Sendable {
        let stuck: String
        let sent = Mutex<[String]>([])
        init(stuck: String) { self.stuck = stuck }
        func deliverQuestion(_ message: QuestionMessage, key: String) async throws -> String? {
            if message.recipient.handle == stuck { try await Task.sleep(for: .seconds(3600)) }
            sent.withLock { $0.append(message.deliveryID) }
            return nil
        }
        func deliverAnswer(_ message: AnswerMessage, key: String) async throws -> String? { nil }
        func deliverFollowUp(_ message: FollowUpMessage, key: String) async throws -> String? { nil }
        func notifyClosed(_ message: ClosedMessage, key: String) async throws {}
        func notifyAsker(_ message: AskerNotice, key: String) async throws {}
        func deliverReveal(_ message: RevealNotice, key: String) async throws -> String? { nil }
        func introduce(_ introduction: Introduction, key: String) async throws -> String? { nil }
    }

    @Test func onePersonsStuckRoomStopsHoldingUpTheOthersOnceItIsSlow() async throws {
        // Given one person's room that never answers, first in line, and the IM lane one person wide.
        let clock = TestClock()
        let store = try await Self.store(
            queueing: [Self.question("a1", to: "alice"), Self.question("b1", to: "bob"), Self.question("c1", to: "carol")], clock: clock)
        let messenger = StuckRoomMessenger(stuck: "alice")
        let dispatcher = OutboxDispatcher(
            store: store, messenger: messenger, callbacks: DeadCallbackSender(), clock: clock, imConcurrency: 1, slowAfter: 2)
        let pump = OutboxPump(dispatcher: dispatcher)
        // When the first drain starts alice's worker, the others wait their turn.
        await pump.kick()
        #expect(messenger.sent.withLock { $0 }.isEmpty)
        // Then, once alice's worker has been busy longer than `slowAfter`, it no longer holds the lane: the others go.
        clock.advance(by: 3)
        await pump.kick()
        let patience = ContinuousClock.now + .seconds(120)
        while messenger.sent.withLock({ $0.count }) < 2, ContinuousClock.now < patience { try await Task.sleep(for: .milliseconds(5)) }
        #expect(Set(messenger.sent.withLock { $0 }) == ["b1", "c1"])
        // And a stuck room is that person's delay, not SkillRelay falling behind: more for alice, queued long ago, do
        // not count as lag that would refuse everyone's questions.
        try await store.database.writer.write { db in try SQLiteQuestionStore.enqueue(db, Self.question("a2", to: "alice"), now: clock.now()) }
        clock.advance(by: 60)
        await pump.kick()
        #expect(dispatcher.lag.current == 0)
    }
}
