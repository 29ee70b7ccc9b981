import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SkillRelayDomain
import SkillRelayServer
import SkillRelayStore
import Testing

/// The web page through the router: sign-in links, the session cookie, forms, roles and escaping.
@Suite struct WebPageTests {
    /// A signed-in browser: its session cookie and the session's anti-forgery token.
    struct Browser {
        var cookie: String
        var csrf: String

        var headers: HTTPFields { [.cookie: cookie, .accept: "text/html"] }

        func form(_ fields: [String: String], csrf: String? = nil) -> (HTTPFields, ByteBuffer) {
            var all = fields
            all["csrf"] = csrf ?? self.csrf
            return (
                [.cookie: cookie, .contentType: "application/x-www-form-urlencoded", .accept: "text/html"], ByteBuffer(string: formBody(all))
            )
        }
    }

    static func formBody(_ fields: [String: String]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return fields.sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed)!)" }
            .joined(separator: "&")
    }

    static let formHeaders: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .accept: "text/html"]

    /// Signs `handle` in with a fresh link, as a browser would: open the link, confirm, keep the cookie.
    static func signIn(_ handle: String, fixture: Fixture, client: some TestClientProtocol) async throws -> Browser {
        let link = try await fixture.web.signIn.issueLink(for: handle, by: .cliOperator)
        let cookie = try await client.execute(
            uri: "/login", method: .post, headers: formHeaders, body: ByteBuffer(string: formBody(["token": link.secret]))
        ) { response in
            #expect(response.status == .seeOther)
            #expect(response.headers[.location] == "/ask")
            let setCookie = try #require(response.headers[.setCookie])
            return String(setCookie.prefix { $0 != ";" })
        }
        let csrf = try await client.execute(uri: "/ask", method: .get, headers: [.cookie: cookie]) { response in
            #expect(response.status == .ok)
            return try #require(csrfToken(in: response.text))
        }
        return Browser(cookie: cookie, csrf: csrf)
    }

    static func csrfToken(in html: String) -> String? {
        guard let range = html.range(of: #"name="csrf" value="([^"]+)""#, options: .regularExpression) else { return nil }
        return String(html[range].dropFirst(#"name="csrf" value=""#.count).dropLast())
    }

    // MARK: - Sign-in

    @Test func aLinkAsksToConfirmThenSignsInOnceOnly() async throws {
        let fixture = try await Fixture.make()
        let link = try await fixture.web.signIn.issueLink(for: "m", by: .cliOperator)
        try await fixture.test { client in
            // Opening the link (as a link preview would) does not use it up.
            for _ in 0..<2 {
                try await client.execute(uri: "/login?token=\(link.secret)", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(response.text.contains("Sign in as M?"))
                    #expect(response.headers[.setCookie] == nil)
                }
            }
            let body = ByteBuffer(string: Self.formBody(["token": link.secret]))
            try await client.execute(uri: "/login", method: .post, headers: Self.formHeaders, body: body) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.setCookie] != nil)
            }
            try await client.execute(uri: "/login", method: .post, headers: Self.formHeaders, body: body) { response in
                #expect(response.status == .gone)
                #expect(response.headers[.setCookie] == nil)
                #expect(response.text.contains("does not work"))
            }
            try await client.execute(uri: "/login?token=\(link.secret)", method: .get) { #expect($0.status == .gone) }
        }
    }

    @Test func aSignInFormPostedFromAnotherSiteIsRefusedAndLeavesTheLinkUnused() async throws {
        let fixture = try await Fixture.make()
        let link = try await fixture.web.signIn.issueLink(for: "m", by: .cliOperator)
        let body = ByteBuffer(string: Self.formBody(["token": link.secret]))
        let fetchSite = HTTPField.Name("Sec-Fetch-Site")!
        try await fixture.test { client in
            // Another site posting its own link would sign the visitor in as somebody else.
            let forged: [HTTPField] = [
                HTTPField(name: fetchSite, value: "cross-site"), HTTPField(name: fetchSite, value: "same-site"),
                HTTPField(name: .origin, value: "http://evil.example"), HTTPField(name: .origin, value: "null"),
                HTTPField(name: .origin, value: "http://localhost.evil.example"),
            ]
            for extra in forged {
                var headers = Self.formHeaders
                headers.append(extra)
                try await client.execute(uri: "/login", method: .post, headers: headers, body: body) { response in
                    #expect(response.status == .forbidden)
                    #expect(response.headers[.setCookie] == nil)
                    #expect(response.text.contains("did not come from SkillRelay"))
                }
            }
            // The page's own form, as a browser sends it.
            var headers = Self.formHeaders
            headers[fetchSite] = "same-origin"
            headers[.origin] = "http://localhost"
            try await client.execute(uri: "/login", method: .post, headers: headers, body: body) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.setCookie] != nil)
            }
        }
    }

    @Test func anOlderBrowsersOwnOriginIsAccepted() async throws {
        let fixture = try await Fixture.make()
        let link = try await fixture.web.signIn.issueLink(for: "m", by: .cliOperator)
        var olderBrowser = Self.formHeaders
        olderBrowser[.origin] = "http://LOCALHOST"
        let headers = olderBrowser
        try await fixture.test { client in
            try await client.execute(
                uri: "/login", method: .post, headers: headers, body: ByteBuffer(string: Self.formBody(["token": link.secret]))
            ) { #expect($0.status == .seeOther) }
        }
    }

    @Test func aLinkExpiresAfterFifteenMinutes() async throws {
        let fixture = try await Fixture.make()
        let fresh = try await fixture.web.signIn.issueLink(for: "m", by: .cliOperator)
        let stale = try await fixture.web.signIn.issueLink(for: "r", by: .cliOperator)
        #expect(stale.expiresAt.timeIntervalSince(fixture.clock.now()) == 15 * 60)
        fixture.clock.advance(by: 15 * 60 - 1)
        try await fixture.test { client in
            try await client.execute(
                uri: "/login", method: .post, headers: Self.formHeaders, body: ByteBuffer(string: Self.formBody(["token": fresh.secret]))
            ) { #expect($0.status == .seeOther) }
            fixture.clock.advance(by: 1)
            try await client.execute(
                uri: "/login", method: .post, headers: Self.formHeaders, body: ByteBuffer(string: Self.formBody(["token": stale.secret]))
            ) { #expect($0.status == .gone) }
        }
    }

    @Test func linksAreOnlyForOneselfOrFromAnAdmin() async throws {
        let fixture = try await Fixture.make()
        _ = try await fixture.web.signIn.issueLink(for: "r", by: Caller(identity: .employee("r")))
        await #expect(throws: DirectoryError.self) {
            _ = try await fixture.web.signIn.issueLink(for: "r", by: Caller(identity: .employee("m"), isManager: true))
        }
        await #expect(throws: DirectoryError.employeeNotFound("nobody")) {
            _ = try await fixture.web.signIn.issueLink(for: "nobody", by: .cliOperator)
        }
    }

    @Test func theSessionCookieIsHttpOnlyStrictAndSecureWhenAsked() async throws {
        let fixture = try await Fixture.make()
        for secure in [false, true] {
            var web = fixture.web
            web.secureCookies = secure
            let link = try await web.signIn.issueLink(for: "m", by: .cliOperator)
            let router = buildRouter(store: fixture.store, questions: fixture.questions, web: web)
            try await Application(router: router).test(.router) { client in
                try await client.execute(
                    uri: "/login", method: .post, headers: Self.formHeaders, body: ByteBuffer(string: Self.formBody(["token": link.secret]))
                ) { response in
                    let cookie = try #require(response.headers[.setCookie])
                    let attributes = cookie.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
                    #expect(attributes.first?.hasPrefix("\(WebSite.cookieName)=") == true)
                    #expect(attributes.contains("HttpOnly"))
                    #expect(attributes.contains("SameSite=Strict"))
                    #expect(attributes.contains("Path=/"))
                    #expect(attributes.contains("Secure") == secure)
                    #expect(attributes.contains { $0.hasPrefix("Expires=") })
                }
            }
        }
    }

    @Test func signingOutEndsTheSession() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let browser = try await Self.signIn("m", fixture: fixture, client: client)
            let (headers, body) = browser.form([:])
            try await client.execute(uri: "/logout", method: .post, headers: headers, body: body) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/")
                #expect(response.headers[.setCookie]?.contains("Expires=") == true)
            }
            try await client.execute(uri: "/ask", method: .get, headers: browser.headers) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/")
            }
        }
    }

    @Test func aSessionSurvivesARestartAndExpiresAfterTwelveHours() async throws {
        let fixture = try await Fixture.make()
        let browser = try await fixture.test { client in try await Self.signIn("m", fixture: fixture, client: client) }
        // A new router and persist driver on the same database: what a restarted process has.
        let webStore = SQLiteWebStore(database: fixture.database)
        var restarted = fixture.web
        restarted.sessionStorage = DatabasePersistDriver(store: webStore, clock: fixture.clock)
        let router = buildRouter(store: fixture.store, questions: fixture.questions, web: restarted)
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/ask", method: .get, headers: browser.headers) { #expect($0.status == .ok) }
            fixture.clock.advance(by: 12 * 3600 + 1)
            try await client.execute(uri: "/ask", method: .get, headers: browser.headers) { #expect($0.status == .seeOther) }
        }
    }

    @Test func theSessionKeysAndLinkSecretsAreStoredHashed() async throws {
        let fixture = try await Fixture.make()
        let link = try await fixture.web.signIn.issueLink(for: "m", by: .cliOperator)
        let browser = try await fixture.test { client in try await Self.signIn("r", fixture: fixture, client: client) }
        let key = String(browser.cookie.drop { $0 != "=" }.dropFirst())
        let dump = try await fixture.database.writer.read { db in
            try String.fetchAll(db, sql: "SELECT hex(secretHash) FROM loginLink UNION ALL SELECT hex(keyHash) || value FROM webSession")
        }
        #expect(dump.count == 3)
        #expect(!dump.joined().contains(link.secret) && !dump.joined().contains(key))
    }

    // MARK: - Forms

    @Test func aFormWithoutTheSessionsTokenIsRefused() async throws {
        let fixture = try await Fixture.make()
        _ = try await fixture.addSpecialists(1)
        try await fixture.test { client in
            let browser = try await Self.signIn("boss", fixture: fixture, client: client)
            let other = try await Self.signIn("p", fixture: fixture, client: client)
            for token in ["", "forged", other.csrf] {
                let (headers, body) = browser.form(["topic": "k8s", "text": "Forged?"], csrf: token)
                try await client.execute(uri: "/ask", method: .post, headers: headers, body: body) { response in
                    #expect(response.status == .forbidden)
                    #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
                }
            }
            try await client.execute(
                uri: "/ask", method: .post, headers: [.cookie: browser.cookie, .contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "topic=k8s&text=No+token")
            ) { #expect($0.status == .forbidden) }
            let (headers, body) = browser.form(["topic": "k8s", "text": "With the token"])
            try await client.execute(uri: "/ask", method: .post, headers: headers, body: body) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location]?.hasPrefix("/questions/q_") == true)
            }
            // No session at all: the form is refused, not redirected.
            try await client.execute(uri: "/ask", method: .post, headers: Self.formHeaders, body: ByteBuffer(string: "text=x")) {
                #expect($0.status == .unauthorized)
            }
        }
    }

    @Test func whatPeopleTypeIsShownAsText() async throws {
        let fixture = try await Fixture.make()
        let tokens = try await fixture.addSpecialists(1)
        let text = #"Is <script>alert("x")</script> & <b>bold</b> safe?"#
        try await fixture.test { client in
            let asker = try await Self.signIn("boss", fixture: fixture, client: client)
            let (headers, body) = asker.form(["topic": "k8s", "text": text])
            let page = try await client.execute(uri: "/ask", method: .post, headers: headers, body: body) { try #require($0.headers[.location]) }
            let specialist = try await Self.signIn("kube.specialist.01", fixture: fixture, client: client)
            let inbox = try await client.execute(uri: "/inbox", method: .get, headers: specialist.headers) { $0.text }
            let delivery = try #require(inbox.range(of: #"/inbox/d_[0-9a-f]+/answer"#, options: .regularExpression).map { String(inbox[$0]) })
            let (answerHeaders, answerBody) = specialist.form(["text": "<img src=x onerror=alert(1)> try this"])
            try await client.execute(uri: delivery, method: .post, headers: answerHeaders, body: answerBody) { #expect($0.status == .seeOther) }
            let question = try await client.execute(uri: page, method: .get, headers: asker.headers) { $0.text }
            for html in [inbox, question] {
                #expect(html.contains("Is &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt; safe?"))
                #expect(!html.contains("<script>alert"))
                #expect(!html.contains("<b>bold"))
            }
            #expect(question.contains("&lt;img src=x onerror=alert(1)&gt; try this"))
            #expect(!question.contains("<img"))
            #expect(tokens.count == 1)
        }
    }

    @Test func askerAndAnswererIntroduceThemselvesFromTheirPagesOnlyWhenBothAgree() async throws {
        let fixture = try await Fixture.make()
        _ = try await fixture.addSpecialists(1)
        try await fixture.test { client in
            let asker = try await Self.signIn("boss", fixture: fixture, client: client)
            let (headers, body) = asker.form(["topic": "k8s", "text": "Who runs our ingress?"])
            let page = try await client.execute(uri: "/ask", method: .post, headers: headers, body: body) { try #require($0.headers[.location]) }
            let specialist = try await Self.signIn("kube.specialist.01", fixture: fixture, client: client)
            var inbox = try await client.execute(uri: "/inbox", method: .get, headers: specialist.headers) { $0.text }
            let delivery = try #require(inbox.range(of: #"/inbox/d_[0-9a-f]+/answer"#, options: .regularExpression).map { String(inbox[$0]) })
            // Before answering, the specialist has nobody to introduce themselves to.
            #expect(!inbox.contains("/reveal"))
            let (answerHeaders, answerBody) = specialist.form(["text": "The platform team does."])
            try await client.execute(uri: delivery, method: .post, headers: answerHeaders, body: answerBody) { #expect($0.status == .seeOther) }
            // The asker offers from the answer.
            var question = try await client.execute(uri: page, method: .get, headers: asker.headers) { $0.text }
            let reveal = page + "/answers/1/reveal"
            #expect(question.contains(#"action="\#(reveal)""#) && question.contains("Offer to introduce myself"))
            let (offerHeaders, offerBody) = asker.form(["action": "offer"])
            try await client.execute(uri: reveal, method: .post, headers: offerHeaders, body: offerBody) { #expect($0.status == .seeOther) }
            question = try await client.execute(uri: page, method: .get, headers: asker.headers) { $0.text }
            #expect(question.contains("You offered to introduce yourselves") && question.contains("Withdraw my offer"))
            // The specialist is asked, and nothing on either page names the other yet.
            inbox = try await client.execute(uri: "/inbox", method: .get, headers: specialist.headers) { $0.text }
            #expect(inbox.contains("The colleague who asked would like to introduce themselves.") && inbox.contains(">Accept</button>"))
            #expect(!inbox.contains("boss") && !question.contains("Specialist 1 Person"))
            // A form without a known action is a clear 400.
            let inboxReveal = delivery.replacingOccurrences(of: "/answer", with: "/reveal")
            let (badHeaders, badBody) = specialist.form(["action": "shout"])
            try await client.execute(uri: inboxReveal, method: .post, headers: badHeaders, body: badBody) { #expect($0.status == .badRequest) }
            // Accepted: each page names the other.
            let (acceptHeaders, acceptBody) = specialist.form(["action": "offer"])
            try await client.execute(uri: inboxReveal, method: .post, headers: acceptHeaders, body: acceptBody) { #expect($0.status == .seeOther) }
            inbox = try await client.execute(uri: "/inbox", method: .get, headers: specialist.headers) { $0.text }
            question = try await client.execute(uri: page, method: .get, headers: asker.headers) { $0.text }
            #expect(
                question.contains("You introduced yourselves:") && question.contains("Specialist 1 Person")
                    && question.contains("@kube.specialist.01:localhost"))
            #expect(inbox.contains("You introduced yourselves:") && inbox.contains(#"<strong class="revealed-name">"#))
            #expect(!question.contains("Withdraw my offer") && !inbox.contains(">Accept</button>"))
        }
    }

    @Test func theAskPageListsMyOwnQuestionsOnly() async throws {
        let fixture = try await Fixture.make()
        _ = try await fixture.addSpecialists(1)
        try await fixture.test { client in
            let asker = try await Self.signIn("boss", fixture: fixture, client: client)
            let (headers, body) = asker.form(["topic": "k8s", "text": "Which <ingress> controller?"])
            let page = try await client.execute(uri: "/ask", method: .post, headers: headers, body: body) { try #require($0.headers[.location]) }
            let mine = try await client.execute(uri: "/ask", method: .get, headers: asker.headers) { $0.text }
            #expect(mine.contains("Your recent questions"))
            #expect(mine.contains(#"<a href="\#(page)">Which &lt;ingress&gt; controller?</a>"#))
            #expect(mine.contains("Kubernetes · open · 0 answer(s)"))
            // Someone else sees neither the list nor the question.
            let other = try await Self.signIn("p", fixture: fixture, client: client)
            let theirs = try await client.execute(uri: "/ask", method: .get, headers: other.headers) { $0.text }
            #expect(!theirs.contains("Your recent questions"))
            #expect(!theirs.contains(page))
        }
    }

    @Test func anAmbiguousOrUnknownTopicComesBackWithTheTextKept() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let browser = try await Self.signIn("boss", fixture: fixture, client: client)
            let (headers, body) = browser.form(["topic": "astrology", "text": "Will it <work>?", "maxAnswers": "2"])
            try await client.execute(uri: "/ask", method: .post, headers: headers, body: body) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.text.contains("role=\"alert\""))
                #expect(response.text.contains(">Will it &lt;work&gt;?</textarea>"))
                #expect(response.text.contains(#"<option value="2" selected>"#))
            }
            let (badHeaders, badBody) = browser.form(["text": "x", "maxAnswers": "many"])
            try await client.execute(uri: "/ask", method: .post, headers: badHeaders, body: badBody) {
                #expect($0.status == .unprocessableContent)
            }
        }
    }

    // MARK: - Roles

    @Test func myTeamIsForManagersAndShowsEveryoneBelow() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let report = try await Self.signIn("pr", fixture: fixture, client: client)
            try await client.execute(uri: "/team", method: .get, headers: report.headers) { response in
                #expect(response.status == .forbidden)
                #expect(response.text.contains("<h1>Not for you</h1>"))
                #expect(response.text.contains("My team is for managers"))
                #expect(!response.text.contains(#"href="/team""#))
            }
            let manager = try await Self.signIn("m", fixture: fixture, client: client)
            let page = try await client.execute(uri: "/team", method: .get, headers: manager.headers) { response in
                #expect(response.status == .ok)
                return response.text
            }
            // Direct reports first, with a way down to the people below them.
            #expect(page.contains(#"id="p-r""#) && page.contains(#"href="/team?under=r""#))
            #expect(!page.contains(#"id="p-deep""#) && !page.contains(#"id="p-m""#) && !page.contains(#"id="p-pr""#))
            // Tag, re-level and remove, each one form.
            for (path, fields) in [
                ("/team/deep/skills", ["topic": "terraform", "level": "4"]), ("/team/deep/skills", ["topic": "terraform", "level": "2"]),
            ] {
                let (headers, body) = manager.form(fields)
                try await client.execute(uri: path, method: .post, headers: headers, body: body) { #expect($0.status == .seeOther) }
            }
            #expect(try await fixture.store.employee("deep", by: .cliOperator).skills.first { $0.topic.slug == "terraform" }?.level == 2)
            let (headers, body) = manager.form(["topic": "terraform"])
            try await client.execute(uri: "/team/deep/skills/remove", method: .post, headers: headers, body: body) { #expect($0.status == .seeOther) }
            #expect(try await fixture.store.employee("deep", by: .cliOperator).skills.contains { $0.topic.slug == "terraform" } == false)
            // The same rules as the API: not a peer's skill, not a level out of range.
            let (peerHeaders, peerBody) = manager.form(["topic": "terraform", "level": "3"])
            try await client.execute(uri: "/team/pr/skills", method: .post, headers: peerHeaders, body: peerBody) { #expect($0.status == .forbidden) }
            let (levelHeaders, levelBody) = manager.form(["topic": "terraform", "level": "9"])
            try await client.execute(uri: "/team/deep/skills", method: .post, headers: levelHeaders, body: levelBody) {
                #expect($0.status == .unprocessableContent)
            }
        }
    }

    @Test func theRoleComesFromTheDirectoryOnEveryRequest() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let manager = try await Self.signIn("r", fixture: fixture, client: client)
            try await client.execute(uri: "/team", method: .get, headers: manager.headers) { #expect($0.status == .ok) }
            _ = try await fixture.store.updateEmployee("deep", with: EmployeePatch(isActive: false), by: .cliOperator)
            try await client.execute(uri: "/team", method: .get, headers: manager.headers) { #expect($0.status == .forbidden) }
            _ = try await fixture.store.updateEmployee("r", with: EmployeePatch(isActive: false), by: .cliOperator)
            try await client.execute(uri: "/ask", method: .get, headers: manager.headers) { #expect($0.status == .seeOther) }
        }
    }

    @Test func theAdminPageIsForAdmins() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let manager = try await Self.signIn("m", fixture: fixture, client: client)
            try await client.execute(uri: "/admin", method: .get, headers: manager.headers) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/admin/compliance-log?since=2020-01-01", method: .get, headers: manager.headers) {
                #expect($0.status == .forbidden)
            }
            let admin = try await Self.signIn("admin", fixture: fixture, client: client)
            try await client.execute(uri: "/admin", method: .get, headers: admin.headers) { response in
                #expect(response.status == .ok)
                #expect(response.text.contains("Questions asked"))
                // The routing's own figures, with the policy in use.
                #expect(response.text.contains(#"<h3 id="routing-heading">Routing</h3>"#) && response.text.contains("learned from outcomes"))
                #expect(response.text.contains(#"<dd id="routing-trials">"#))
                // The top level only, each branch a link away.
                #expect(response.text.contains(#"href="/admin?topic=infra#topics""#))
                #expect(!response.text.contains("k8s"))
            }
            try await client.execute(uri: "/admin?topic=infra", method: .get, headers: admin.headers) { response in
                #expect(response.status == .ok)
                #expect(response.text.contains("k8s") && response.text.contains(#"<span aria-current="page">Infrastructure</span>"#))
            }
            try await client.execute(uri: "/admin?q=k8s", method: .get, headers: admin.headers) { response in
                #expect(response.text.contains("<strong>Kubernetes</strong>") && !response.text.contains("<strong>Infrastructure</strong>"))
            }
            let (headers, body) = admin.form(["kind": "bot", "owner": "web-bot"])
            try await client.execute(uri: "/admin/tokens", method: .post, headers: headers, body: body) { response in
                #expect(response.status == .ok)
                #expect(response.text.range(of: #"<code class="secret">sr_[A-Za-z0-9_-]+</code>"#, options: .regularExpression) != nil)
            }
            try await client.execute(uri: "/admin/compliance-log?since=2020-01-01", method: .get, headers: admin.headers) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentDisposition]?.hasPrefix("attachment;") == true)
            }
            try await client.execute(uri: "/admin/compliance-log?since=yesterday", method: .get, headers: admin.headers) {
                #expect($0.status == .badRequest)
            }
        }
    }

    @Test func anAdminRenamesAndMovesATopicAndBadChangesAreRefused() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let admin = try await Self.signIn("admin", fixture: fixture, client: client)
            // Renamed and moved to the top in one go, by its alias; its skills and aliases stay.
            var (headers, body) = admin.form(["topic": "k8s", "name": "Kubernetes clusters", "root": "on"])
            try await client.execute(uri: "/admin/topics/edit", method: .post, headers: headers, body: body) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/admin#topics")
            }
            try await client.execute(uri: "/admin", method: .get, headers: admin.headers) { response in
                #expect(response.text.contains("Topic Kubernetes clusters (kubernetes) saved, at the top."))
                #expect(response.text.contains(#"<li class="depth-0"><strong>Kubernetes clusters</strong>"#))
            }
            var topic = try await fixture.store.topic("kubernetes")
            #expect(topic.topic.parentSlug == nil && topic.topic.aliases == ["k8s"] && topic.topic.description == "Clusters")
            // Moved back under a parent, the description changed.
            (headers, body) = admin.form(["topic": "kubernetes", "parent": "infra", "description": "Clusters and pods"])
            try await client.execute(uri: "/admin/topics/edit", method: .post, headers: headers, body: body) { #expect($0.status == .seeOther) }
            topic = try await fixture.store.topic("kubernetes")
            #expect(topic.topic.parentSlug == "infra" && topic.topic.name == "Kubernetes clusters" && topic.topic.description == "Clusters and pods")
            // A topic cannot go under its own subtree, nor under a topic that does not exist; something must change.
            let refused: [([String: String], HTTPResponse.Status, String)] = [
                (["topic": "infra", "parent": "kubernetes"], .unprocessableContent, "would make &#39;infra&#39; its own ancestor"),
                (["topic": "kubernetes", "parent": "no-such-topic"], .unprocessableContent, "parent topic &#39;no-such-topic&#39; does not exist"),
                (["topic": "no-such-topic", "name": "X"], .notFound, "no-such-topic"),
                (["topic": "kubernetes"], .unprocessableContent, "needs something to change"),
                (["topic": "kubernetes", "parent": "infra", "root": "on"], .unprocessableContent, "must be empty when the topic moves to the top"),
            ]
            for (fields, status, message) in refused {
                (headers, body) = admin.form(fields)
                try await client.execute(uri: "/admin/topics/edit", method: .post, headers: headers, body: body) { response in
                    #expect(response.status == status, "\(fields)")
                    #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
                    #expect(response.text.contains(message), "\(response.text)")
                }
            }
            #expect(try await fixture.store.topic("infra").topic.parentSlug == nil)
            // Only admins.
            let manager = try await Self.signIn("m", fixture: fixture, client: client)
            (headers, body) = manager.form(["topic": "kubernetes", "name": "Mine"])
            try await client.execute(uri: "/admin/topics/edit", method: .post, headers: headers, body: body) { #expect($0.status == .forbidden) }
        }
        #expect(try await fixture.store.topic("kubernetes").topic.name == "Kubernetes clusters")
    }

    // MARK: - Pages and errors

    @Test func pagesAreHTMLAndTheAPIKeepsJSON() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            try await client.execute(uri: "/", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.text.contains(#"<meta name="viewport""#))
                #expect(response.text.contains("skillrelay login-link"))
                #expect(response.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
            }
            try await client.execute(uri: "/no-such-page", method: .get, headers: [.accept: "text/html"]) { response in
                #expect(response.status == .notFound)
                #expect(response.text.contains("<h1>Not found</h1>"))
            }
            try await client.execute(uri: "/v1/no-such-route", method: .get, headers: [.accept: "text/html"]) { response in
                #expect(response.status == .notFound)
                #expect(response.apiError?.code == "not_found")
            }
            try await client.execute(uri: "/inbox", method: .get) { response in
                #expect(response.status == .seeOther)
                #expect(response.headers[.location] == "/")
            }
            for asset in ["app.css", "app.js"] {
                try await client.execute(uri: "/static/\(asset)", method: .get) { #expect($0.status == .ok) }
            }
            try await client.execute(uri: "/static/..%2FPackage.swift", method: .get) { #expect($0.status == .notFound) }
            let browser = try await Self.signIn("boss", fixture: fixture, client: client)
            try await client.execute(uri: "/questions/q_nope", method: .get, headers: browser.headers) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
            }
            try await client.execute(uri: "/suggest/topics?q=kube", method: .get, headers: browser.headers) { response in
                #expect(response.status == .ok)
                #expect(response.text.contains(#""slug":"kubernetes""#))
            }
            try await client.execute(
                uri: "/ask", method: .post, headers: [.cookie: browser.cookie, .contentType: "application/json"], body: ByteBuffer(string: "{}")
            ) { #expect($0.status == .unsupportedMediaType) }
        }
    }
}

extension HTTPField.Name {
    fileprivate static let contentSecurityPolicy = Self("Content-Security-Policy")!
}
