import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SkillRelayDomain
import SkillRelayStore
import Testing

/// Suggested skills through the API and the team page: raised by the real question flow, decided by the person's
/// managers (or an admin), refused to everyone else, audited.
@Suite struct SuggestionAPITests {
    typealias Web = WebPageTests

    struct Listed: Decodable {
        struct Item: Decodable {
            struct Topic: Decodable {
                var slug: String
                var name: String
            }
            var id: String
            var kind: String
            var status: String
            var handle: String
            var name: String
            var topic: Topic
            var evidence: Int
            var deliveries: Int
            var currentLevel: Int?
        }
        var items: [Item]
        var next: String?
    }

    /// `p` asks on `infra`; only `r` (tagged with its subtopic `kubernetes`) is available and answers; `p` rates the
    /// answer helpful: a suggestion to tag `r` with `infra`, for `m` and `boss`.
    static func suggestInfraForR(_ fixture: Fixture) async throws {
        try await fixture.questionStore.setLocalPresence(.available, of: "r", now: fixture.clock.now())
        let asker = try await fixture.caller("p")
        let asked = try await fixture.questions.ask(QuestionDraft(asker: .employee("p"), topic: "infra", text: "Which load balancer do we use?"))
        #expect(asked.deliveredTo == 1)
        let r = try await fixture.caller("r")
        let delivery = try #require(try await fixture.questions.inbox(of: r).first)
        fixture.clock.advance(by: 90)
        _ = try await fixture.questions.answer(delivery: delivery.id, text: "The one in front of the ingress.", by: r)
        try await fixture.questions.rate(asked.id, rank: 1, helpful: true, by: asker)
    }

    static func list(_ who: Fixture.Who?, _ fixture: Fixture, client: some TestClientProtocol, query: String = "") async throws -> (
        HTTPResponse.Status, Listed?, String
    ) {
        try await client.execute(uri: "/v1/suggestions" + query, method: .get, headers: fixture.headers(who)) { response in
            (response.status, try? decode(Listed.self, response), response.apiError?.code ?? "")
        }
    }

    static func post(_ uri: String, _ body: String?, as who: Fixture.Who, client: some TestClientProtocol, fixture: Fixture) async throws -> (
        HTTPResponse.Status, String, String
    ) {
        try await client.execute(uri: uri, method: .post, headers: fixture.headers(who), body: body.map { ByteBuffer(string: $0) }) { response in
            (response.status, response.apiError?.code ?? "", response.text)
        }
    }

    @Test func managersListAndAcceptAndEveryoneElseIsRefused() async throws {
        let fixture = try await Fixture.make()
        try await Self.suggestInfraForR(fixture)
        try await fixture.test { client in
            var (status, listed, code) = try await Self.list(.m, fixture, client: client)
            #expect(status == .ok)
            let item = try #require(listed?.items.first)
            #expect(listed?.items.count == 1 && listed?.next == nil)
            #expect(item.kind == "suggested" && item.status == "open" && item.handle == "r" && item.topic.slug == "infra" && item.evidence == 1)
            #expect(item.currentLevel == nil && item.id.hasPrefix("sg_"))
            // The chain above and admins see it; another manager sees nothing; non-managers and bots are refused.
            for who in [Fixture.Who.boss, .admin] {
                (status, listed, _) = try await Self.list(who, fixture, client: client)
                #expect(status == .ok && listed?.items.map(\.id) == [item.id], "\(who)")
            }
            (status, listed, _) = try await Self.list(.p, fixture, client: client)
            #expect(status == .ok && listed?.items.isEmpty == true)
            for who in [Fixture.Who.pr, .bot] {
                (status, _, code) = try await Self.list(who, fixture, client: client)
                #expect(status == .forbidden && code == "forbidden", "\(who)")
            }
            (status, _, code) = try await Self.list(.m, fixture, client: client, query: "?limit=0")
            #expect(status == .badRequest && code == "invalid_parameter")
            (status, _, code) = try await Self.list(.m, fixture, client: client, query: "?cursor=bm9wZQ")
            #expect(status == .badRequest && code == "invalid_cursor")
            (status, _, code) = try await Self.list(nil, fixture, client: client)
            #expect(status == .unauthorized)

            let accept = "/v1/suggestions/\(item.id)/accept"
            // Someone not above r: not found, as an id that does not exist; a bot or a non-manager: forbidden.
            var text: String
            (status, code, _) = try await Self.post(accept, #"{"level":4}"#, as: .p, client: client, fixture: fixture)
            #expect(status == .notFound && code == "suggestion_not_found")
            (status, code, _) = try await Self.post("/v1/suggestions/sg_nope/accept", #"{"level":4}"#, as: .m, client: client, fixture: fixture)
            #expect(status == .notFound && code == "suggestion_not_found")
            for who in [Fixture.Who.pr, .bot] {
                (status, code, _) = try await Self.post(accept, #"{"level":4}"#, as: who, client: client, fixture: fixture)
                #expect(status == .forbidden && code == "forbidden", "\(who)")
            }
            // A level is needed, from 1 to 5, in a JSON body.
            (status, code, _) = try await Self.post(accept, "{}", as: .m, client: client, fixture: fixture)
            #expect(status == .unprocessableContent && code == "invalid_field")
            (status, code, _) = try await Self.post(accept, #"{"level":9}"#, as: .m, client: client, fixture: fixture)
            #expect(status == .unprocessableContent && code == "invalid_level")
            (status, code, _) = try await Self.post(accept, #"{"level":"four"}"#, as: .m, client: client, fixture: fixture)
            #expect(status == .badRequest && code == "invalid_field")
            (status, code, _) = try await Self.post(accept, nil, as: .m, client: client, fixture: fixture)
            #expect(status == .badRequest && code == "malformed_json")

            (status, code, text) = try await Self.post(accept, #"{"level":4}"#, as: .m, client: client, fixture: fixture)
            #expect(status == .ok, "\(text)")
            #expect(text.contains(#""status":"accepted""#) && text.contains(#""currentLevel":4"#))
            // r is tagged, by m, as a manager's tag; the decision and the tag are both audited.
            let profile = try await fixture.store.employee("r", by: .cliOperator)
            let skill = try #require(profile.skills.first { $0.topic.slug == "infra" })
            #expect(skill.level == 4 && skill.source == .manager && skill.taggedBy == "m")
            let audit = try await fixture.database.writer.read { db in
                try Row.fetchAll(db, sql: "SELECT entity, entityKey, action, actor FROM auditEntry WHERE entityKey = 'r/infra' ORDER BY id")
                    .map { "\($0["entity"] as String) \($0["action"] as String) \($0["actor"] as String)" }
            }
            #expect(audit == ["skill create employee:m", "suggestion accept employee:m"])
            // Decided once: a second decision is a conflict, and the list is empty.
            (status, code, _) = try await Self.post(accept, #"{"level":2}"#, as: .boss, client: client, fixture: fixture)
            #expect(status == .conflict && code == "suggestion_decided")
            (status, code, _) = try await Self.post("/v1/suggestions/\(item.id)/dismiss", nil, as: .admin, client: client, fixture: fixture)
            #expect(status == .conflict && code == "suggestion_decided")
            (status, listed, _) = try await Self.list(.m, fixture, client: client)
            #expect(listed?.items.isEmpty == true)
        }
    }

    @Test func dismissingChangesNoTagAndIsAudited() async throws {
        let fixture = try await Fixture.make()
        try await Self.suggestInfraForR(fixture)
        try await fixture.test { client in
            let (_, listed, _) = try await Self.list(.boss, fixture, client: client)
            let id = try #require(listed?.items.first?.id)
            var (status, code, text) = try await Self.post("/v1/suggestions/\(id)/dismiss", nil, as: .p, client: client, fixture: fixture)
            #expect(status == .notFound && code == "suggestion_not_found")
            (status, code, text) = try await Self.post("/v1/suggestions/\(id)/dismiss", nil, as: .boss, client: client, fixture: fixture)
            #expect(status == .ok && text.contains(#""status":"dismissed""#) && text.contains(#""currentLevel":null"#))
            #expect(try await fixture.store.employee("r", by: .cliOperator).skills.map(\.topic.slug) == ["kubernetes"])
            let actions = try await fixture.database.writer.read { db in
                try String.fetchAll(db, sql: "SELECT action || ' ' || actor FROM auditEntry WHERE entity = 'suggestion'")
            }
            #expect(actions == ["dismiss employee:boss"])
            (status, code, _) = try await Self.post("/v1/suggestions/\(id)/accept", #"{"level":3}"#, as: .m, client: client, fixture: fixture)
            #expect(status == .conflict && code == "suggestion_decided")
        }
    }

    // MARK: - The team page

    @Test func theTeamPageShowsSuggestionsAndAManagerAcceptsOne() async throws {
        let fixture = try await Fixture.make()
        try await Self.suggestInfraForR(fixture)
        try await fixture.test { client in
            let manager = try await Web.signIn("m", fixture: fixture, client: client)
            var (status, html) = try await TeamPageTests.page("/team", as: manager, client: client)
            #expect(status == .ok)
            #expect(html.contains(#"<h2 id="suggestions-heading">Suggested skills</h2>"#))
            let id = try #require(html.firstMatch(of: #/id="s-(sg_[0-9a-f]+)"/#).map { String($0.1) })
            #expect(html.contains(#"action="/team/suggestions/\#(id)/accept""#) && html.contains(#"action="/team/suggestions/\#(id)/dismiss""#))
            #expect(html.contains("Answered 1 question on Infrastructure helpfully, without that tag."))
            // A manager of other people sees no section.
            let other = try await Web.signIn("p", fixture: fixture, client: client)
            (status, html) = try await TeamPageTests.page("/team", as: other, client: client)
            #expect(status == .ok && !html.contains(#"id="suggestions""#))
            // Another manager's form is refused as not found; a form without the session's token is refused.
            let (otherHeaders, otherBody) = other.form(["level": "4"])
            try await client.execute(uri: "/team/suggestions/\(id)/accept", method: .post, headers: otherHeaders, body: otherBody) {
                #expect($0.status == .notFound)
            }
            let (forged, forgedBody) = manager.form(["level": "4"], csrf: "forged")
            try await client.execute(uri: "/team/suggestions/\(id)/accept", method: .post, headers: forged, body: forgedBody) {
                #expect($0.status == .forbidden)
            }
            let (badHeaders, badBody) = manager.form(["level": "four"])
            try await client.execute(uri: "/team/suggestions/\(id)/accept", method: .post, headers: badHeaders, body: badBody) {
                #expect($0.status == .unprocessableContent)
            }
            // Accepted from the page: back to the team page's suggestions, r tagged at level 2, the section gone.
            let (headers, body) = manager.form(["level": "2", "back": "/team"])
            try await client.execute(uri: "/team/suggestions/\(id)/accept", method: .post, headers: headers, body: body) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/team#suggestions")
            }
            (status, html) = try await TeamPageTests.page("/team", as: manager, client: client)
            #expect(html.contains("r: Infrastructure at level 2."))
            #expect(html.contains(#"value="infra:2" aria-pressed="true" class="current""#))
            #expect(!html.contains(#"id="suggestions""#))
            try await client.execute(uri: "/team/suggestions/\(id)/dismiss", method: .post, headers: headers, body: body) {
                #expect($0.status == .conflict)
            }
        }
    }

    @Test func aStaleTagIsFlaggedOnTheTeamPageAndRemovedFromIt() async throws {
        let fixture = try await Fixture.make()
        // r passes four Kubernetes questions in a row: the tag may be out of date.
        try await fixture.questionStore.setLocalPresence(.available, of: "r", now: fixture.clock.now())
        let r = try await fixture.caller("r")
        for index in 1...4 {
            _ = try await fixture.questions.ask(QuestionDraft(asker: .employee("p"), topic: "k8s", text: "Kubernetes question \(index)"))
            let delivery = try #require(try await fixture.questions.inbox(of: r).first { $0.state == .pending })
            try await fixture.questions.pass(delivery: delivery.id, by: r)
            fixture.clock.advance(by: 3600)
        }
        try await fixture.test { client in
            let manager = try await Web.signIn("m", fixture: fixture, client: client)
            var (_, html) = try await TeamPageTests.page("/team", as: manager, client: client)
            #expect(html.contains("Tag may be out of date: passed or left unanswered 4 of 4 questions on Kubernetes in the last 30 days."))
            #expect(html.contains(">Remove tag</button>") && html.contains(">Keep</button>"))
            let id = try #require(html.firstMatch(of: #/id="s-(sg_[0-9a-f]+)"/#).map { String($0.1) })
            let (headers, body) = manager.form(["back": "/team?all=1"])
            try await client.execute(uri: "/team/suggestions/\(id)/accept", method: .post, headers: headers, body: body) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/team?all=1#suggestions")
            }
            (_, html) = try await TeamPageTests.page("/team", as: manager, client: client)
            #expect(html.contains("r: Kubernetes removed.") && !html.contains(#"id="suggestions""#))
            #expect(try await fixture.store.employee("r", by: .cliOperator).skills.isEmpty)
            let audit = try await fixture.database.writer.read { db in
                try String.fetchAll(db, sql: "SELECT entity || ' ' || action FROM auditEntry WHERE entityKey = 'r/kubernetes' ORDER BY id")
            }
            #expect(audit == ["skill create", "skill delete", "suggestion accept"])
        }
    }

    @Test func theTeamPageShowsTwentySuggestionsAtATimeAndTheRestOnTheNextPage() async throws {
        let fixture = try await Fixture.make()
        // Twenty-one helpful answers by r on twenty-one topics r is not tagged with, each delivered to r directly.
        for index in 1...21 {
            let slug = String(format: "area-%02d", index)
            _ = try await fixture.store.createTopic(Topic(slug: slug, name: "Area \(index)", parentSlug: "infra"), by: .cliOperator)
            let id = IdentifierGenerator.make(prefix: "q")
            let now = fixture.clock.now()
            _ = try await fixture.questionStore.createQuestion(
                NewQuestion(
                    id: id, asker: .employee("p"), topic: TopicReference(slug: slug, name: "Area \(index)"), text: "On area \(index)", maxAnswers: 1,
                    idempotencyKey: nil, callbackURL: nil, channel: .api, createdAt: now, expiresAt: now.addingTimeInterval(3600)),
                firstWave: [Candidate(handle: "r", level: 3)], nextActionAt: now.addingTimeInterval(60))
            let delivery = try #require(try await fixture.questionStore.inbox(of: "r", page: PageRequest(limit: 1)).items.first)
            _ = try await fixture.questionStore.recordAnswer(delivery: delivery.id, by: "r", text: "Yes", labeling: AnswerLabeling(k: 5), now: now)
            try await fixture.questionStore.rateAnswer(question: id, rank: 1, helpful: true, by: .employee("p"), isAdmin: false, now: now)
            fixture.clock.advance(by: 60)
        }
        try await fixture.test { client in
            let manager = try await Web.signIn("m", fixture: fixture, client: client)
            var (_, html) = try await TeamPageTests.page("/team", as: manager, client: client)
            func shown(_ html: String) -> [String] { html.matches(of: #/data-topic="(area-\d\d)"/#).map { String($0.1) } }
            let first = shown(html)
            #expect(first.count == 20 && first.first == "area-21")
            let next = try #require(TeamPageTests.link("next-suggestions", in: html))
            #expect(next.hasPrefix("/team?suggestions=") && next.hasSuffix("#suggestions"))
            (_, html) = try await TeamPageTests.page(String(next.prefix { $0 != "#" }), as: manager, client: client)
            #expect(shown(html) == ["area-01"] && TeamPageTests.link("next-suggestions", in: html) == nil)
            // A cursor that is not the list's starts it over.
            (_, html) = try await TeamPageTests.page("/team?suggestions=nonsense", as: manager, client: client)
            #expect(shown(html) == first)
        }
    }

    @Test func theAdminPageDrawsTheLastFourWeeksDayByDay() async throws {
        let fixture = try await Fixture.make()
        // Two days ago: one question, answered after 60 s; today: one that nobody answers.
        try await fixture.questionStore.setLocalPresence(.available, of: "r", now: fixture.clock.now())
        let r = try await fixture.caller("r")
        _ = try await fixture.questions.ask(QuestionDraft(asker: .employee("p"), topic: "k8s", text: "How do I drain a node?"))
        let delivery = try #require(try await fixture.questions.inbox(of: r).first)
        fixture.clock.advance(by: 60)
        _ = try await fixture.questions.answer(delivery: delivery.id, text: "kubectl drain", by: r)
        fixture.clock.advance(by: 2 * 86_400)
        _ = try await fixture.questions.ask(QuestionDraft(asker: .employee("p"), topic: "k8s", text: "And how do I cordon one?"))
        let day = AdminDay.formatter
        let today = day.string(from: fixture.clock.now())
        let twoDaysAgo = day.string(from: fixture.clock.now().addingTimeInterval(-2 * 86_400))
        let yesterday = day.string(from: fixture.clock.now().addingTimeInterval(-86_400))
        try await fixture.test { client in
            let admin = try await Web.signIn("admin", fixture: fixture, client: client)
            let html = try await client.execute(uri: "/admin", method: .get, headers: admin.headers) { response in
                #expect(response.status == .ok)
                return response.text
            }
            let svg = try #require(html.firstRange(of: #/<svg role="img"[\s\S]*?</svg>/#).map { String(html[$0]) })
            #expect(svg.contains(#"<title id="daily-title">"#) && svg.contains(#"<desc id="daily-desc">"#))
            #expect(!svg.contains("<script") && !svg.contains("href="))
            #expect(svg.matches(of: #/<rect class="bar" /#).count == 28)
            #expect(
                svg.contains(#"data-day="\#(today)""#)
                    && svg.contains(#"data-day="\#(day.string(from: fixture.clock.now().addingTimeInterval(-27 * 86_400)))""#))
            #expect(svg.contains("<title>\(twoDaysAgo): 1 asked, 100% answered, median first answer 60 s</title>"))
            #expect(svg.contains("<title>\(yesterday): 0 asked, 0% answered, median first answer –</title>"))
            #expect(svg.contains("<title>\(today): 1 asked, 0% answered, median first answer –</title>"))
            // One median dot: the only day with an answer. The share line has a point a day.
            #expect(svg.matches(of: #/<circle /#).count == 1)
            let points = try #require(svg.firstMatch(of: #/class="share" points="([^"]*)"/#)).1
            #expect(points.split(separator: " ").count == 28)
            // The same numbers as a table.
            #expect(html.matches(of: #/<tr><th scope="row">\d{4}-\d\d-\d\d</th>/#).count == 28)
            #expect(html.contains(#"<tr><th scope="row">\#(twoDaysAgo)</th><td>1</td><td>1</td><td>100%</td><td>60 s</td></tr>"#))
        }
    }
}

/// Days as the admin page writes them (YYYY-MM-DD, UTC).
enum AdminDay {
    static var formatter: DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter
    }
}
