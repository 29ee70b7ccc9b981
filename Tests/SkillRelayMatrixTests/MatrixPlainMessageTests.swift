import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SkillRelayDomain
import SkillRelayStore
import SkillRelayTestSupport
import Testing

@testable import SkillRelayMatrix

/// A specialist's plain message and Element's "reply in thread", as the sync loop reads them, against an in-process
/// fake homeserver (not Synapse) and the real SQLite stores; the test clock drives the minute an answer is held.
@Suite struct MatrixPlainMessageTests {
    struct Adapter {
        let fake: FakeMatrixHomeserver
        let clock: TestClock
        let questions: QuestionService
        let store: SQLiteQuestionStore
        let sync: MatrixSyncService

        func receive(_ room: String, _ event: String) async throws {
            try await sync.receive(timeline: [event], in: room, bot: FakeMatrixHomeserver.bot)
        }

        /// The texts the bot sent into a room, in order.
        func said(in room: String) -> [String] { fake.sent.filter { $0.room == room }.map(\.body) }

        func answers(_ question: String) async throws -> [String] {
            try await questions.question(question, by: Caller(identity: .employee("asker"))).answers.map(\.text)
        }
    }

    /// s1 and s2, tagged with Terraform, each in their room with the bot (`!r1:fake`, `!r2:fake`), and a question from
    /// `asker` delivered to both, its Matrix event `$q-s1` and `$q-s2` (kept as the outbox keeps them once its sends
    /// return, unless `sendsReturned` is false).
    func withQuestion(sendsReturned: Bool = true, _ body: @Sendable @escaping (Adapter, String) async throws -> Void) async throws {
        let fake = FakeMatrixHomeserver()
        try await fake.serve { matrix in
            let company = try await TerraformDirectory(
                people: [Employee(handle: "asker", name: "Asker", email: "asker@example.org")] + ["s1", "s2"].map(TerraformDirectory.onIM),
                specialists: ["s1", "s2"])
            let (clock, database, directory) = (company.clock, company.database, company.directory)
            let state = SQLiteIMState(database: database, clock: clock)
            try await state.setConversation("!r1:fake", with: "@s1:fake")
            try await state.setConversation("!r2:fake", with: "@s2:fake")
            let store = SQLiteQuestionStore(database: database, clock: clock)
            let questions = try QuestionService(
                store: store, presence: FakePresenceSource(["s1": .available, "s2": .available]), settings: QuestionSettings(), clock: clock)
            let rooms = MatrixRooms(client: matrix, state: state, clock: clock)
            let sync = MatrixSyncService(
                client: matrix, state: state, seal: MatrixKeySeal(secret: "test pickle key, not secret"), rooms: rooms,
                conversation: IMConversation(questions: questions, directory: directory, state: state, clock: clock), logger: Logger(label: "test"),
                clock: clock)
            let asked = try await questions.ask(QuestionDraft(asker: .employee("asker"), topic: "terraform", text: "How do we import buckets?"))
            #expect(asked.deliveredTo == 2)
            for user in ["s1", "s2"] where sendsReturned {
                let delivery = try #require(try await store.inbox(of: user, page: PageRequest(limit: 1)).items.first)
                try await store.markOutboxSent([], references: [delivery.id: "$q-\(user)"], now: clock.now())
            }
            try await body(Adapter(fake: fake, clock: clock, questions: questions, store: store, sync: sync), asked.id)
        }
    }

    static func message(from user: String, _ body: String, relatesTo: String? = nil) -> String {
        #"{"type":"m.room.message","event_id":"$\#(UUID().uuidString)","sender":"\#(user)","content":{"msgtype":"m.text","body":"\#(body)"\#(relatesTo.map { ",\"m.relates_to\":\($0)" } ?? "")}}"#
    }

    @Test func aPlainMessageIsTakenAsTheAnswerAndRelayedAfterAMinute() async throws {
        try await withQuestion { adapter, question in
            try await adapter.receive("!r1:fake", Self.message(from: "@s1:fake", "terraform import aws_s3_bucket.b name"))
            #expect(
                adapter.said(in: "!r1:fake") == [
                    "Taken as your answer to the question about Terraform; it goes to the asker in a minute (write undo to take it back)."
                ])
            try await adapter.questions.tick()
            #expect(try await adapter.answers(question).isEmpty)
            adapter.clock.advance(by: 60)
            try await adapter.questions.tick()
            #expect(try await adapter.answers(question) == ["terraform import aws_s3_bucket.b name"])
        }
    }

    @Test func undoInTheRoomTakesItBack() async throws {
        try await withQuestion { adapter, question in
            try await adapter.receive("!r1:fake", Self.message(from: "@s1:fake", "delete the state"))
            try await adapter.receive("!r1:fake", Self.message(from: "@s1:fake", "undo"))
            #expect(adapter.said(in: "!r1:fake").last == "Taken back: your answer about Terraform was not sent. Write it again when you like.")
            adapter.clock.advance(by: 60)
            try await adapter.questions.tick()
            #expect(try await adapter.answers(question).isEmpty)
        }
    }

    @Test func elementsReplyInThreadCountsAsAReplyToTheQuestion() async throws {
        try await withQuestion { adapter, question in
            // A later message in the question's thread: Element points the reply fallback at the thread's latest event.
            let thread = #"{"rel_type":"m.thread","event_id":"$q-s2","is_falling_back":true,"m.in_reply_to":{"event_id":"$an-earlier-one"}}"#
            try await adapter.receive("!r2:fake", Self.message(from: "@s2:fake", "use an import block", relatesTo: thread))
            #expect(adapter.said(in: "!r2:fake") == ["Thanks! Your answer was relayed to the asker (answer 1)."])
            #expect(try await adapter.answers(question) == ["use an import block"])
        }
    }

    /// A reply can reach the bot before the send of the question it answers has returned (a quick specialist, a loaded
    /// server): the question's own echo, in the same sync batch or an earlier one, says which question it was.
    @Test func aReplyThatArrivesBeforeTheQuestionsSendReturnedIsStillTheAnswer() async throws {
        try await withQuestion(sendsReturned: false) { adapter, question in
            let reply = #"{"m.in_reply_to":{"event_id":"$q-s2"}}"#
            // Without the echo the bot cannot tell what `$q-s2` was.
            try await adapter.receive("!r2:fake", Self.message(from: "@s2:fake", "terraform plan", relatesTo: reply))
            #expect(try await adapter.answers(question).isEmpty)

            let queued = try await adapter.store.pendingOutbox(now: adapter.clock.now(), limit: 10)
            let item = try #require(
                queued.first {
                    guard case .question(let message) = $0.message else { return false }
                    return message.recipient.handle == "s2"
                })
            let bot = FakeMatrixHomeserver.bot
            let echo =
                #"{"type":"m.room.message","event_id":"$q-s2","sender":"\#(bot)","content":{"msgtype":"m.text","body":"A question"},"unsigned":{"transaction_id":"\#(item.key)"}}"#
            // Another sender's transaction ids and the bot's conversational replies are not the outbox's: ignored.
            let other =
                #"{"type":"m.room.message","event_id":"$other","sender":"\#(bot)","content":{"msgtype":"m.text","body":"Hello"},"unsigned":{"transaction_id":"reply-$x-0"}}"#
            try await adapter.sync.receive(
                timeline: [other, echo, Self.message(from: "@s2:fake", "terraform import", relatesTo: reply)], in: "!r2:fake", bot: bot)
            #expect(adapter.said(in: "!r2:fake").last == "Thanks! Your answer was relayed to the asker (answer 1).")
            #expect(try await adapter.answers(question) == ["terraform import"])
        }
    }

    @Test func aPlainReplyToTheQuestionStillAnswersAtOnce() async throws {
        try await withQuestion { adapter, question in
            try await adapter.receive(
                "!r2:fake", Self.message(from: "@s2:fake", "terraform import", relatesTo: #"{"m.in_reply_to":{"event_id":"$q-s2"}}"#))
            #expect(adapter.said(in: "!r2:fake") == ["Thanks! Your answer was relayed to the asker (answer 1)."])
            #expect(try await adapter.answers(question) == ["terraform import"])
        }
    }
}
