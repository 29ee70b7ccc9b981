import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SkillRelayDomain
import SkillRelayOlm
import SkillRelayStore
import SkillRelayTestSupport
import Testing

@testable import SkillRelayMatrix

/// The bot's end-to-end encryption between devices that speak it: the bot and a person's devices, each a
/// `MatrixEncryption` with its own store, talking through a fake key server (`FakeKeyServer`). What real clients make
/// of it (matrix-nio on libolm, against Synapse) is the integration story's part, Tests/matrix-e2e.
@Suite struct MatrixEncryptionTests {
    static let room = "!room:fake"
    static let secret = "a-pickle-key-for-tests"

    struct World: Sendable {
        let fake: FakeKeyServer
        let base: String
        let clock: TestClock
        let botStore: SQLiteIMState
        let bot: MatrixEncryption
        let ann: MatrixEncryption

        /// A device of `user` with its own store, started (keys made and uploaded).
        func device(_ user: String, _ deviceID: String) async throws -> MatrixEncryption {
            try await MatrixEncryptionTests.device(user, deviceID, fake: fake, base: base, clock: clock)
        }

        /// What `from` writes, as `to` reads it after taking its to-device inbox (as its next sync would).
        func deliver(_ content: JSONValue, from sender: String, as eventID: String, to reader: MatrixEncryption, user: String, device: String)
            async throws -> MatrixEncryption.Decryption
        {
            _ = await reader.receive(toDevice: fake.takeInbox(of: user, device: device))
            let event = RoomEvent(type: "m.room.encrypted", event_id: eventID, sender: sender, origin_server_ts: 1, rawContent: content)
            return try await reader.decrypt(event, in: MatrixEncryptionTests.room)
        }
    }

    /// A device of `user` with its own store (or `store`), started: keys made, sealed, stored and uploaded.
    static func device(
        _ user: String, _ deviceID: String, fake: FakeKeyServer, base: String, clock: TestClock, store: SQLiteIMState? = nil
    ) async throws -> MatrixEncryption {
        let token = "\(user)|\(deviceID)"
        fake.addDevice(token: token, userID: user, deviceID: deviceID)
        let device = MatrixEncryption(
            client: MatrixClient(http: .shared, homeserver: base, accessToken: token),
            store: try store ?? SQLiteIMState(database: AppDatabase.inMemory(), clock: clock), seal: MatrixKeySeal(secret: secret),
            logger: Logger(label: "test"), clock: clock, keyWait: 20)
        try await device.start(userID: user, deviceID: deviceID)
        return device
    }

    static func text(_ body: String) -> JSONValue { .object(["msgtype": .string("m.text"), "body": .string(body)]) }

    static func body(_ decryption: MatrixEncryption.Decryption) -> String? {
        guard case .read(let event) = decryption, event.type == "m.room.message" else { return nil }
        return event.content?.body
    }

    func withWorld(_ body: @Sendable @escaping (World) async throws -> Void) async throws {
        let fake = FakeKeyServer()
        let app = Application(router: fake.router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let clock = TestClock()
            let base = "http://127.0.0.1:\(port)"
            let botStore = SQLiteIMState(database: try AppDatabase.inMemory(), clock: clock)
            let world = World(
                fake: fake, base: base, clock: clock, botStore: botStore,
                bot: try await Self.device("@bot:fake", "BOT", fake: fake, base: base, clock: clock, store: botStore),
                ann: try await Self.device("@ann:fake", "LAPTOP", fake: fake, base: base, clock: clock))
            fake.setRoom(Self.room, members: ["@bot:fake", "@ann:fake"])
            try await body(world)
        }
    }

    @Test func whatTheBotWritesIsReadOnlyByTheMembersDevicesAndTheirAnswersByTheBot() async throws {
        try await withWorld { world in
            // The bot writes: the room key goes to Ann's device over Olm, the message in Megolm, nothing of it in clear
            let first = try await world.bot.encrypt(type: "m.room.message", content: Self.text("Which CNI do we run?"), in: Self.room)
            #expect(first["algorithm"]?.stringValue == MatrixEncryption.megolm)
            // (The whole sentence: base64 has no spaces, while three letters of it turn up in ciphertext now and then.)
            #expect(!first.canonical.contains("Which CNI do we run?") && first["body"] == nil)
            let read = try await world.deliver(first, from: "@bot:fake", as: "$q1", to: world.ann, user: "@ann:fake", device: "LAPTOP")
            #expect(Self.body(read) == "Which CNI do we run?")

            // Its next message reuses the session: no second room key
            let second = try await world.bot.encrypt(type: "m.room.message", content: Self.text("Thanks!"), in: Self.room)
            #expect(second["session_id"] == first["session_id"])
            #expect(world.fake.takeInbox(of: "@ann:fake", device: "LAPTOP").isEmpty)
            #expect(
                Self.body(try await world.deliver(second, from: "@bot:fake", as: "$q2", to: world.ann, user: "@ann:fake", device: "LAPTOP"))
                    == "Thanks!")

            // Ann answers: her session reaches the bot's device, and the bot reads her
            let answer = try await world.ann.encrypt(type: "m.room.message", content: Self.text("Cilium."), in: Self.room)
            let answered = try await world.deliver(answer, from: "@ann:fake", as: "$a1", to: world.bot, user: "@bot:fake", device: "BOT")
            #expect(Self.body(answered) == "Cilium.")
            // The same event again (a sync replayed) reads again; the same ciphertext under another id is a replay
            let again = RoomEvent(type: "m.room.encrypted", event_id: "$a1", sender: "@ann:fake", origin_server_ts: 1, rawContent: answer)
            #expect(Self.body(try await world.bot.decrypt(again, in: Self.room)) == "Cilium.")
            let replay = RoomEvent(type: "m.room.encrypted", event_id: "$a1-again", sender: "@ann:fake", origin_server_ts: 2, rawContent: answer)
            guard case .refused = try await world.bot.decrypt(replay, in: Self.room) else {
                Issue.record("a replayed message was read")
                return
            }
            // Someone else cannot pass off Ann's session as theirs
            let forged = RoomEvent(type: "m.room.encrypted", event_id: "$forged", sender: "@eve:fake", origin_server_ts: 3, rawContent: answer)
            guard case .refused = try await world.bot.decrypt(forged, in: Self.room) else {
                Issue.record("a message was read as someone's who did not share its key")
                return
            }
        }
    }

    @Test func aDepartureRotatesTheSessionAndANewDeviceGetsTheCurrentOne() async throws {
        try await withWorld { world in
            let bob = try await world.device("@bob:fake", "DESKTOP")
            world.fake.setRoom(Self.room, members: ["@bot:fake", "@ann:fake", "@bob:fake"])
            let before = try await world.bot.encrypt(type: "m.room.message", content: Self.text("one"), in: Self.room)
            #expect(Self.body(try await world.deliver(before, from: "@bot:fake", as: "$1", to: bob, user: "@bob:fake", device: "DESKTOP")) == "one")

            // Bob leaves: the next message is in a new session Bob never gets
            world.fake.setRoom(Self.room, members: ["@bot:fake", "@ann:fake"])
            await world.bot.membershipChanged(in: Self.room)
            let after = try await world.bot.encrypt(type: "m.room.message", content: Self.text("two"), in: Self.room)
            #expect(after["session_id"] != before["session_id"])
            #expect(world.fake.takeInbox(of: "@bob:fake", device: "DESKTOP").isEmpty)
            #expect(
                Self.body(try await world.deliver(after, from: "@bot:fake", as: "$2", to: world.ann, user: "@ann:fake", device: "LAPTOP")) == "two")

            // Ann adds a phone: it gets the current session, which is not rotated for a newcomer
            let phone = try await world.device("@ann:fake", "PHONE")
            await world.bot.devicesChanged(of: ["@ann:fake"])
            let third = try await world.bot.encrypt(type: "m.room.message", content: Self.text("three"), in: Self.room)
            #expect(third["session_id"] == after["session_id"])
            #expect(Self.body(try await world.deliver(third, from: "@bot:fake", as: "$3", to: phone, user: "@ann:fake", device: "PHONE")) == "three")
        }
    }

    @Test func aMessageWaitsForItsKeyAsksTheSenderForItAndIsOwnedUpToWhenItNeverComes() async throws {
        try await withWorld { world in
            // Ann's message arrives before her room key does: it waits, and the bot asks her devices for the key
            let early = try await world.ann.encrypt(type: "m.room.message", content: Self.text("ask k8s: drain?"), in: Self.room)
            let keys = world.fake.takeInbox(of: "@bot:fake", device: "BOT")
            let event = RoomEvent(type: "m.room.encrypted", event_id: "$early", sender: "@ann:fake", origin_server_ts: 1, rawContent: early)
            guard case .waiting = try await world.bot.decrypt(event, in: Self.room) else {
                Issue.record("a message without its key was not kept waiting")
                return
            }
            let request = try #require(world.fake.takeInbox(of: "@ann:fake", device: "LAPTOP").first)
            #expect(request.type == "m.room_key_request")
            #expect(request.content["action"]?.stringValue == "request")
            #expect(request.content["body"]?["session_id"] == early["session_id"])
            // The key arrives: the waiting message is read, once
            let ready = await world.bot.receive(toDevice: keys)
            #expect(ready.map(\.event.event_id) == ["$early"])
            #expect(ready.first?.event.content?.body == "ask k8s: drain?")
            #expect(try await world.bot.overdue().isEmpty)

            // A message whose key never comes (Ann's session with the bot left out of the room): owned up to after 20 s
            world.fake.setRoom(Self.room, members: ["@ann:fake"])
            await world.ann.membershipChanged(in: Self.room)
            let lost = try await world.ann.encrypt(type: "m.room.message", content: Self.text("lost"), in: Self.room)
            world.fake.setRoom(Self.room, members: ["@bot:fake", "@ann:fake"])
            let lostEvent = RoomEvent(type: "m.room.encrypted", event_id: "$lost", sender: "@ann:fake", origin_server_ts: 2, rawContent: lost)
            guard case .waiting = try await world.bot.decrypt(lostEvent, in: Self.room) else {
                Issue.record("a message without its key was not kept waiting")
                return
            }
            #expect(await world.bot.nextDeadline() == world.clock.now().addingTimeInterval(20))
            world.clock.advance(by: 19)
            #expect(try await world.bot.overdue().isEmpty)
            world.clock.advance(by: 1)
            let overdue = try await world.bot.overdue()
            #expect(overdue.map(\.eventID) == ["$lost"] && overdue.first?.sender == "@ann:fake" && overdue.first?.room == Self.room)
            // Until the sender was told, it stays due; a failed notice is tried again 30 s later, not on every sync
            await world.bot.noticeFailed(for: "$lost")
            #expect(try await world.bot.overdue().isEmpty)
            #expect(await world.bot.nextDeadline() == world.clock.now().addingTimeInterval(30))
            world.clock.advance(by: 30)
            #expect(try await world.bot.overdue().map(\.eventID) == ["$lost"])
            try await world.bot.gaveUp(on: "$lost")
            #expect(try await world.bot.overdue().isEmpty)
            #expect(await world.bot.nextDeadline() == nil)
        }
    }

    @Test func theBotsKeysAndSessionsSurviveARestartAndOpenOnlyWithTheirPickleKey() async throws {
        try await withWorld { world in
            let first = try await world.bot.encrypt(type: "m.room.message", content: Self.text("before"), in: Self.room)
            _ = try await world.deliver(first, from: "@bot:fake", as: "$1", to: world.ann, user: "@ann:fake", device: "LAPTOP")
            let hello = try await world.ann.encrypt(type: "m.room.message", content: Self.text("hello"), in: Self.room)
            _ = try await world.deliver(hello, from: "@ann:fake", as: "$2", to: world.bot, user: "@bot:fake", device: "BOT")
            let identity = try #require(await world.bot.identity)
            let held = world.fake.oneTimeKeyCount(of: "@bot:fake", device: "BOT")

            // Stored sealed: the bot's own public key, which its account holds in clear, is nowhere in the store
            let stored =
                Array(try await world.botStore.sealedValues(namespace: "matrix.account").values)
                + Array(try await world.botStore.sealedValues(namespace: "matrix.megolm.out").values)
            #expect(!stored.isEmpty)
            for value in stored { #expect(value.range(of: Data(identity.curve25519.utf8)) == nil) }

            // The same database and pickle key after a crash: the same device and keys, the same sessions
            let restarted = MatrixEncryption(
                client: MatrixClient(http: .shared, homeserver: world.base, accessToken: "@bot:fake|BOT"), store: world.botStore,
                seal: MatrixKeySeal(secret: Self.secret), logger: Logger(label: "test"), clock: world.clock)
            try await restarted.checkStoredKeys()
            try await restarted.start(userID: "@bot:fake", deviceID: "BOT")
            let again = try #require(await restarted.identity)
            #expect(again.deviceID == identity.deviceID && again.curve25519 == identity.curve25519 && again.ed25519 == identity.ed25519)
            #expect(world.fake.oneTimeKeyCount(of: "@bot:fake", device: "BOT") == held)
            let after = try await restarted.encrypt(type: "m.room.message", content: Self.text("after"), in: Self.room)
            #expect(after["session_id"] == first["session_id"])
            #expect(world.fake.takeInbox(of: "@ann:fake", device: "LAPTOP").isEmpty)
            #expect(
                Self.body(try await world.deliver(after, from: "@bot:fake", as: "$3", to: world.ann, user: "@ann:fake", device: "LAPTOP")) == "after")
            let more = try await world.ann.encrypt(type: "m.room.message", content: Self.text("still there?"), in: Self.room)
            #expect(
                Self.body(try await world.deliver(more, from: "@ann:fake", as: "$4", to: restarted, user: "@bot:fake", device: "BOT"))
                    == "still there?")

            // Another pickle key opens nothing
            let wrong = MatrixEncryption(
                client: MatrixClient(http: .shared, homeserver: world.base, accessToken: "@bot:fake|BOT"), store: world.botStore,
                seal: MatrixKeySeal(secret: "not-the-pickle-key"), logger: Logger(label: "test"), clock: world.clock)
            await #expect(throws: MatrixKeySeal.CannotOpen.self) { try await wrong.checkStoredKeys() }
            await #expect(throws: MatrixKeySeal.CannotOpen.self) { try await wrong.start(userID: "@bot:fake", deviceID: "BOT") }
        }
    }

    @Test func oneTimeKeysAreToppedUpAsPeopleUseThem() async throws {
        try await withWorld { world in
            #expect(world.fake.oneTimeKeyCount(of: "@bot:fake", device: "BOT") == OlmAccount.maxOneTimeKeys / 2)
            // Ann's first message to the bot claims one of its keys
            _ = try await world.ann.encrypt(type: "m.room.message", content: Self.text("hi"), in: Self.room)
            let left = world.fake.oneTimeKeyCount(of: "@bot:fake", device: "BOT")
            #expect(left == OlmAccount.maxOneTimeKeys / 2 - 1)
            try await world.bot.topUpOneTimeKeys(published: left)
            #expect(world.fake.oneTimeKeyCount(of: "@bot:fake", device: "BOT") == OlmAccount.maxOneTimeKeys / 2)
        }
    }
}
