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
    /// `asker` delivered to both, its Matrix event `$q-s1` and `$q-s2`.
    func withQuestion(_ body: @Sendable @escaping (Adapter, String) async throws -> Void) async throws {
        let fake = FakeMatrixHomeserver()
        let app = Application(router: fake.router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let matrix = MatrixClient(http: HTTPClient.shared, homeserver: "http://127.0.0.1:\(port)", accessToken: "secret")
            let clock = TestClock()
            let database = try AppDatabase.inMemory()
            let directory = SQLiteDirectoryStore(database: database, clock: clock)
            _ = try await directory.createTopic(Topic(slug: "terraform", name: "Terraform"), by: .cliOperator)
            _ = try await directory.createEmployee(Employee(handle: "asker", name: "Asker", email: "asker@example.org"), by: .cliOperator)
            for user in ["s1", "s2"] {
                _ = try await directory.createEmployee(
                    Employee(handle: user, name: user.uppercased(), email: "\(user)@example.org", imID: "@\(user):fake"), by: .cliOperator)
                _ = try await directory.setSkill(of: user, topic: "terraform", level: 3, by: .cliOperator)
            }
            let state = SQLiteIMState(database: database, clock: clock)
            try await state.setConversation("!r1:fake", with: "@s1:fake")
            try await state.setConversation("!r2:fake", with: "@s2:fake")
            let store = SQLiteQuestionStore(database: database, clock: clock)
            let questions = try QuestionService(
                store: store, presence: FakePresenceSource(["s1": .available, "s2": .available]), settings: QuestionSettings(), clock: clock)
            let rooms = MatrixRooms(client: matrix, state: state, clock: clock)
            let sync = MatrixSyncService(
                client: matrix, state: state, rooms: rooms,
                conversation: IMConversation(questions: questions, directory: directory, state: state, clock: clock), logger: Logger(label: "test"),
                clock: clock)
            let asked = try await questions.ask(QuestionDraft(asker: .employee("asker"), topic: "terraform", text: "How do we import buckets?"))
            #expect(asked.deliveredTo == 2)
            for user in ["s1", "s2"] {
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

    @Test func aPlainReplyToTheQuestionStillAnswersAtOnce() async throws {
        try await withQuestion { adapter, question in
            try await adapter.receive(
                "!r2:fake", Self.message(from: "@s2:fake", "terraform import", relatesTo: #"{"m.in_reply_to":{"event_id":"$q-s2"}}"#))
            #expect(adapter.said(in: "!r2:fake") == ["Thanks! Your answer was relayed to the asker (answer 1)."])
            #expect(try await adapter.answers(question) == ["terraform import"])
        }
    }
}
