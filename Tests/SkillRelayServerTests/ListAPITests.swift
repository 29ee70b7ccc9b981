import Foundation
import Hummingbird
import HummingbirdTesting
import SkillRelayDomain
import Testing

/// Every list in the API: `{"items": [...], "next": …}`, a page at a time, with its limits and cursors checked.
@Suite struct ListAPITests {
    struct List: Decodable {
        struct Item: Decodable {
            var handle: String?
            var slug: String?
            var id: String?
            var below: Int?
        }
        var items: [Item]
        var next: String?
    }

    /// Every page of `path` (which has a query already or not), `limit` at a time.
    static func all(_ client: any TestClientProtocol, _ path: String, limit: Int, headers: HTTPFields) async throws -> [List.Item] {
        var items: [List.Item] = []
        var cursor: String?
        repeat {
            let separator = path.contains("?") ? "&" : "?"
            let uri = "\(path)\(separator)limit=\(limit)" + (cursor.map { "&cursor=\($0)" } ?? "")
            let page = try await client.execute(uri: uri, method: .get, headers: headers) { response in
                #expect(response.status == .ok, "\(uri): \(response.text)")
                #expect(response.text.contains(#""next":"#), "next is always there: \(response.text)")
                return try decode(List.self, response)
            }
            #expect(page.items.count <= limit)
            items += page.items
            cursor = page.next
        } while cursor != nil && items.count < 10_000
        return items
    }

    @Test func employeesPageThroughWhatTheCallerMaySee() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            // An admin: everyone, once, by name; a manager: the people below them; anyone else: 403.
            let everyone = try await Self.all(client, "/v1/employees", limit: 2, headers: fixture.headers(.admin)).compactMap(\.handle)
            #expect(everyone == ["admin", "boss", "deep", "m", "p", "pr", "r"])
            let belowM = try await Self.all(client, "/v1/employees", limit: 1, headers: fixture.headers(.m)).compactMap(\.handle)
            #expect(belowM == ["deep", "r"])
            for who in [Fixture.Who.deep, .bot] {
                try await client.execute(uri: "/v1/employees", method: .get, headers: fixture.headers(who)) { response in
                    #expect(response.status == .forbidden)
                    #expect(response.apiError?.code == "forbidden")
                }
            }
            // Filters: a name or handle prefix, a manager the caller may see, a topic and level, deactivated people.
            let filtered: [(Fixture.Who, String, [String])] = [
                (.admin, "/v1/employees?q=P", ["p", "pr"]), (.admin, "/v1/employees?manager=p", ["pr"]),
                (.admin, "/v1/employees?topic=infra", ["deep", "r"]), (.admin, "/v1/employees?topic=k8s&minLevel=3", ["r"]),
                (.admin, "/v1/employees?topic=k8s&minLevel=4", []), (.m, "/v1/employees?manager=r", ["deep"]),
                (.m, "/v1/employees?topic=k8s", ["r"]), (.admin, "/v1/employees?active=false", []),
            ]
            for (who, path, expected) in filtered {
                #expect(try await Self.all(client, path, limit: 50, headers: fixture.headers(who)).compactMap(\.handle) == expected, "\(path)")
            }
            let refused: [(Fixture.Who, String, HTTPResponse.Status, String)] = [
                (.m, "/v1/employees?manager=p", .forbidden, "forbidden"), (.admin, "/v1/employees?manager=nobody", .notFound, "employee_not_found"),
                (.admin, "/v1/employees?topic=nowhere", .notFound, "topic_not_found"),
                (.admin, "/v1/employees?minLevel=3", .badRequest, "invalid_parameter"),
                (.admin, "/v1/employees?topic=k8s&minLevel=6", .badRequest, "invalid_parameter"),
                (.admin, "/v1/employees?active=maybe", .badRequest, "invalid_parameter"),
            ]
            for (who, path, status, code) in refused {
                try await client.execute(uri: path, method: .get, headers: fixture.headers(who)) { response in
                    #expect(response.status == status, "\(path): \(response.text)")
                    #expect(response.apiError?.code == code, "\(path): \(response.text)")
                }
            }
            // A list item is a summary: never skills.
            try await client.execute(uri: "/v1/employees?q=r", method: .get, headers: fixture.headers(.admin)) { response in
                #expect(response.text.contains(#""handle":"r""#) && !response.text.contains("skills"))
            }
        }
    }

    @Test func aManagersTeamComesOneLevelAtATimeWithCounts() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let bossReports = try await Self.all(client, "/v1/employees/boss/reports", limit: 1, headers: fixture.headers(.boss))
            #expect(bossReports.compactMap(\.handle) == ["m", "p"])
            #expect(bossReports.map(\.below) == [2, 1])
            let mine = try await Self.all(client, "/v1/employees/m/reports", limit: 10, headers: fixture.headers(.m))
            #expect(mine.compactMap(\.handle) == ["r"] && mine.first?.below == 1)
            for (who, path, status) in [
                (Fixture.Who.m, "/v1/employees/boss/reports", HTTPResponse.Status.forbidden), (.deep, "/v1/employees/r/reports", .forbidden),
                (.bot, "/v1/employees/m/reports", .forbidden), (.admin, "/v1/employees/nobody/reports", .notFound),
            ] {
                try await client.execute(uri: path, method: .get, headers: fixture.headers(who)) { response in
                    #expect(response.status == status, "\(path): \(response.text)")
                    #expect(response.apiError != nil)
                }
            }
        }
    }

    @Test func tokensTopicsQuestionsAndTheInboxPage() async throws {
        let fixture = try await Fixture.make()
        let specialists = try await fixture.addSpecialists(1)
        let specialist = bearer(specialists["kube.specialist.01"]!)
        try await fixture.test { client in
            let tokens = try await Self.all(client, "/v1/tokens", limit: 3, headers: fixture.headers(.admin)).compactMap(\.id)
            #expect(tokens.count == Fixture.Who.allCases.count + 1 && Set(tokens).count == tokens.count)
            #expect(
                try await Self.all(client, "/v1/topics", limit: 1, headers: fixture.headers(.bot)).compactMap(\.slug) == [
                    "infra", "kubernetes", "terraform",
                ])
            // Three questions from deep, newest first; each reached the specialist's inbox.
            var asked: [String] = []
            for index in 1...3 {
                let body = ByteBuffer(string: #"{"topic":"k8s","text":"Question \#(index)?"}"#)
                let id = try await client.execute(uri: "/v1/questions", method: .post, headers: fixture.headers(.deep), body: body) { response in
                    #expect(response.status == .created, "\(response.text)")
                    return try decode(List.Item.self, response).id
                }
                asked.append(try #require(id))
                fixture.clock.advance(by: 1)
            }
            #expect(try await Self.all(client, "/v1/questions", limit: 2, headers: fixture.headers(.deep)).compactMap(\.id) == asked.reversed())
            #expect(try await Self.all(client, "/v1/questions", limit: 2, headers: fixture.headers(.m)).isEmpty)
            #expect(try await Self.all(client, "/v1/inbox", limit: 2, headers: specialist).count == 3)
        }
    }

    @Test func limitsAndCursorsAreChecked() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let topicsCursor = try await client.execute(uri: "/v1/topics?limit=1", method: .get, headers: fixture.headers(.admin)) {
                try #require(try decode(List.self, $0).next)
            }
            let tampered = String(topicsCursor.dropLast(2))
            let cases: [(String, String)] = [
                ("/v1/employees?limit=0", "invalid_parameter"), ("/v1/employees?limit=201", "invalid_parameter"),
                ("/v1/topics?limit=abc", "invalid_parameter"), ("/v1/tokens?limit=-1", "invalid_parameter"),
                ("/v1/inbox?limit=1000", "invalid_parameter"), ("/v1/questions?limit=0", "invalid_parameter"),
                ("/v1/employees/boss/reports?limit=201", "invalid_parameter"),
                ("/v1/employees?cursor=nonsense", "invalid_cursor"), ("/v1/topics?cursor=\(tampered)", "invalid_cursor"),
                ("/v1/employees?cursor=\(topicsCursor)", "invalid_cursor"), ("/v1/tokens?cursor=%00%FF", "invalid_cursor"),
                ("/v1/inbox?cursor=\(PageCursor(list: .inbox, keys: ["d_not_mine"]).encoded)", "invalid_cursor"),
                ("/v1/questions?cursor=\(PageCursor(list: .questions, keys: ["q_not_mine"]).encoded)", "invalid_cursor"),
                ("/v1/tokens?cursor=\(PageCursor(list: .tokens, keys: ["tok_gone"]).encoded)", "invalid_cursor"),
            ]
            for (path, code) in cases {
                try await client.execute(uri: path, method: .get, headers: fixture.headers(.admin)) { response in
                    #expect(response.status == .badRequest, "\(path): \(response.text)")
                    #expect(response.apiError?.code == code, "\(path): \(response.text)")
                }
            }
            // The largest page is allowed.
            try await client.execute(uri: "/v1/employees?limit=200", method: .get, headers: fixture.headers(.admin)) { response in
                #expect(response.status == .ok)
            }
        }
    }
}
