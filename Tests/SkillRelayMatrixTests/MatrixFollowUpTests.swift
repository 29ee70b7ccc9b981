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

/// Follow-ups in Matrix: a reply to the relayed answer reaches the specialist as a reply to their question, and the
/// specialist's reply (plain or Element's "reply in thread") reaches the asker as a reply to the answer. Against the
/// in-process fake homeserver (a fake, not Synapse) and the real SQLite stores.
@Suite struct MatrixFollowUpTests {
    static let bot = "@bot:fake"

    struct World {
        let fake: FakeMatrixHomeserver
        let sync: MatrixSyncService
        let dispatcher: OutboxDispatcher
        let questions: QuestionService

        func receive(in room: String, _ event: String) async throws {
            try await sync.receive(timeline: [event], in: room, bot: MatrixFollowUpTests.bot)
        }

        /// Sends what the outbox holds and records the sent messages' event ids.
        func flush() async throws {
            try await dispatcher.drain()
            await dispatcher.idle()
            try await dispatcher.drain()
        }

        /// The event id the fake gave the last message sent to `room` whose text starts with `prefix`.
        func sentEvent(in room: String, startingWith prefix: String) throws -> String {
            let sent = fake.sent
            let index = try #require(sent.lastIndex { $0.room == room && $0.body.hasPrefix(prefix) }, "nothing '\(prefix)' in \(sent)")
            return "$sent\(index + 1):fake"
        }
    }

    static func message(_ id: String, from sender: String, _ body: String, relatesTo: String? = nil) -> String {
        let relation = relatesTo.map { #","m.relates_to":\#($0)"# } ?? ""
        return #"{"type":"m.room.message","event_id":"\#(id)","sender":"\#(sender)","content":{"msgtype":"m.text","body":"\#(body)"\#(relation)}}"#
    }

    func withWorld(_ body: @Sendable @escaping (World) async throws -> Void) async throws {
        let fake = FakeMatrixHomeserver()
        try await fake.serve { matrix in
            let company = try await TerraformDirectory(
                people: [
                    Employee(handle: "asker", name: "Ada Asker", email: "asker@example.org", imID: "@asker:fake"),
                    Employee(handle: "s1", name: "Sam Special", email: "s1@example.org", imID: "@s1:fake"),
                ], specialists: ["s1"], level: 4)
            let (clock, database, directory) = (company.clock, company.database, company.directory)
            let state = SQLiteIMState(database: database, clock: clock)
            try await state.setConversation("!asker:fake", with: "@asker:fake")
            try await state.setConversation("!s1:fake", with: "@s1:fake")
            let rooms = MatrixRooms(client: matrix, state: state, clock: clock)
            let store = SQLiteQuestionStore(database: database, clock: clock)
            let questions = try QuestionService(
                store: store, presence: FakePresenceSource(["s1": .available]), settings: QuestionSettings(), clock: clock)
            let sync = MatrixSyncService(
                client: matrix, state: state, seal: MatrixKeySeal(secret: "test pickle key, not secret"), rooms: rooms,
                conversation: IMConversation(questions: questions, directory: directory, state: state),
                logger: Logger(label: "test"), clock: clock)
            let dispatcher = OutboxDispatcher(
                store: store, messenger: MatrixMessenger(client: matrix, rooms: rooms), callbacks: FakeCallbackSender(), clock: clock)
            try await body(World(fake: fake, sync: sync, dispatcher: dispatcher, questions: questions))
        }
    }

    @Test func repliesBothWaysAreFollowUpsRelayedAsReplies() async throws {
        try await withWorld { world in
            // The asker asks in their room; the question reaches s1's room.
            try await world.receive(in: "!asker:fake", Self.message("$ask", from: "@asker:fake", "ask terraform: How do we import buckets?"))
            try await world.flush()
            let question = try world.sentEvent(in: "!s1:fake", startingWith: "A colleague asks about Terraform")
            // s1 answers by replying; the answer reaches the asker's room.
            try await world.receive(
                in: "!s1:fake",
                Self.message("$answer", from: "@s1:fake", "terraform import", relatesTo: #"{"m.in_reply_to":{"event_id":"\#(question)"}}"#))
            try await world.flush()
            let answer = try world.sentEvent(in: "!asker:fake", startingWith: "Answer 1 of 3")

            // The asker replies to the answer: s1 gets it as a reply to the question in their room.
            try await world.receive(
                in: "!asker:fake",
                Self.message(
                    "$f1", from: "@asker:fake", "> quoted\\n\\nFor every bucket?", relatesTo: #"{"m.in_reply_to":{"event_id":"\#(answer)"}}"#))
            try await world.flush()
            #expect(
                world.fake.sent.contains { $0.room == "!asker:fake" && $0.body == "Sent to the specialist of answer 1; their reply will come here." })
            let toSpecialist = try world.sentEvent(in: "!s1:fake", startingWith: "Follow-up from the asker")
            #expect(world.fake.replies[toSpecialist] == question)
            #expect(world.fake.sent.last { $0.room == "!s1:fake" }?.body.contains("For every bucket?") == true)

            // s1 answers with Element's "reply in thread" on their question: the thread's root is the question, the
            // reply falls back to the follow-up. The asker gets it as a reply to the answer.
            try await world.receive(
                in: "!s1:fake",
                Self.message(
                    "$f2", from: "@s1:fake", "Yes, one import block each.",
                    relatesTo:
                        #"{"rel_type":"m.thread","event_id":"\#(question)","is_falling_back":true,"m.in_reply_to":{"event_id":"\#(toSpecialist)"}}"#
                ))
            try await world.flush()
            let toAsker = try world.sentEvent(in: "!asker:fake", startingWith: "Follow-up from specialist 1 on answer 1 about Terraform")
            #expect(world.fake.replies[toAsker] == answer)
            // Nothing the asker's room received names s1, and nothing s1's room received names the asker.
            for (room, body) in world.fake.sent {
                let traces = room == "!asker:fake" ? ["s1", "Sam Special", "@s1:fake"] : ["asker:fake", "Ada Asker", "asker@example.org"]
                for trace in traces { #expect(!body.contains(trace), "\(room) got '\(trace)' in \(body)") }
            }

            // The follow-up to the asker is a reply too: replying to it continues the same thread.
            try await world.receive(
                in: "!asker:fake", Self.message("$f3", from: "@asker:fake", "Thanks!", relatesTo: #"{"m.in_reply_to":{"event_id":"\#(toAsker)"}}"#))
            try await world.flush()
            let last = try world.sentEvent(in: "!s1:fake", startingWith: "Follow-up from the asker")
            #expect(world.fake.replies[last] == toSpecialist)
        }
    }
}
