import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import SkillRelayDomain
import SkillRelayStore
import SkillRelayTestSupport
import Testing

@testable import SkillRelayMatrix

/// Two people who agreed to reveal themselves get a direct room of their own, against an in-process fake homeserver.
@Suite struct MatrixIntroductionTests {
    static let introduction = Introduction(
        questionID: "q_1", rank: 2, deliveryID: "d_1", topic: TopicReference(slug: "kubernetes", name: "Kubernetes"),
        asker: Recipient(handle: "ana", imID: "@ana:fake"), askerName: "Ana Lima", specialist: Recipient(handle: "sam", imID: "@sam:fake"),
        specialistName: "Sam Ortiz")

    func withMessenger(_ body: @Sendable @escaping (FakeMatrixHomeserver, MatrixMessenger) async throws -> Void) async throws {
        let fake = FakeMatrixHomeserver()
        try await fake.serve { matrix in
            let database = try AppDatabase.inMemory()
            let rooms = MatrixRooms(client: matrix, state: SQLiteIMState(database: database, clock: TestClock()), clock: TestClock())
            try await body(fake, MatrixMessenger(client: matrix, rooms: rooms))
        }
    }

    @Test func anIntroductionMakesADirectRoomInvitingBothWhichTheBotKeepsAliveInSilence() async throws {
        try await withMessenger { fake, messenger in
            let room = try await messenger.introduce(Self.introduction, key: "skillrelay-7")
            #expect(room == "!room1:fake")
            let created = try #require(fake.createdRooms.first)
            #expect(fake.createdRooms.count == 1)
            #expect(created.invite == ["@ana:fake", "@sam:fake"] && created.isDirect)
            #expect(created.name?.contains("Kubernetes") == true)
            #expect(created.topic?.contains("Ana Lima") == true && created.topic?.contains("Sam Ortiz") == true)
            // The bot's rooms here are not encrypted (no encryption device): nor is theirs.
            #expect(created.encryption == nil)
            // A room everyone left cannot be joined: the bot stays until one of them joins (the sync loop then leaves it),
            // and remembers the room so that it says nothing there.
            #expect(fake.left.isEmpty)
            #expect(try await messenger.rooms.isIntroduction("!room1:fake"))
        }
    }

    @Test func whereTheBotsRoomsAreEncryptedSoIsTheIntroductionRoom() async throws {
        let fake = FakeMatrixHomeserver()
        try await fake.serve { matrix in
            _ = try await matrix.createIntroductionRoom(inviting: ["@ana:fake", "@sam:fake"], name: "n", topic: "t", encrypted: true)
            #expect(fake.createdRooms.first?.encryption == MatrixEncryption.megolm)
        }
    }

    @Test func withoutBothIMIdsThereIsNoRoomToMake() async throws {
        try await withMessenger { fake, messenger in
            var introduction = Self.introduction
            introduction.specialist.imID = nil
            let room = try await messenger.introduce(introduction, key: "skillrelay-8")
            #expect(room == nil)
            #expect(fake.createRoomRequests == 0)
        }
    }
}
