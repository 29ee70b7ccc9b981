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

/// People who leave, decline or are removed from their room with the bot, as the sync loop reports it, against an
/// in-process fake homeserver and the real SQLite state; the clock is a test clock, so "a day later" is one call.
@Suite struct MatrixRoomMembershipTests {
    static let bot = "@bot:fake"

    /// The adapter's parts on one fake homeserver and one in-memory database with three tagged specialists,
    /// `@s1:fake`…`@s3:fake`, and an admin.
    struct Adapter {
        let fake: FakeMatrixHomeserver
        let clock: TestClock
        let state: SQLiteIMState
        let directory: SQLiteDirectoryStore
        let rooms: MatrixRooms
        let presence: MatrixPresenceSource
        let messenger: MatrixMessenger
        let sync: MatrixSyncService

        /// Handles one sync batch as the loop would.
        func receive(_ json: String) async throws {
            try await sync.handle(
                try JSONDecoder().decode(SyncResponse.self, from: Data(json.utf8)), bot: MatrixRoomMembershipTests.bot, actOnMessages: true)
        }

        /// Their presence, once any invitation the lookup started in the background is done.
        func presence(of user: String) async -> Presence? {
            let said = await presence.presence(of: [PresenceQuery(handle: user, imID: "@\(user):fake")])[user]
            await rooms.invitationsSettled()
            return said
        }

        /// Who the listing says is unreachable, with why.
        func unreachable() async throws -> [String: UnreachablePeople.Reason] {
            let listed = try await directory.unreachable(by: Caller(identity: .employee("admin"), isAdmin: true), limit: 50)
            return Dictionary(uniqueKeysWithValues: listed.people.map { ($0.handle, $0.reason) })
        }
    }

    func withAdapter(_ body: @Sendable @escaping (Adapter) async throws -> Void) async throws {
        let fake = FakeMatrixHomeserver()
        try await fake.serve { matrix in
            let company = try await TerraformDirectory(
                people: [Employee(handle: "admin", name: "Admin", email: "admin@example.org", isAdmin: true)]
                    + ["s1", "s2", "s3"].map(TerraformDirectory.onIM),
                specialists: ["s1", "s2", "s3"])
            let (clock, database, directory) = (company.clock, company.database, company.directory)
            let state = SQLiteIMState(database: database, clock: clock)
            let rooms = MatrixRooms(client: matrix, state: state, clock: clock)
            let questions = try QuestionService(
                store: SQLiteQuestionStore(database: database, clock: clock), presence: FakePresenceSource(), settings: QuestionSettings(),
                clock: clock)
            let sync = MatrixSyncService(
                client: matrix, state: state, seal: MatrixKeySeal(secret: "test pickle key, not secret"), rooms: rooms,
                conversation: IMConversation(questions: questions, directory: directory, state: state),
                logger: Logger(label: "test"), clock: clock)
            try await body(
                Adapter(
                    fake: fake, clock: clock, state: state, directory: directory, rooms: rooms,
                    // A generous deadline: no test here is about the 1 s one, and on CI's busy cores the fake can take longer.
                    presence: MatrixPresenceSource(client: matrix, rooms: rooms, timeout: .seconds(60), clock: clock),
                    messenger: MatrixMessenger(client: matrix, rooms: rooms),
                    sync: sync))
        }
    }

    /// A sync batch with these timeline events in one joined room.
    static func timeline(_ room: String, _ events: String...) -> String {
        #"{"next_batch":"s2","rooms":{"join":{"\#(room)":{"timeline":{"events":[\#(events.joined(separator: ","))]}}}}}"#
    }

    /// An `m.room.member` event: `user`'s membership, sent by `sender` (by themselves unless said).
    static func member(_ user: String, _ membership: String, sender: String? = nil) -> String {
        #"{"type":"m.room.member","event_id":"$\#(UUID().uuidString)","sender":"\#(sender ?? user)","state_key":"\#(user)","content":{"membership":"\#(membership)"}}"#
    }

    static func question(to user: String) -> QuestionMessage {
        QuestionMessage(
            deliveryID: "d_1", recipient: Recipient(handle: user, imID: "@\(user):fake"), topic: TopicReference(slug: "terraform", name: "Terraform"),
            text: "How do we import existing buckets?", maxAnswers: 3)
    }

    @Test func aPersonWhoLeavesIsForgottenInTheDatabaseAndInMemoryAndTheBotLeavesToo() async throws {
        try await withAdapter { adapter in
            // Given s1 in their room, which the rooms have looked up (and keep in memory)
            try await adapter.state.setConversation("!r1:fake", with: "@s1:fake")
            adapter.fake.set("@s1:fake", .presence("online"))
            #expect(try await adapter.rooms.room(for: "@s1:fake") == "!r1:fake")
            #expect(await adapter.presence(of: "s1") == .available)
            #expect(try await adapter.unreachable()["s1"] == nil)
            // When they leave it
            try await adapter.receive(Self.timeline("!r1:fake", Self.member("@s1:fake", "leave")))
            // Then it is gone from the store and from memory, the bot left it, and the listing says so
            #expect(try await adapter.state.conversation(with: "@s1:fake") == nil)
            #expect(try await adapter.rooms.contact(of: "@s1:fake").conversation == nil)
            #expect(adapter.fake.left == ["!r1:fake"] && adapter.fake.forgotten == ["!r1:fake"])
            #expect(try await adapter.unreachable()["s1"] == .left)
            // And the next time SkillRelay needs them they are not available, and invited to a new room
            let requests = adapter.fake.presenceRequests
            #expect(await adapter.presence(of: "s1") == .unknown)
            #expect(adapter.fake.presenceRequests == requests)
            #expect(adapter.fake.invited == ["@s1:fake"])
            #expect(try await adapter.unreachable()["s1"] == .invited)
            // Once they join it, they are asked again
            try await adapter.receive(Self.timeline("!room1:fake", Self.member("@s1:fake", "join")))
            #expect(await adapter.presence(of: "s1") == .available)
            #expect(try await adapter.unreachable()["s1"] == nil)
        }
    }

    @Test func aKickOrABanForgetsTheRoomAsRemoved() async throws {
        try await withAdapter { adapter in
            try await adapter.state.setConversation("!r1:fake", with: "@s1:fake")
            try await adapter.state.setConversation("!r2:fake", with: "@s2:fake")
            try await adapter.receive(Self.timeline("!r1:fake", Self.member("@s1:fake", "leave", sender: "@admin:fake")))
            try await adapter.receive(Self.timeline("!r2:fake", Self.member("@s2:fake", "ban", sender: "@admin:fake")))
            #expect(try await adapter.state.conversation(with: "@s1:fake") == nil)
            #expect(try await adapter.state.conversation(with: "@s2:fake") == nil)
            #expect(Set(adapter.fake.left) == ["!r1:fake", "!r2:fake"])
            let unreachable = try await adapter.unreachable()
            #expect(unreachable["s1"] == .removed && unreachable["s2"] == .removed)
        }
    }

    @Test func aDeclinedInvitationIsRespectedForADay() async throws {
        try await withAdapter { adapter in
            adapter.fake.set("@s1:fake", .presence("online"))
            // Given s1, never invited: the first presence lookup invites them, and they are not available yet
            #expect(await adapter.presence(of: "s1") == .unknown)
            #expect(adapter.fake.invited == ["@s1:fake"])
            // When they decline (their membership goes from invite to leave)
            try await adapter.receive(Self.timeline("!room1:fake", Self.member("@s1:fake", "leave")))
            #expect(try await adapter.unreachable()["s1"] == .refused)
            #expect(adapter.fake.left == ["!room1:fake"])
            // Then for a day they are neither asked nor invited again, however often they are needed
            for _ in 0..<3 {
                adapter.clock.advance(by: 3600)
                #expect(await adapter.presence(of: "s1") == .unknown)
            }
            #expect(adapter.fake.invited == ["@s1:fake"] && adapter.fake.presenceRequests == 0)
            // And a message for them is not dropped in silence: the send fails (the outbox keeps it and says why)
            await #expect(throws: MatrixRooms.Unreachable.self) {
                _ = try await adapter.messenger.deliverQuestion(Self.question(to: "s1"), key: "k1")
            }
            #expect(adapter.fake.sent.isEmpty)
            // A day after the invitation they are invited once more
            adapter.clock.advance(by: 21 * 3600 - 1)
            #expect(await adapter.presence(of: "s1") == .unknown)
            #expect(adapter.fake.invited == ["@s1:fake"])
            adapter.clock.advance(by: 1)
            #expect(await adapter.presence(of: "s1") == .unknown)
            #expect(await adapter.presence(of: "s1") == .unknown)
            #expect(adapter.fake.invited == ["@s1:fake", "@s1:fake"])
            // And once they join, they are available and questions reach them there
            try await adapter.receive(Self.timeline("!room2:fake", Self.member("@s1:fake", "join")))
            #expect(await adapter.presence(of: "s1") == .available)
            _ = try await adapter.messenger.deliverQuestion(Self.question(to: "s1"), key: "k2")
            #expect(adapter.fake.sent.map(\.room) == ["!room2:fake"])
        }
    }

    @Test func anInvitationTheServerRefusesIsNotRetriedForADay() async throws {
        try await withAdapter { adapter in
            adapter.fake.refuseInvitations(to: "@s3:fake")
            #expect(await adapter.presence(of: "s3") == .unknown)
            #expect(await adapter.presence(of: "s3") == .unknown)
            #expect(adapter.fake.createRoomRequests == 1 && adapter.fake.roomsCreated == 0)
            let reasons = try await adapter.unreachable()
            #expect(reasons["s3"] == .inviteFailed && reasons["s2"] == .notInvited)
            adapter.clock.advance(by: 86_400)
            #expect(await adapter.presence(of: "s3") == .unknown)
            #expect(adapter.fake.createRoomRequests == 2)
        }
    }

    @Test func someoneWhoOpensTheirOwnRoomAfterLeavingGetsItAndTheUnjoinedOneIsLeft() async throws {
        try await withAdapter { adapter in
            adapter.fake.set("@s1:fake", .presence("online"))
            // The bot invited s1 (a room they never joined)
            #expect(try await adapter.rooms.room(for: "@s1:fake") == "!room1:fake")
            // They open a room of their own with the bot instead
            try await adapter.receive(
                #"{"next_batch":"s2","rooms":{"invite":{"!mine:fake":{"invite_state":{"events":["#
                    + #"{"type":"m.room.member","sender":"@s1:fake","state_key":"\#(Self.bot)"}]}}}}}"#)
            #expect(adapter.fake.joinedByBot == ["!mine:fake"])
            #expect(adapter.fake.left == ["!room1:fake"])
            #expect(try await adapter.rooms.room(for: "@s1:fake") == "!mine:fake")
            #expect(await adapter.presence(of: "s1") == .available)
        }
    }

    @Test func membershipElsewhereChangesNothing() async throws {
        try await withAdapter { adapter in
            try await adapter.state.setConversation("!r1:fake", with: "@s1:fake")
            // s1 leaving some other room, s2 leaving s1's room, and the bot's own membership: none of them s1's room's end
            try await adapter.receive(Self.timeline("!group:fake", Self.member("@s1:fake", "leave")))
            try await adapter.receive(Self.timeline("!r1:fake", Self.member("@s2:fake", "leave"), Self.member(Self.bot, "join")))
            #expect(try await adapter.state.conversation(with: "@s1:fake") == "!r1:fake")
            #expect(adapter.fake.left.isEmpty)
        }
    }

    @Test func theBotRemovedFromAPersonsRoomForgetsIt() async throws {
        try await withAdapter { adapter in
            try await adapter.state.setConversation("!r1:fake", with: "@s1:fake")
            _ = try await adapter.rooms.room(for: "@s1:fake")
            try await adapter.receive(#"{"next_batch":"s2","rooms":{"leave":{"!r1:fake":{"timeline":{"events":[]}}}}}"#)
            #expect(try await adapter.rooms.contact(of: "@s1:fake").conversation == nil)
            #expect(try await adapter.unreachable()["s1"] == .removed)
        }
    }

    @Test func aLeaveInTheStateBeforeAGapCountsToo() async throws {
        try await withAdapter { adapter in
            try await adapter.state.setConversation("!r1:fake", with: "@s1:fake")
            // A limited timeline: the leave is in the state that precedes it
            try await adapter.receive(
                #"{"next_batch":"s2","rooms":{"join":{"!r1:fake":{"state":{"events":[\#(Self.member("@s1:fake", "leave"))]},"timeline":{"events":[]}}}}}"#
            )
            #expect(try await adapter.state.conversation(with: "@s1:fake") == nil)
        }
    }

    @Test func theSyncFilterLetsMembershipAndEncryptionThrough() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = try #require(try JSONSerialization.jsonObject(with: encoder.encode(SyncFilter())) as? [String: Any])
        let room = try #require(json["room"] as? [String: Any])
        // Encrypted messages, and whether a room is encrypted, as well as messages and memberships.
        #expect(
            (room["timeline"] as? [String: Any])?["types"] as? [String] == [
                "m.room.message", "m.room.member", "m.room.encrypted", "m.room.encryption",
            ])
        #expect((room["state"] as? [String: Any])?["types"] as? [String] == ["m.room.member", "m.room.encryption"])
        // To-device messages (room keys) are not filtered out.
        #expect(json["to_device"] == nil)
        #expect(room["include_leave"] as? Bool == true)
    }
}
