import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SkillRelayDomain
import Testing

/// My team through the router: drilling down and back up, search and topic, pages of forty, and forms that come back to
/// the page they were posted from.
@Suite struct TeamPageTests {
    typealias Web = WebPageTests

    static func page(_ uri: String, as browser: Web.Browser, client: some TestClientProtocol) async throws -> (HTTPResponse.Status, String) {
        try await client.execute(uri: uri, method: .get, headers: browser.headers) { ($0.status, $0.text) }
    }

    /// The `href` of the link with `id`, unescaped.
    static func link(_ id: String, in html: String) -> String? {
        guard let range = html.range(of: #"href="[^"]*"[^>]* id="\#(id)""#, options: .regularExpression) else { return nil }
        let href = html[range].dropFirst(#"href=""#.count).prefix { $0 != "\"" }
        return href.replacingOccurrences(of: "&amp;", with: "&")
    }

    @Test func aManagerDrillsDownWithBreadcrumbsAndNeverOutsideTheirTeam() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let boss = try await Web.signIn("boss", fixture: fixture, client: client)
            var (status, html) = try await Self.page("/team", as: boss, client: client)
            #expect(status == .ok)
            #expect(html.contains(#"id="p-m""#) && html.contains(#"id="p-p""#) && !html.contains(#"id="p-r""#))
            #expect(html.contains("5 people report to you"))
            #expect(html.contains(#"<a href="/team?under=m" class="drill" aria-label="M's team: 2 people">2 people below"#))
            // Two levels down: the way back up, the page itself not a link.
            (status, html) = try await Self.page("/team?under=r", as: boss, client: client)
            #expect(status == .ok)
            #expect(
                html.contains(#"<li><a href="/team">Boss</a></li><li><a href="/team?under=m">M</a></li><li><span aria-current="page">R</span></li>"#))
            #expect(html.contains(#"id="p-deep""#) && html.contains("Direct reports of R"))
            #expect(html.contains(#"<input type="hidden" name="under" value="r">"#))
            // Someone outside one's team is "not found", as someone who does not exist.
            let manager = try await Web.signIn("m", fixture: fixture, client: client)
            for outside in ["pr", "p", "boss", "nobody"] {
                (status, html) = try await Self.page("/team?under=\(outside)", as: manager, client: client)
                #expect(status == .notFound, "\(outside)")
                #expect(html.contains("<h1>Not found</h1>") && !html.contains(#"id="p-"#), "\(outside)")
            }
        }
    }

    @Test func aSearchAndATopicFindEveryoneBelow() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let boss = try await Web.signIn("boss", fixture: fixture, client: client)
            var (status, html) = try await Self.page("/team?q=DEE", as: boss, client: client)
            #expect(status == .ok && html.contains(#"id="p-deep""#) && !html.contains(#"id="p-m""#))
            #expect(html.contains(#"value="DEE""#) && html.contains("Show direct reports"))
            (status, html) = try await Self.page("/team?topic=k8s", as: boss, client: client)
            #expect(html.contains(#"id="p-r""#) && !html.contains(#"id="p-deep""#))
            (status, html) = try await Self.page("/team?topic=kubernetes&level=4", as: boss, client: client)
            #expect(html.contains("Nobody here matches."))
            (status, html) = try await Self.page("/team?under=p&q=deep", as: boss, client: client)
            #expect(html.contains("Nobody here matches."))
            (status, _) = try await Self.page("/team?topic=no-such-topic", as: boss, client: client)
            #expect(status == .notFound)
        }
    }

    @Test func fortyAPageEveryoneOnceAndFormsComeBackToTheSamePage() async throws {
        let fixture = try await Fixture.make()
        _ = try await fixture.addSpecialists(70)
        try await fixture.test { client in
            let manager = try await Web.signIn("m", fixture: fixture, client: client)
            var (_, html) = try await Self.page("/team", as: manager, client: client)
            var seen: [String] = []
            func people(_ html: String) -> [String] {
                html.ranges(of: #/<section class="card person" id="p-([^"]+)"/#).map { String(html[$0].split(separator: "\"")[3].dropFirst(2)) }
            }
            seen += people(html)
            #expect(seen.count == 40)
            #expect(Self.link("previous-page", in: html) == nil)
            let next = try #require(Self.link("next-page", in: html))
            (_, html) = try await Self.page(next, as: manager, client: client)
            seen += people(html)
            #expect(seen.count == 71 && Set(seen).count == 71 && Self.link("next-page", in: html) == nil)
            let previous = try #require(Self.link("previous-page", in: html))
            let (_, first) = try await Self.page(previous, as: manager, client: client)
            #expect(people(first) == Array(seen.prefix(40)))
            // Tagging from the second page comes back to it, at the person.
            let person = seen[55]
            let (headers, body) = manager.form(["topic": "terraform", "level": "4", "back": next])
            try await client.execute(uri: "/team/\(person)/skills", method: .post, headers: headers, body: body) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == next + "#p-\(person)")
            }
            // A form that names another place comes back to My team.
            for back in ["https://evil.example/team", "//evil.example", "/teamster", "/team?x=1#y"] {
                let (headers, body) = manager.form(["topic": "terraform", "back": back])
                try await client.execute(uri: "/team/\(person)/skills/remove", method: .post, headers: headers, body: body) { response in
                    #expect(response.headers[.location] == "/team#p-\(person)", "\(back)")
                }
                let (tagHeaders, tagBody) = manager.form(["topic": "terraform", "level": "2"])
                try await client.execute(uri: "/team/\(person)/skills", method: .post, headers: tagHeaders, body: tagBody) {
                    #expect($0.status == .seeOther)
                }
            }
            // The page's level buttons share one form per person and say `set=topic:level`; the row then shows the level.
            let (setHeaders, setBody) = manager.form(["set": "terraform:5", "back": next])
            try await client.execute(uri: "/team/\(person)/skills", method: .post, headers: setHeaders, body: setBody) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == next + "#p-\(person)")
            }
            let (_, again) = try await Self.page(next, as: manager, client: client)
            #expect(again.contains(#"value="terraform:5" aria-pressed="true" class="current""#))
            let (badHeaders, badBody) = manager.form(["set": "terraform:nine"])
            try await client.execute(uri: "/team/\(person)/skills", method: .post, headers: badHeaders, body: badBody) { response in
                #expect(response.status == .badRequest || response.status == .unprocessableContent)
            }
        }
    }
}
