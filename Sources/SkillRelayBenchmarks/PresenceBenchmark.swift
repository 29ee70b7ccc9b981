import AsyncHTTPClient
import Foundation
import SkillRelayDomain
import SkillRelayMatrix

/// Figure 4: presence for a pool of specialists through the Matrix adapter against a fake homeserver with a fixed
/// latency, cold (empty cache) and warm, next to one round trip to the same fake.
enum PresenceBenchmark {
    struct Result {
        var roundTrip: [Duration] = []
        var cold: [Duration] = []
        var coldRequests: [Int] = []
        var warm: [Duration] = []
        var warmRequests: [Int] = []
        var streamed: [Duration] = []
        var streamedRequests: [Int] = []
    }

    /// Rooms already known and joined for everyone: the benchmark measures presence, not room creation.
    final class KnownRooms: IMStateStore, @unchecked Sendable {
        // @unchecked: immutable after init.
        func conversation(with imID: String) async throws -> String? { "!room:fake" }
        func setConversation(_ conversation: String, with imID: String) async throws {}
        func contacts(_ imIDs: [String]) async throws -> [String: IMContact] {
            Dictionary(imIDs.map { ($0, IMContact(conversation: "!room:fake", joined: true, invitedAt: nil)) }, uniquingKeysWith: { a, _ in a })
        }
        func setInvitation(_ conversation: String?, to imID: String, at time: Date) async throws {}
        func setJoined(_ conversation: String, by imID: String) async throws {}
        func forgetConversation(_ conversation: String, of imID: String?, departure: IMDeparture, at time: Date) async throws -> String? { nil }
        func inboundCursor() async throws -> String? { nil }
        func setInboundCursor(_ cursor: String) async throws {}
        func markHandled(event id: String, changing changes: [IMKeyChange]) async throws -> Bool { true }
        func isHandled(event id: String) async throws -> Bool { false }
        func delivery(forMessageReference reference: String) async throws -> String? { nil }
        // Nothing is sent here, so there is no delivery to keep a reference with.
        func recordEchoes(_ references: [String: String]) async throws {}
        func caller(forIMID imID: String) async throws -> Caller? { nil }
        // The benchmark reads presence only; nobody's activity is ever asked for, so none is kept.
        func recordActivity(_ seen: [String: Date]) async throws {}
        // Nobody is introduced during the benchmark: there are no introduction rooms, and none can be added.
        func introductionRooms() async throws -> Set<String> { [] }
        func setIntroductionRoom(_ room: String, open: Bool) async throws {
            struct NotInThisBenchmark: Error {}
            throw NotInThisBenchmark()
        }
    }

    static func run(homeserver: String, fake: FakeIMServer, pool: Int, repetitions: Int) async throws -> Result {
        // The same HTTP client configuration as `serve --im matrix`.
        let http = MatrixClient.makeHTTPClient(connections: 50 + 16)
        do {
            let result = try await run(
                client: MatrixClient(http: http, homeserver: homeserver, accessToken: "bench"), fake: fake, pool: pool, repetitions: repetitions)
            try await http.shutdown()
            return result
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    /// The `m.presence` events a sync would carry for `people`, all online.
    static func streamEvents(for people: [PresenceQuery]) throws -> [SyncResponse.PresenceEvent] {
        let events = people.compactMap(\.imID).map { #"{"type":"m.presence","sender":"\#($0)","content":{"presence":"online"}}"# }
        return try JSONDecoder().decode([SyncResponse.PresenceEvent].self, from: Data("[\(events.joined(separator: ","))]".utf8))
    }

    /// Cold pools asked untimed first: the first ones open the connections and meet a process (threads, allocator,
    /// runtime caches) that has not served a request yet, which a server asking for presence all day never is.
    static let warmUp = 50

    static func run(client: MatrixClient, fake: FakeIMServer, pool: Int, repetitions: Int) async throws -> Result {
        var result = Result()
        let people = (0..<pool).map { PresenceQuery(handle: "e\($0)", imID: "@e\($0):fake") }
        for _ in 0..<warmUp {
            _ = try await client.presence(of: "@e0:fake", timeout: .seconds(1))
            _ = await MatrixPresenceSource(client: client, rooms: MatrixRooms(client: client, state: KnownRooms())).presence(of: people)
        }
        for _ in 0..<repetitions {
            // The baseline next to each pool, so that both meet the same moment of a shared machine.
            result.roundTrip.append(try await Measurement.time { _ = try await client.presence(of: "@e0:fake", timeout: .seconds(1)) })
            let source = MatrixPresenceSource(client: client, rooms: MatrixRooms(client: client, state: KnownRooms()))
            var before = fake.requestCount
            var answers: [String: Presence] = [:]
            result.cold.append(await Measurement.time { answers = await source.presence(of: people) })
            result.coldRequests.append(fake.requestCount - before)
            guard answers.count == pool, answers.values.allSatisfy({ $0 != .unknown }) else {
                throw RawSQLite.Failure(description: "the fake did not answer")
            }
            before = fake.requestCount
            result.warm.append(await Measurement.time { _ = await source.presence(of: people) })
            result.warmRequests.append(fake.requestCount - before)

            // Empty cache, but the bot's sync stream has reported the pool (as `serve --im matrix` records it).
            let stream = MatrixPresenceStream()
            stream.record(try streamEvents(for: people), at: Date())
            let streamedSource = MatrixPresenceSource(
                client: client, rooms: MatrixRooms(client: client, state: KnownRooms()), stream: stream)
            before = fake.requestCount
            result.streamed.append(await Measurement.time { answers = await streamedSource.presence(of: people) })
            result.streamedRequests.append(fake.requestCount - before)
            guard answers.count == pool, answers.values.allSatisfy({ $0 == .available }) else {
                throw RawSQLite.Failure(description: "the stream's presence was not used")
            }
        }
        return result
    }
}
