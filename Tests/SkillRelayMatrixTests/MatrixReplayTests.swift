import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SkillRelayDomain
import SkillRelayStore
import SkillRelayTestSupport
import Synchronization
import Testing

@testable import SkillRelayMatrix

/// A sync batch that fails part way is read again (the `since` token moves on only once a batch is handled): a message
/// in it is handled then, once, whether the failure came before the conversation handled it or after. Against an
/// in-process fake homeserver (not Synapse) and the real SQLite stores, with a database that fails once where told.
@Suite struct MatrixReplayTests {
    /// The SQLite IM state, except that the first call of `failing` throws, as a database that went away for a moment.
    final class FlakyIMState: IMStateStore, IMKeyStore {
        enum Call: Sendable { case setConversation, markHandled }
        struct Unavailable: Error {}
        let state: SQLiteIMState
        private let failing: Mutex<Call?>

        init(_ state: SQLiteIMState, failing: Call?) {
            self.state = state
            self.failing = Mutex(failing)
        }

        /// Throws the first time `call` is the failing one.
        private func fail(_ call: Call) throws {
            let fails = failing.withLock { failing in
                guard failing == call else { return false }
                failing = nil
                return true
            }
            if fails { throw Unavailable() }
        }

        func conversation(with imID: String) async throws -> String? { try await state.conversation(with: imID) }
        func setConversation(_ conversation: String, with imID: String) async throws {
            try fail(.setConversation)
            try await state.setConversation(conversation, with: imID)
        }
        func contacts(_ imIDs: [String]) async throws -> [String: IMContact] { try await state.contacts(imIDs) }
        func setInvitation(_ conversation: String?, to imID: String, at time: Date) async throws {
            try await state.setInvitation(conversation, to: imID, at: time)
        }
        func setJoined(_ conversation: String, by imID: String) async throws { try await state.setJoined(conversation, by: imID) }
        func forgetConversation(_ conversation: String, of imID: String?, departure: IMDeparture, at time: Date) async throws -> String? {
            try await state.forgetConversation(conversation, of: imID, departure: departure, at: time)
        }
        func inboundCursor() async throws -> String? { try await state.inboundCursor() }
        func setInboundCursor(_ cursor: String) async throws { try await state.setInboundCursor(cursor) }
        func markHandled(event id: String, changing changes: [IMKeyChange]) async throws -> Bool {
            try fail(.markHandled)
            return try await state.markHandled(event: id, changing: changes)
        }
        func isHandled(event id: String) async throws -> Bool { try await state.isHandled(event: id) }
        func delivery(forMessageReference reference: String) async throws -> String? { try await state.delivery(forMessageReference: reference) }
        func recordEchoes(_ references: [String: String]) async throws { try await state.recordEchoes(references) }
        func caller(forIMID imID: String) async throws -> Caller? { try await state.caller(forIMID: imID) }
        func recordActivity(_ seen: [String: Date]) async throws { try await state.recordActivity(seen) }
        func introductionRooms() async throws -> Set<String> { try await state.introductionRooms() }
        func setIntroductionRoom(_ room: String, open: Bool) async throws { try await state.setIntroductionRoom(room, open: open) }
        func sealedValue(namespace: String, key: String) async throws -> Data? { try await state.sealedValue(namespace: namespace, key: key) }
        func sealedValues(namespace: String) async throws -> [String: Data] { try await state.sealedValues(namespace: namespace) }
        func setSealedValues(_ changes: [IMKeyChange]) async throws { try await state.setSealedValues(changes) }
    }

    /// `asker` (`@asker:fake`, with no room known yet) writes `ask terraform: …` in `!a:fake`, with the IM state failing
    /// once at `call` and the homeserver failing the bot's first sends with `sendFailures`, and the batch is handled three
    /// times, as the sync loop would after a failure and a later one (with `restart`, by a new sync service on the same
    /// database, as after a restart or on the instance that took the sync over); `body` gets whether the first try threw,
    /// what the bot said in the room, the questions asked, and what the IM state kept of owed replies after the first try.
    func askWithAFailure(
        at call: FlakyIMState.Call? = nil, sendFailures: [Int] = [], restart: Bool = false,
        _ body: @Sendable @escaping (_ firstFailed: Bool, _ said: [String], _ asked: Int, _ keptAfterFirst: [Data]) async throws -> Void
    ) async throws {
        let fake = FakeMatrixHomeserver()
        fake.failMessageSends(with: sendFailures)
        try await fake.serve { matrix in
            let company = try await TerraformDirectory(people: ["asker", "s1"].map(TerraformDirectory.onIM), specialists: ["s1"])
            let (clock, database, directory) = (company.clock, company.database, company.directory)
            let state = FlakyIMState(SQLiteIMState(database: database, clock: clock), failing: call)
            try await state.state.setConversation("!r1:fake", with: "@s1:fake")
            let store = SQLiteQuestionStore(database: database, clock: clock)
            let questions = try QuestionService(
                store: store, presence: FakePresenceSource(["s1": .available]), settings: QuestionSettings(), clock: clock)
            let makeSync = {
                MatrixSyncService(
                    client: matrix, state: state, seal: MatrixKeySeal(secret: "test pickle key, not secret"),
                    rooms: MatrixRooms(client: matrix, state: state, clock: clock),
                    conversation: IMConversation(questions: questions, directory: directory, state: state, clock: clock),
                    logger: Logger(label: "test"), clock: clock)
            }
            var sync = makeSync()
            let ask =
                #"{"type":"m.room.message","event_id":"$ask1","sender":"@asker:fake","content":{"msgtype":"m.text","body":"ask terraform: How do we import buckets?"}}"#
            var firstFailed = false
            do {
                try await sync.receive(timeline: [ask], in: "!a:fake", bot: FakeMatrixHomeserver.bot)
            } catch {
                firstFailed = true
            }
            let keptAfterFirst = Array(try await state.sealedValues(namespace: MatrixOwedReplies.namespace).values)
            if restart { sync = makeSync() }
            // Read again after the failure, then once more, as when a later event of the same batch fails.
            try await sync.receive(timeline: [ask], in: "!a:fake", bot: FakeMatrixHomeserver.bot)
            try await sync.receive(timeline: [ask], in: "!a:fake", bot: FakeMatrixHomeserver.bot)
            // However it went, nothing is owed at the end: every reply went or was given up on.
            #expect(try await state.sealedValues(namespace: MatrixOwedReplies.namespace).isEmpty)
            let asked = try await store.complianceEntries(since: .distantPast, until: nil).filter { $0.kind == "question" }.count
            try await body(firstFailed, fake.sent.filter { $0.room == "!a:fake" }.map(\.body), asked, keptAfterFirst)
        }
    }

    @Test func aMessageWhoseHandlingFailedBeforeItWasDoneIsHandledWhenItsBatchIsReadAgain() async throws {
        try await askWithAFailure(at: .setConversation) { firstFailed, said, asked, _ in
            #expect(firstFailed)
            #expect(asked == 1)
            #expect(said == ["Asked 1 specialist in Terraform; answers will come here."])
        }
    }

    @Test func aMessageHandledButNotRecordedAsHandledAsksItsQuestionOnce() async throws {
        try await askWithAFailure(at: .markHandled) { firstFailed, said, asked, _ in
            #expect(firstFailed)
            #expect(asked == 1)
            #expect(said == ["Asked 1 specialist in Terraform; answers will come here."])
        }
    }

    @Test func aReplyTheHomeserverFailedToTakeGoesWithTheNextBatchOnce() async throws {
        // Given a homeserver that fails the bot's reply to a handled question once (a gateway error)
        try await askWithAFailure(sendFailures: [502]) { firstFailed, said, asked, _ in
            // Then the batch fails, and the next read (which skips the handled message) sends the reply, once
            #expect(firstFailed)
            #expect(asked == 1)
            #expect(said == ["Asked 1 specialist in Terraform; answers will come here."])
        }
    }

    @Test func aReplyThatFailedToGoIsSentAfterARestartSealed() async throws {
        // Given a homeserver that fails the bot's reply to a handled question once, and a restart before the next batch
        try await askWithAFailure(sendFailures: [502], restart: true) { firstFailed, said, asked, keptAfterFirst in
            // Then the reply was kept in the database, sealed (its words are not in what was stored)
            #expect(firstFailed)
            #expect(keptAfterFirst.count == 1)
            #expect(keptAfterFirst.allSatisfy { String(decoding: $0, as: UTF8.self).contains("specialist") == false })
            // And the restarted sync sends it, once, and the question was asked once
            #expect(asked == 1)
            #expect(said == ["Asked 1 specialist in Terraform; answers will come here."])
        }
    }

    @Test func aReplyTheHomeserverRefusesForGoodIsNotTriedAgain() async throws {
        // Given a homeserver that refuses the reply (the bot may not post in the room)
        try await askWithAFailure(sendFailures: [403]) { firstFailed, said, asked, _ in
            // Then the question is asked, the refusal stops nothing, and the reply is not retried
            #expect(!firstFailed)
            #expect(asked == 1)
            #expect(said.isEmpty)
        }
    }
}
