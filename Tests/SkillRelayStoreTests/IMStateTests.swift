import Foundation
import GRDB
import SkillRelayDomain
import SkillRelayTestSupport
import Testing

@testable import SkillRelayStore

/// The IM adapter's state of each person's room with the bot: invited, joined, gone.
@Suite struct IMStateTests {
    let clock = TestClock()

    @Test(arguments: StoreBackend.available) func anInvitationIsPendingUntilThePersonJoinsTheirRoom(backend: StoreBackend) async throws {
        let database = try await TestDatabase.empty(backend)
        defer { Task { await database.close() } }
        let state = database.imState(clock: clock)
        let invited = clock.now()
        try await state.setInvitation("!r1:x", to: "@a:x", at: invited)
        #expect(try await state.contacts(["@a:x"]) == ["@a:x": IMContact(conversation: "!r1:x", joined: false, invitedAt: invited)])
        // A join elsewhere is not a join of their room
        try await state.setJoined("!other:x", by: "@a:x")
        #expect(try await state.contacts(["@a:x"])["@a:x"]?.joined == false)
        try await state.setJoined("!r1:x", by: "@a:x")
        #expect(try await state.contacts(["@a:x"])["@a:x"] == IMContact(conversation: "!r1:x", joined: true, invitedAt: invited))
        #expect(try await state.conversation(with: "@a:x") == "!r1:x")
    }

    @Test(arguments: StoreBackend.available) func forgettingARoomKeepsWhenThePersonWasInvitedAndTouchesOnlyTheirOwn(backend: StoreBackend)
        async throws
    {
        let database = try await TestDatabase.empty(backend)
        defer { Task { await database.close() } }
        let state = database.imState(clock: clock)
        let invited = clock.now()
        try await state.setInvitation("!r1:x", to: "@a:x", at: invited)
        try await state.setJoined("!r1:x", by: "@a:x")
        // Someone else leaving a's room does not end it
        #expect(try await state.forgetConversation("!r1:x", of: "@b:x", departure: .left, at: clock.now()) == nil)
        #expect(try await state.conversation(with: "@a:x") == "!r1:x")
        clock.advance(by: 60)
        #expect(try await state.forgetConversation("!r1:x", of: "@a:x", departure: .left, at: clock.now()) == "@a:x")
        #expect(try await state.contacts(["@a:x"]) == ["@a:x": IMContact(conversation: nil, joined: false, invitedAt: invited)])
        // Twice is once (a replayed sync)
        #expect(try await state.forgetConversation("!r1:x", of: "@a:x", departure: .left, at: clock.now()) == nil)
        // By the room alone: whoever's it was
        try await state.setConversation("!r2:x", with: "@b:x")
        #expect(try await state.forgetConversation("!r2:x", of: nil, departure: .removed, at: clock.now()) == "@b:x")
    }

    @Test(arguments: StoreBackend.available) func anInvitationTheServerRefusedCountsAsMadeAndStrangersAreKnownAsSuch(backend: StoreBackend)
        async throws
    {
        let database = try await TestDatabase.empty(backend)
        defer { Task { await database.close() } }
        let state = database.imState(clock: clock)
        try await state.setInvitation(nil, to: "@c:x", at: clock.now())
        let contacts = try await state.contacts(["@c:x", "@d:x", "@d:x"])
        #expect(contacts == ["@c:x": IMContact(conversation: nil, joined: false, invitedAt: clock.now()), "@d:x": .stranger])
        #expect(try await state.contacts([]).isEmpty)
    }

    @Test func aRoomStoredBeforeMembershipWasFollowedCountsAsJoined() async throws {
        let queue = try DatabaseQueue(configuration: AppDatabase.makeConfiguration())
        try AppDatabase.migrator.migrate(queue, upTo: "v6 outbox due by id")
        try await queue.write { db in try db.execute(sql: "INSERT INTO imConversation (imId, conversation) VALUES ('@a:x', '!old:x')") }
        let state = SQLiteIMState(database: try AppDatabase(queue), clock: clock)
        #expect(try await state.contacts(["@a:x"])["@a:x"] == IMContact(conversation: "!old:x", joined: true, invitedAt: nil))
    }

    @Test(arguments: StoreBackend.available) func sealedKeysAreWrittenAllOrNothingAndKeptByNamespace(backend: StoreBackend) async throws {
        let database = try await TestDatabase.empty(backend)
        defer { Task { await database.close() } }
        let state = database.imState(clock: clock)
        try await state.setSealedValues([
            IMKeyChange(namespace: "olm", key: "s1", value: Data([1])), IMKeyChange(namespace: "olm", key: "s2", value: Data([2])),
            IMKeyChange(namespace: "account", key: "@bot:x", value: Data([3])),
        ])
        #expect(try await state.sealedValues(namespace: "olm") == ["s1": Data([1]), "s2": Data([2])])
        #expect(try await state.sealedValue(namespace: "account", key: "@bot:x") == Data([3]))
        #expect(try await state.sealedValue(namespace: "account", key: "s1") == nil)
        // A replacement and a deletion in one write
        try await state.setSealedValues([
            IMKeyChange(namespace: "olm", key: "s1", value: Data([9])), IMKeyChange(namespace: "olm", key: "s2", value: nil),
        ])
        #expect(try await state.sealedValues(namespace: "olm") == ["s1": Data([9])])
    }
    @Test(arguments: StoreBackend.available) func whatAnEventIsOwedIsKeptWithItsHandlingAndOnlyByTheFirst(backend: StoreBackend)
        async throws
    {
        let database = try await TestDatabase.empty(backend)
        defer { Task { await database.close() } }
        let state = database.imState(clock: clock)
        let owed = [
            IMKeyChange(namespace: "owed", key: "r-$e1-0", value: Data([1])), IMKeyChange(namespace: "owed", key: "r-$e1-1", value: Data([2])),
        ]
        #expect(try await state.markHandled(event: "$e1", changing: owed))
        #expect(try await state.isHandled(event: "$e1"))
        #expect(try await state.sealedValues(namespace: "owed") == ["r-$e1-0": Data([1]), "r-$e1-1": Data([2])])
        // Handled again (a replay, or another instance): nothing it would owe is kept, and what was kept stays
        let again = [
            IMKeyChange(namespace: "owed", key: "r-$e1-0", value: Data([9])), IMKeyChange(namespace: "owed", key: "r-$e1-2", value: Data([3])),
        ]
        #expect(try await state.markHandled(event: "$e1", changing: again) == false)
        #expect(try await state.sealedValues(namespace: "owed") == ["r-$e1-0": Data([1]), "r-$e1-1": Data([2])])
        // Changes may delete too, in the same transaction
        #expect(try await state.markHandled(event: "$e2", changing: [IMKeyChange(namespace: "owed", key: "r-$e1-1", value: nil)]))
        #expect(try await state.sealedValues(namespace: "owed") == ["r-$e1-0": Data([1])])
    }

    @Test(arguments: StoreBackend.available) func anEventIsHandledOnceHoweverManyAskAtOnce(backend: StoreBackend) async throws {
        let database = try await TestDatabase.empty(backend)
        defer { Task { await database.close() } }
        let state = database.imState(clock: clock)
        #expect(try await state.isHandled(event: "$e1") == false)
        #expect(try await state.markHandled(event: "$e1"))
        #expect(try await state.isHandled(event: "$e1"))
        #expect(try await state.markHandled(event: "$e1") == false)
        #expect(try await state.isHandled(event: "$e0") == false)
        // Two instances reading one sync batch: each event is handled by exactly one of them.
        let events = (2...21).map { "$e\($0)" }
        let handled = try await withThrowingTaskGroup(of: [String].self) { group in
            for _ in 0..<2 {
                group.addTask {
                    var mine: [String] = []
                    for event in events {
                        if try await state.markHandled(event: event) { mine.append(event) }
                    }
                    return mine
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(handled.sorted() == events.sorted())
    }

    @Test(arguments: StoreBackend.available) func theInboundCursorMovesOnAndIntroductionRoomsAreKeptUntilClosed(backend: StoreBackend) async throws {
        let database = try await TestDatabase.empty(backend)
        defer { Task { await database.close() } }
        let state = database.imState(clock: clock)
        #expect(try await state.inboundCursor() == nil)
        try await state.setInboundCursor("s1_1")
        try await state.setInboundCursor("s2_7")
        #expect(try await state.inboundCursor() == "s2_7")
        #expect(try await state.introductionRooms().isEmpty)
        try await state.setIntroductionRoom("!intro1:x", open: true)
        try await state.setIntroductionRoom("!intro2:x", open: true)
        try await state.setIntroductionRoom("!intro1:x", open: false)
        #expect(try await state.introductionRooms() == ["!intro2:x"])
        // Kept apart from the sealed keys
        #expect(try await state.sealedValues(namespace: "olm").isEmpty)
    }
}
