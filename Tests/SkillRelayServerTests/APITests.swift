import Foundation
import Hummingbird
import HummingbirdTesting
import SkillRelayServer
import SkillRelayTestSupport
import Testing

@Suite struct APITests {
    struct TopicList: Decodable {
        struct Item: Decodable {
            var slug: String
            var aliases: [String]
        }
        var items: [Item]
        var next: String?
    }

    @Test func topicsAreSearchedAndPaged() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            try await client.execute(uri: "/v1/topics?q=k8s", method: .get, headers: fixture.headers(.bot)) { response in
                let list = try JSONDecoder().decode(TopicList.self, from: Data(buffer: response.body))
                #expect(list.items.map(\.slug) == ["kubernetes"])
                #expect(list.next == nil)
            }
            var next: String?
            try await client.execute(uri: "/v1/topics?limit=2", method: .get, headers: fixture.headers(.bot)) { response in
                let list = try JSONDecoder().decode(TopicList.self, from: Data(buffer: response.body))
                #expect(list.items.map(\.slug) == ["infra", "kubernetes"])
                next = list.next
            }
            let cursor = try #require(next)
            try await client.execute(uri: "/v1/topics?limit=2&cursor=\(cursor)", method: .get, headers: fixture.headers(.bot)) { response in
                let list = try JSONDecoder().decode(TopicList.self, from: Data(buffer: response.body))
                #expect(list.items.map(\.slug) == ["terraform"])
                #expect(list.next == nil)
                #expect(response.text.contains(#""next":null"#))
            }
        }
    }

    @Test func aTopicShowsItsNeighboursAndACountNeverNames() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            try await client.execute(uri: "/v1/topics/infra", method: .get, headers: fixture.headers(.bot)) { response in
                #expect(response.status == .ok)
                let json = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                #expect(json["specialistCount"] as? Int == 2)  // deep (infra) and r (kubernetes, a subtopic)
                #expect((json["children"] as? [[String: Any]])?.compactMap { $0["slug"] as? String } == ["kubernetes", "terraform"])
                #expect(!response.text.contains("\"deep\"") && !response.text.contains("\"r\""))
            }
        }
    }

    @Test func meTellsRolesAndProfile() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            try await client.execute(uri: "/v1/me", method: .get, headers: fixture.headers(.m)) { response in
                #expect(response.text.contains(#""roles":["employee","manager"]"#))
                #expect(response.text.contains(#""handle":"m""#))
            }
            try await client.execute(uri: "/v1/me", method: .get, headers: fixture.headers(.bot)) { response in
                #expect(response.text.contains(#""roles":["bot"]"#) && response.text.contains(#""bot":"ci-bot""#))
            }
        }
    }

    @Test func anIssuedTokenWorksAndItsSecretIsNeverListed() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let secret = try await client.execute(
                uri: "/v1/tokens", method: .post, headers: fixture.headers(.admin), body: ByteBuffer(string: #"{"employee":"pr"}"#)
            ) {
                response in
                #expect(response.status == .created)
                let json = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
                return try #require(json["secret"] as? String)
            }
            try await client.execute(uri: "/v1/me", method: .get, headers: [.authorization: "Bearer \(secret)"]) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/v1/tokens", method: .get, headers: fixture.headers(.admin)) { response in
                #expect(!response.text.contains(secret))
                #expect(!response.text.contains("secret"))
            }
        }
    }

    /// An instance sharing its database with others is ready once it hears their live events: a load balancer that sent
    /// it a stream before would have the stream miss what they published meanwhile.
    @Test func anInstanceIsStartingUntilItHearsTheOthersLiveEvents() async throws {
        let hub = InProcessRelayHub()
        let fixture = try await Fixture.make(relay: hub.relay(named: "here"))
        try await fixture.test { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.text == #"{"status":"starting"}"#)
            }
        }
        let relaying = Task { try await fixture.questions.eventStreams.relayEvents() }
        try await hub.connected.wait(within: 60, "the relay running") { $0.count == 1 }
        try await fixture.test { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.text == #"{"status":"ok"}"#)
            }
        }
        relaying.cancel()
    }

    @Test func healthAnswersOverARealSocket() async throws {
        let fixture = try await Fixture.make()
        let app = buildApplication(
            store: fixture.store, questions: fixture.questions, pump: fixture.pump, web: fixture.web,
            configuration: .init(host: "127.0.0.1", port: 0),
            logger: .init(label: "test"))
        try await app.test(.live) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.text == #"{"status":"ok"}"#)
            }
        }
    }
}
