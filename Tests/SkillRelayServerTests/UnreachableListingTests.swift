import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SkillRelayDomain
import SkillRelayStore
import Testing

/// Tagged specialists the IM cannot reach (no joined room with the bot), listed for admins at `/v1/stats` and on the
/// admin page, and for managers on My team.
@Suite struct UnreachableListingTests {
    struct Stats: Decodable {
        struct Unreachable: Decodable {
            struct Person: Decodable {
                var handle: String
                var name: String
                var imId: String
                var reason: String
                var since: Date?
            }
            var total: Int
            var people: [Person]
        }
        var unreachable: Unreachable?
    }

    func stats(_ fixture: Fixture, _ client: some TestClientProtocol) async throws -> Stats {
        try await client.execute(uri: "/v1/stats", method: .get, headers: fixture.headers(.admin)) { response in
            #expect(response.status == .ok)
            return try decode(Stats.self, response)
        }
    }

    @Test func statsListTaggedPeopleWithoutAJoinedRoomFirstFiftyWithATotal() async throws {
        // r (kubernetes) and deep (infra) are tagged, with IM ids; nobody has a room with the bot yet
        let fixture = try await Fixture.make(imRooms: true)
        let state = SQLiteIMState(database: fixture.database, clock: fixture.clock)
        try await fixture.test { client in
            var listed = try #require(try await stats(fixture, client).unreachable)
            #expect(listed.total == 2 && listed.people.map(\.handle) == ["deep", "r"])
            #expect(listed.people[1].imId == "@r:localhost" && listed.people[1].reason == "not_invited" && listed.people[1].since == nil)
            // r is invited: still listed, as invited, since when; then joins: no longer listed
            try await state.setInvitation("!r:localhost", to: "@r:localhost", at: fixture.clock.now())
            listed = try #require(try await stats(fixture, client).unreachable)
            #expect(listed.people.map(\.reason) == ["not_invited", "invited"] && listed.people[1].since == fixture.clock.now())
            try await state.setJoined("!r:localhost", by: "@r:localhost")
            listed = try #require(try await stats(fixture, client).unreachable)
            #expect(listed.total == 1 && listed.people.map(\.handle) == ["deep"])
            // Bounded: 60 more make 61 in all, of which 50 are shown
            _ = try await fixture.addSpecialists(60)
            listed = try #require(try await stats(fixture, client).unreachable)
            #expect(listed.total == 61 && listed.people.count == 50)
        }
    }

    @Test func withTheLocalIMThereIsNoSuchList() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let numbers = try await stats(fixture, client)
            #expect(numbers.unreachable == nil)
        }
    }

    @Test func managersSeeTheirUnreachablePeopleAndAdminsEveryone() async throws {
        let fixture = try await Fixture.make(imRooms: true)
        try await SQLiteIMState(database: fixture.database, clock: fixture.clock).setConversation("!deep:localhost", with: "@deep:localhost")
        try await fixture.test { client in
            let manager = try await WebPageTests.signIn("m", fixture: fixture, client: client)
            let team = try await client.execute(uri: "/team", method: .get, headers: manager.headers) { response in
                #expect(response.status == .ok)
                return response.text
            }
            #expect(team.contains("Unreachable in the IM (1)"))
            #expect(team.contains("<td>R <span class=\"handle\">r</span></td><td>@r:localhost</td><td>not invited yet"))
            #expect(!team.contains("<td>Deep <span"))
            // Someone whose people are all reachable (or untagged) sees no such section
            let other = try await WebPageTests.signIn("p", fixture: fixture, client: client)
            try await client.execute(uri: "/team", method: .get, headers: other.headers) { response in
                #expect(response.status == .ok)
                #expect(!response.text.contains("Unreachable in the IM"))
            }
            let admin = try await WebPageTests.signIn("admin", fixture: fixture, client: client)
            try await client.execute(uri: "/admin", method: .get, headers: admin.headers) { response in
                #expect(response.status == .ok)
                #expect(response.text.contains("Unreachable in the IM (1)") && response.text.contains("@r:localhost"))
            }
        }
    }
}
