import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import SkillRelayDomain
import Synchronization
import Testing

@testable import SkillRelayMatrix

/// The homeserver's rate limits as the client-server spec describes them (`429 M_LIMIT_EXCEEDED` with
/// `retry_after_ms`), against an in-process fake homeserver.
@Suite struct MatrixRateLimitTests {
    /// A fake homeserver that answers the first `limited` sends with 429 and `retry_after_ms`, then takes them; and
    /// records when each request came and what the admin API was asked.
    final class RateLimitingHomeserver: Sendable {
        private struct State {
            var limitedLeft: Int
            var sendTimes: [ContinuousClock.Instant] = []
            var overrides: [(path: String, body: String)] = []
        }
        private let state: Mutex<State>
        let retryAfterMilliseconds: Int
        let isAdmin: Bool

        init(limited: Int, retryAfterMilliseconds: Int, isAdmin: Bool = true) {
            state = Mutex(State(limitedLeft: limited))
            self.retryAfterMilliseconds = retryAfterMilliseconds
            self.isAdmin = isAdmin
        }

        var sendTimes: [ContinuousClock.Instant] { state.withLock { $0.sendTimes } }
        var overrides: [(path: String, body: String)] { state.withLock { $0.overrides } }

        var router: Router<BasicRequestContext> {
            let router = Router()
            router.put("/_matrix/client/v3/rooms/:room/send/m.room.message/:txn") { _, _ -> Response in
                let limited = self.state.withLock { state in
                    state.sendTimes.append(.now)
                    defer { state.limitedLeft -= 1 }
                    return state.limitedLeft > 0
                }
                guard !limited else {
                    return Self.json(
                        #"{"errcode":"M_LIMIT_EXCEEDED","error":"Too Many Requests","retry_after_ms":\#(self.retryAfterMilliseconds)}"#,
                        status: .tooManyRequests)
                }
                return Self.json(#"{"event_id":"$sent"}"#)
            }
            router.post("/_synapse/admin/v1/users/:user/override_ratelimit") { request, _ -> Response in
                let body = String(buffer: try await request.body.collect(upTo: 4096))
                self.state.withLock { $0.overrides.append((request.uri.path, body)) }
                guard self.isAdmin else {
                    return Self.json(#"{"errcode":"M_FORBIDDEN","error":"You are not a server admin"}"#, status: .forbidden)
                }
                return Self.json(#"{"messages_per_second":0,"burst_count":0}"#)
            }
            return router
        }

        static func json(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
            Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
    }

    func withHomeserver(
        _ fake: RateLimitingHomeserver, rateLimitWait: TimeInterval = 30, _ body: @Sendable @escaping (MatrixClient) async throws -> Void
    ) async throws {
        let app = Application(router: fake.router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            try await body(
                MatrixClient(http: HTTPClient.shared, homeserver: "http://127.0.0.1:\(port)", accessToken: "secret", rateLimitWait: rateLimitWait))
        }
    }

    @Test func aRateLimitedSendIsRetriedWhenTheHomeserverSaysAndSucceeds() async throws {
        let fake = RateLimitingHomeserver(limited: 2, retryAfterMilliseconds: 300)
        try await withHomeserver(fake) { client in
            let event = try await client.send(TextMessage("hello"), to: "!room:fake", transactionID: "t1")
            #expect(event == "$sent")
        }
        let times = fake.sendTimes
        #expect(times.count == 3)
        // Never sooner than the homeserver asked.
        for (earlier, later) in zip(times, times.dropFirst()) { #expect(earlier.duration(to: later) >= .milliseconds(300)) }
    }

    @Test func aWaitLongerThanTheCallMayWaitIsHandedBackAsADeferralNotAFailure() async throws {
        let fake = RateLimitingHomeserver(limited: 2, retryAfterMilliseconds: 60_000)
        try await withHomeserver(fake, rateLimitWait: 5) { client in
            await #expect(throws: MatrixClient.RateLimited.self) {
                _ = try await client.send(TextMessage("hello"), to: "!room:fake", transactionID: "t1")
            }
            // Through the messenger, the outbox is told to try again when the homeserver said, without counting a try.
            let state = MatrixPresenceSourceTests.MemoryIMState()
            try await state.setConversation("!room:fake", with: "@lena:fake")
            let messenger = MatrixMessenger(client: client, rooms: MatrixRooms(client: client, state: state))
            let message = AskerNotice(
                questionID: "q1", asker: Recipient(handle: "lena", imID: "@lena:fake"), topic: TopicReference(slug: "k8s", name: "Kubernetes"),
                reason: .expired, answerCount: 0)
            do {
                try await messenger.notifyAsker(message, key: "skillrelay-1")
                Issue.record("the send was rate limited and should have been deferred")
            } catch let deferred as DeliveryDeferred {
                #expect(deferred.retryAfter == 60)
            }
        }
    }

    @Test func retryAfterComesFromTheBodyElseTheHeaderElseASecond() {
        #expect(MatrixClient.retryAfter(milliseconds: 2500, header: "9") == 2.5)
        #expect(MatrixClient.retryAfter(milliseconds: nil, header: " 7 ") == 7)
        #expect(MatrixClient.retryAfter(milliseconds: nil, header: nil) == 1)
        #expect(MatrixClient.retryAfter(milliseconds: -5, header: nil) == 0)
    }

    @Test func theBotAsksSynapsesAdminAPIToLiftItsRateLimits() async throws {
        let fake = RateLimitingHomeserver(limited: 0, retryAfterMilliseconds: 0)
        try await withHomeserver(fake) { client in try await client.exemptFromRateLimits("@skillrelay:fake") }
        let override = try #require(fake.overrides.first)
        #expect(override.path == "/_synapse/admin/v1/users/%40skillrelay%3Afake/override_ratelimit")
        let body = try #require(try JSONSerialization.jsonObject(with: Data(override.body.utf8)) as? [String: Int])
        #expect(body == ["messages_per_second": 0, "burst_count": 0])
    }

    @Test func aBotThatIsNotAServerAdminIsRefusedPlainly() async throws {
        let fake = RateLimitingHomeserver(limited: 0, retryAfterMilliseconds: 0, isAdmin: false)
        try await withHomeserver(fake) { client in
            await #expect(throws: MatrixClient.Failure.self) { try await client.exemptFromRateLimits("@skillrelay:fake") }
        }
    }
}
