import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import SkillRelayDomain
import SkillRelayTestSupport
import Testing

@testable import SkillRelayMatrix

/// The Matrix presence source against an in-process fake homeserver.
@Suite struct MatrixPresenceSourceTests {
    /// An in-memory IM state: enough for the rooms the presence source makes. With `everyoneIn`, anyone it has not
    /// heard of is in a room of their own with the bot (`!` and their user id).
    final class MemoryIMState: IMStateStore, @unchecked Sendable {
        // @unchecked: every access goes through the lock.
        private let lock = NSLock()
        private var rooms: [String: IMContact] = [:]
        private var readCount = 0
        private let everyoneIn: Bool
        init(everyoneIn: Bool = false) { self.everyoneIn = everyoneIn }
        var reads: Int { lock.withLock { readCount } }
        func conversation(with imID: String) async throws -> String? {
            lock.withLock {
                readCount += 1
                return rooms[imID]?.conversation
            }
        }
        func setConversation(_ conversation: String, with imID: String) async throws {
            lock.withLock { rooms[imID] = IMContact(conversation: conversation, joined: true, invitedAt: rooms[imID]?.invitedAt) }
        }
        func contacts(_ imIDs: [String]) async throws -> [String: IMContact] {
            lock.withLock {
                readCount += 1
                if everyoneIn {
                    for imID in imIDs where rooms[imID] == nil { rooms[imID] = IMContact(conversation: "!\(imID)", joined: true, invitedAt: nil) }
                }
                return Dictionary(imIDs.map { ($0, rooms[$0] ?? .stranger) }, uniquingKeysWith: { first, _ in first })
            }
        }
        func setInvitation(_ conversation: String?, to imID: String, at time: Date) async throws {
            lock.withLock {
                // Refused (nil): whatever room they had stays as it was.
                let joined = conversation == nil ? rooms[imID]?.joined ?? false : false
                rooms[imID] = IMContact(conversation: conversation ?? rooms[imID]?.conversation, joined: joined, invitedAt: time)
            }
        }
        func setJoined(_ conversation: String, by imID: String) async throws {
            lock.withLock { if rooms[imID]?.conversation == conversation { rooms[imID]?.joined = true } }
        }
        func forgetConversation(_ conversation: String, of imID: String?, departure: IMDeparture, at time: Date) async throws -> String? {
            lock.withLock {
                guard let owner = rooms.first(where: { $0.value.conversation == conversation })?.key, imID == nil || imID == owner else { return nil }
                rooms[owner] = IMContact(conversation: nil, joined: false, invitedAt: rooms[owner]?.invitedAt)
                return owner
            }
        }
        /// Who was seen in the IM, and when (by IM id).
        private var seen: [String: Date] = [:]
        var activity: [String: Date] { lock.withLock { seen } }
        private var introductions: Set<String> = []
        func introductionRooms() async throws -> Set<String> { lock.withLock { introductions } }
        func setIntroductionRoom(_ room: String, open: Bool) async throws {
            _ = lock.withLock { open ? introductions.insert(room).inserted : introductions.remove(room) != nil }
        }
        func recordActivity(_ seen: [String: Date]) async throws {
            lock.withLock { self.seen.merge(seen) { max($0, $1) } }
        }
        func inboundCursor() async throws -> String? { nil }
        func setInboundCursor(_ cursor: String) async throws {}
        func markHandled(event id: String, changing changes: [IMKeyChange]) async throws -> Bool { true }
        func isHandled(event id: String) async throws -> Bool { false }
        func delivery(forMessageReference reference: String) async throws -> String? { nil }
        // Nothing is sent here, so there is no delivery to keep a reference with.
        func recordEchoes(_ references: [String: String]) async throws {}
        func caller(forIMID imID: String) async throws -> Caller? { nil }
    }

    /// A presence source on a fake homeserver. Its deadline per request is generous: these tests run beside dozens of
    /// others on a couple of cores, where a fast local request can take seconds, and a deadline that expired there would
    /// decide the outcome instead of the behaviour under test. The one test about the deadline sets its own, with a fake
    /// that never answers.
    func withSource(
        concurrency: Int = 16, timeout: TimeAmount = .seconds(60), clock: TestClock = TestClock(), stream: MatrixPresenceStream? = nil,
        _ body: @Sendable @escaping (FakeMatrixHomeserver, MatrixPresenceSource) async throws -> Void
    ) async throws {
        try await Self.withFakeHomeserver { fake, matrix in
            let source = MatrixPresenceSource(
                client: matrix, rooms: MatrixRooms(client: matrix, state: MemoryIMState(everyoneIn: true)), stream: stream, concurrency: concurrency,
                timeout: timeout, clock: clock)
            try await body(fake, source)
        }
    }

    /// A fake homeserver on a free port, and a client of it. Held requests answer once the body is done, so that the
    /// server can stop.
    static func withFakeHomeserver(_ body: @Sendable @escaping (FakeMatrixHomeserver, MatrixClient) async throws -> Void) async throws {
        let fake = FakeMatrixHomeserver()
        let app = Application(router: fake.router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            defer { fake.releaseAll() }
            let port = try #require(client.port)
            try await body(fake, MatrixClient(http: HTTPClient.shared, homeserver: "http://127.0.0.1:\(port)", accessToken: "secret"))
        }
    }

    static func people(_ ids: [String]) -> [PresenceQuery] { ids.map { PresenceQuery(handle: $0, imID: "@\($0):fake") } }

    @Test func theProbeTellsAHomeserverThatReportsPresenceFromOneThatDoesNot() async throws {
        try await withSource { fake, source in
            fake.set("@a:fake", .presence("online"))
            #expect(await source.probePresenceReporting() == .reported)
            #expect(await source.presence(of: Self.people(["a"])) == ["a": .available])
            // Presence switched off: the bot set itself online, yet reads offline.
            fake.setPresenceEnabled(false)
            fake.set(FakeMatrixHomeserver.bot, .presence("online"))
            #expect(await source.probePresenceReporting() == .notReported)
            // Then nobody is asked for: the homeserver would only call them offline.
            let requests = fake.presenceRequests
            #expect(await source.presence(of: Self.people(["a", "b"])) == ["a": .offline, "b": .offline])
            #expect(fake.presenceRequests == requests)
            // A homeserver that fails to set or to read the bot's presence leaves it unknown.
            fake.setPresenceEnabled(true)
            fake.failPresenceWrites(with: 500)
            #expect(await source.probePresenceReporting() == .unknown)
            fake.failPresenceWrites(with: nil)
            #expect(await source.probePresenceReporting() == .reported)
        }
    }

    @Test func mapsOnlineUnavailableOfflineAndRefusalsToUnknown() async throws {
        try await withSource { fake, source in
            fake.set("@a:fake", .presence("online"))
            fake.set("@b:fake", .presence("unavailable"))
            fake.set("@c:fake", .presence("offline"))
            fake.set("@d:fake", .status(403))
            let result = await source.presence(of: Self.people(["a", "b", "c", "d"]) + [PresenceQuery(handle: "e", imID: nil)])
            #expect(result == ["a": .available, "b": .away, "c": .offline, "d": .unknown, "e": .unknown])
            // Not shown to the bot although in their room as far as SkillRelay knew: the room is checked and, as they
            // are not in it, forgotten; the next lookup invites them to a new one instead of asking.
            #expect(fake.membershipRequests == 1 && fake.roomsCreated == 0)
            let requests = fake.presenceRequests
            #expect(await source.presence(of: Self.people(["d"])) == ["d": .unknown])
            await source.rooms.invitationsSettled()
            #expect(fake.roomsCreated == 1 && fake.invited == ["@d:fake"] && fake.presenceRequests == requests)
        }
    }

    // The time limit only ends a broken run (requests not overlapping would wait for the gate until their deadline).
    @Test(.timeLimit(.minutes(3))) func requestsRunConcurrentlyButNeverMoreThanTheLimit() async throws {
        try await withSource(concurrency: 4) { fake, source in
            // Every answer is held until four requests are in flight at once: the overlap is certain however slow the
            // machine, and it can only come from the source sending them side by side.
            fake.setFallback(.held("online"))
            fake.openGate(whenInFlight: 4)
            let result = await source.presence(of: Self.people((1...20).map { "user\($0)" }))
            #expect(result.values.allSatisfy { $0 == .available } && result.count == 20)
            // Overlapping requests up to the limit, never more (speed itself is measured in the benchmarks).
            #expect(fake.maxInFlight == 4)
        }
    }

    @Test func peopleTheSyncStreamReportedNeedNoRequestWhileItIsLive() async throws {
        let clock = TestClock()
        let stream = MatrixPresenceStream(staleAfter: 90)
        try await withSource(clock: clock, stream: stream) { fake, source in
            fake.setFallback(.presence("unavailable"))
            let reported =
                #"[{"type":"m.presence","sender":"@a:fake","content":{"presence":"online"}},"#
                + #"{"type":"m.presence","sender":"@b:fake","content":{"presence":"offline"}}]"#
            stream.record(try JSONDecoder().decode([SyncResponse.PresenceEvent].self, from: Data(reported.utf8)), at: clock.now())
            // What the stream said of a and b, without asking; c, whom it has not mentioned, asked for.
            #expect(await source.presence(of: Self.people(["a", "b", "c"])) == ["a": .available, "b": .offline, "c": .away])
            #expect(fake.presenceRequests == 1)
            // A stream silent for longer than 90 s is not trusted: everyone asked again (c's cache has expired too).
            clock.advance(by: 100)
            #expect(await source.presence(of: Self.people(["a", "b", "c"])) == ["a": .away, "b": .away, "c": .away])
            #expect(fake.presenceRequests == 4)
        }
    }

    @Test func aRepeatWithinTheCacheTimeAsksNothing() async throws {
        let clock = TestClock()
        try await withSource(clock: clock) { fake, source in
            fake.setFallback(.presence("online"))
            _ = await source.presence(of: Self.people(["a", "b"]))
            #expect(fake.presenceRequests == 2)
            clock.advance(by: 10)
            _ = await source.presence(of: Self.people(["a", "b"]))
            #expect(fake.presenceRequests == 2)
            clock.advance(by: 6)
            _ = await source.presence(of: Self.people(["a", "b"]))
            #expect(fake.presenceRequests == 4)
        }
    }

    // The time limit only ends a broken run: without a working deadline the request would wait for ever.
    @Test(.timeLimit(.minutes(3))) func aServerThatNeverAnswersIsUnknownAtTheDeadline() async throws {
        try await withSource(timeout: .milliseconds(100)) { fake, source in
            // The server never answers while the test runs: only the deadline can end the request, whatever the
            // machine's speed. That this returns at all is the deadline at work (the test's time limit catches a hang).
            fake.set("@slow:fake", .never)
            #expect(await source.presence(of: Self.people(["slow"])) == ["slow": .unknown])
        }
    }

    @Test func aFailingServerTripsTheBreakerAndNobodyIsAvailable() async throws {
        let clock = TestClock()
        try await withSource(clock: clock) { fake, source in
            fake.setFallback(.status(500))
            let first = await source.presence(of: Self.people((1...6).map { "user\($0)" }))
            #expect(first.values.allSatisfy { $0 == .unknown })
            let asked = fake.presenceRequests
            fake.setFallback(.presence("online"))
            // Open: nobody is asked, nobody is available.
            #expect(await source.presence(of: Self.people(["user7"])) == ["user7": .unknown])
            #expect(fake.presenceRequests == asked)
            // After the cool-down the server is tried again.
            clock.advance(by: 31)
            #expect(await source.presence(of: Self.people(["user7"])) == ["user7": .available])
        }
    }
}

/// The bot's direct rooms: made once per person, however many ask at once, and remembered.
@Suite struct MatrixRoomsTests {
    /// A first question's presence pool of people not yet in a room with the bot, invited all at once and awaited, held
    /// up a busy Synapse (and the question) for minutes; invitations that timed out were made again on every wave.
    // The time limit only ends a broken run (a lookup that waited for the held room creations would wait forever).
    @Test(.timeLimit(.minutes(3))) func peopleWithoutARoomAreInvitedInTheBackgroundAFewAtATimeAndAFailureWaitsBeforeTheNextTry() async throws {
        try await MatrixPresenceSourceTests.withFakeHomeserver { fake, matrix in
            let clock = TestClock()
            let rooms = MatrixRooms(client: matrix, state: MatrixPresenceSourceTests.MemoryIMState(), clock: clock, invitationConcurrency: 2)
            let source = MatrixPresenceSource(client: matrix, rooms: rooms, timeout: .seconds(60), clock: clock)
            let people = MatrixPresenceSourceTests.people((1...10).map { "p\($0)" })
            fake.holdRoomCreation()
            fake.failInvitations(to: "@p3:fake", status: 502)
            // The lookup answers while every room creation is held: nobody without a room is available either way.
            let said = await source.presence(of: people)
            #expect(said.count == 10 && said.values.allSatisfy { $0 == .unknown })
            fake.releaseAll()
            await rooms.invitationsSettled()
            #expect(fake.createRoomRequests == 10 && Set(fake.invited).count == 9 && !fake.invited.contains("@p3:fake"))
            #expect(fake.maxCreateRoomInFlight <= 2)
            // The failed one is not tried again on the next wave, nor the invited ones until a day has passed…
            _ = await source.presence(of: people)
            await rooms.invitationsSettled()
            #expect(fake.createRoomRequests == 10)
            // …but once the retry interval has passed, it is.
            clock.advance(by: rooms.invitationRetryInterval)
            _ = await source.presence(of: people)
            await rooms.invitationsSettled()
            #expect(fake.createRoomRequests == 11)
        }
    }

    /// A 408 is the request timing out, not the homeserver refusing the invitation: it is tried again after the retry
    /// interval, as a server error is, not a day later as a refusal.
    @Test func anInvitationThatTimedOutIsTriedAgainAfterTheRetryIntervalNotADayLater() async throws {
        try await MatrixPresenceSourceTests.withFakeHomeserver { fake, matrix in
            let clock = TestClock()
            let rooms = MatrixRooms(client: matrix, state: MatrixPresenceSourceTests.MemoryIMState(), clock: clock)
            let source = MatrixPresenceSource(client: matrix, rooms: rooms, timeout: .seconds(60), clock: clock)
            let person = MatrixPresenceSourceTests.people(["p1"])
            fake.failInvitations(to: "@p1:fake", status: 408)
            _ = await source.presence(of: person)
            await rooms.invitationsSettled()
            #expect(fake.createRoomRequests == 1)
            // The homeserver answers again: once the retry interval has passed, the invitation is made.
            fake.failInvitations(to: "@p1:fake", status: nil)
            clock.advance(by: rooms.invitationRetryInterval)
            _ = await source.presence(of: person)
            await rooms.invitationsSettled()
            #expect(fake.createRoomRequests == 2)
            #expect(fake.invited == ["@p1:fake"])
        }
    }

    @Test func concurrentCallersShareOneRoomAndLaterCallsReadNothing() async throws {
        try await MatrixPresenceSourceTests.withFakeHomeserver { fake, matrix in
            let state = MatrixPresenceSourceTests.MemoryIMState()
            let rooms = MatrixRooms(client: matrix, state: state)
            let answers = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<10 { group.addTask { try await rooms.room(for: "@a:fake") } }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(answers.count == 10 && Set(answers).count == 1)
            #expect(fake.roomsCreated == 1)
            #expect(try await state.conversation(with: "@a:fake") == answers.first)
            let readsSoFar = state.reads
            #expect(try await rooms.room(for: "@a:fake") == answers.first)
            #expect(state.reads == readsSoFar)
            // Someone whose room the store already holds (made by the sync loop) keeps it.
            try await state.setConversation("!theirs:fake", with: "@b:fake")
            #expect(try await rooms.room(for: "@b:fake") == "!theirs:fake")
            #expect(fake.roomsCreated == 1)
        }
    }
}
