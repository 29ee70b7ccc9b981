import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SkillRelayDomain
import Testing

@testable import SkillRelayStore

/// The question flow through the HTTP API: contract, errors, anonymity.
@Suite struct QuestionAPITests {
    struct Asked: Decodable {
        var id: String
        var status: String
        var deliveredTo: Int
    }

    struct Inbox: Decodable {
        struct Item: Decodable {
            var id: String
        }
        var items: [Item]
    }

    static func askBody(topic: String? = "k8s", text: String = "How do I drain a node safely?", maxAnswers: Int? = nil, callback: String? = nil)
        -> ByteBuffer
    {
        var body: [String: Any] = ["text": text]
        if let topic { body["topic"] = topic }
        if let maxAnswers { body["maxAnswers"] = maxAnswers }
        if let callback { body["callbackUrl"] = callback }
        return ByteBuffer(bytes: try! JSONSerialization.data(withJSONObject: body))
    }

    @Test func aQuestionIsOnlyVisibleToItsAskerAndAdmins() async throws {
        let fixture = try await Fixture.make()
        _ = try await fixture.addSpecialists(2)
        try await fixture.test { client in
            let asked = try await client.execute(uri: "/v1/questions", method: .post, headers: fixture.headers(.deep), body: Self.askBody()) {
                #expect($0.status == .created)
                return try decode(Asked.self, $0)
            }
            #expect(asked.deliveredTo == 2 && asked.id.hasPrefix("q_") && asked.id.count > 30)
            for (who, status) in [(Fixture.Who.deep, HTTPResponse.Status.ok), (.admin, .ok), (.m, .notFound), (.bot, .notFound), (.r, .notFound)] {
                try await client.execute(uri: "/v1/questions/\(asked.id)", method: .get, headers: fixture.headers(who)) { response in
                    #expect(response.status == status, "\(who)")
                    if status == .notFound { #expect(response.apiError?.code == "question_not_found") }
                }
            }
            try await client.execute(uri: "/v1/questions/q_doesnotexist", method: .get, headers: fixture.headers(.deep)) {
                #expect($0.status == .notFound)
            }
            try await client.execute(uri: "/v1/questions/\(asked.id)", method: .delete, headers: fixture.headers(.m)) {
                #expect($0.status == .notFound)
            }
        }
    }

    @Test func theSameIdempotencyKeyReturnsTheSameQuestion() async throws {
        let fixture = try await Fixture.make()
        _ = try await fixture.addSpecialists(2)
        try await fixture.test { client in
            var headers = fixture.headers(.bot)
            headers[.idempotencyKey] = "ticket-4711"
            let first = try await client.execute(uri: "/v1/questions", method: .post, headers: headers, body: Self.askBody()) {
                #expect($0.status == .created)
                return try decode(Asked.self, $0)
            }
            let second = try await client.execute(uri: "/v1/questions", method: .post, headers: headers, body: Self.askBody()) {
                #expect($0.status == .ok)
                return try decode(Asked.self, $0)
            }
            #expect(first.id == second.id)
            var otherAsker = fixture.headers(.deep)
            otherAsker[.idempotencyKey] = "ticket-4711"
            let third = try await client.execute(uri: "/v1/questions", method: .post, headers: otherAsker, body: Self.askBody()) {
                try decode(Asked.self, $0)
            }
            #expect(third.id != first.id)
        }
    }

    @Test func aRetryWithTheSameKeyGetsItsQuestionEvenPastTheRateLimit() async throws {
        var settings = Fixture.settings
        settings.asksPerMinute = 1
        let fixture = try await Fixture.make(settings: settings)
        _ = try await fixture.addSpecialists(2)
        try await fixture.test { client in
            var headers = fixture.headers(.bot)
            headers[.idempotencyKey] = "ticket-4712"
            let first = try await client.execute(uri: "/v1/questions", method: .post, headers: headers, body: Self.askBody()) {
                #expect($0.status == .created)
                return try decode(Asked.self, $0)
            }
            // A bot retrying after a lost response is not refused: its question is already there, nothing more is sent.
            for _ in 0..<3 {
                let again = try await client.execute(uri: "/v1/questions", method: .post, headers: headers, body: Self.askBody()) {
                    #expect($0.status == .ok)
                    return try decode(Asked.self, $0)
                }
                #expect(again.id == first.id && again.deliveredTo == first.deliveredTo)
            }
            // A new question from the same caller still counts against the limit.
            headers[.idempotencyKey] = "ticket-4713"
            try await client.execute(uri: "/v1/questions", method: .post, headers: headers, body: Self.askBody()) {
                #expect($0.status == .tooManyRequests)
            }
        }
        let deliveries = try await fixture.database.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM delivery") }
        #expect(deliveries == 2)
    }

    @Test func theTopicIsFoundFromTheTextOrTheAskerIsAskedToChoose() async throws {
        let fixture = try await Fixture.make()
        _ = try await fixture.addSpecialists(1)
        _ = try await fixture.store.setSkill(of: "kube.specialist.01", topic: "terraform", level: 3, by: .cliOperator)
        try await fixture.test { client in
            try await client.execute(
                uri: "/v1/questions", method: .post, headers: fixture.headers(.deep),
                body: Self.askBody(topic: nil, text: "Which clusters does k8s run on?")
            ) { response in
                #expect(response.status == .created)
                #expect(response.text.contains(#""slug":"kubernetes""#))
            }
            try await client.execute(
                uri: "/v1/questions", method: .post, headers: fixture.headers(.deep),
                body: Self.askBody(topic: nil, text: "Should this be kubernetes or terraform?")
            ) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.apiError?.code == "ambiguous_topic")
                #expect(response.text.contains(#""suggestions""#) && response.text.contains("terraform") && response.text.contains("kubernetes"))
            }
            let cases: [(String?, String, String)] = [
                (nil, "What is the meaning of life?", "unknown_topic"), ("astrology", "Is Mercury in retrograde?", "unknown_topic"),
                ("helm", "How do I template a chart?", "no_specialists"),
            ]
            _ = try await fixture.store.createTopic(Topic(slug: "helm", name: "Helm", parentSlug: "infra"), by: .cliOperator)
            for (topic, text, code) in cases {
                try await client.execute(
                    uri: "/v1/questions", method: .post, headers: fixture.headers(.m), body: Self.askBody(topic: topic, text: text)
                ) {
                    response in
                    #expect(response.status == .unprocessableContent)
                    #expect(response.apiError?.code == code, "\(text)")
                }
            }
        }
    }

    @Test func badQuestionsAreRefusedWithClearErrors() async throws {
        let fixture = try await Fixture.make()
        _ = try await fixture.addSpecialists(1)
        let cases: [(ByteBuffer, HTTPResponse.Status, String)] = [
            (Self.askBody(text: "  "), .unprocessableContent, "invalid_field"),
            (Self.askBody(text: String(repeating: "x", count: 4001)), .unprocessableContent, "invalid_field"),
            (Self.askBody(maxAnswers: 11), .unprocessableContent, "invalid_field"),
            (Self.askBody(maxAnswers: 0), .unprocessableContent, "invalid_field"),
            (Self.askBody(callback: "ftp://example.org/hook"), .unprocessableContent, "invalid_callback_url"),
            (Self.askBody(text: "Card 4111 1111 1111 1111 fails, why?"), .unprocessableContent, "policy_violation"),
            (ByteBuffer(string: #"{"topic":"k8s"}"#), .badRequest, "missing_field"),
        ]
        try await fixture.test { client in
            for (body, status, code) in cases {
                try await client.execute(uri: "/v1/questions", method: .post, headers: fixture.headers(.deep), body: body) { response in
                    #expect(response.status == status, "\(response.text)")
                    #expect(response.apiError?.code == code)
                }
            }
        }
        let violations = try await fixture.questionStore.complianceEntries(since: .distantPast, until: nil).filter { $0.kind == "policy_violation" }
        #expect(violations.count == 1)
        #expect(violations.allSatisfy { !($0.text ?? "").contains("4111") })
    }

    @Test func askingTooOftenIsAnswered429WithRetryAfter() async throws {
        var settings = Fixture.settings
        settings.asksPerMinute = 2
        let fixture = try await Fixture.make(settings: settings)
        _ = try await fixture.addSpecialists(1)
        try await fixture.test { client in
            for _ in 0..<2 {
                try await client.execute(uri: "/v1/questions", method: .post, headers: fixture.headers(.bot), body: Self.askBody()) {
                    #expect($0.status == .created)
                }
            }
            try await client.execute(uri: "/v1/questions", method: .post, headers: fixture.headers(.bot), body: Self.askBody()) { response in
                #expect(response.status == .tooManyRequests)
                #expect(response.apiError?.code == "rate_limited")
                #expect(Int(response.headers[.retryAfter] ?? "") != nil)
            }
            // Another caller is not held back.
            try await client.execute(uri: "/v1/questions", method: .post, headers: fixture.headers(.deep), body: Self.askBody()) {
                #expect($0.status == .created)
            }
        }
    }

    @Test func whileDeliveriesAreBehindNewQuestionsAreAnswered503WithRetryAfter() async throws {
        var settings = QuestionSettings()
        settings.maxDeliveryLagSeconds = 10
        let fixture = try await Fixture.make(settings: settings)
        _ = try await fixture.addSpecialists(1)
        // More messages than one drain takes, queued 11 s before the outbox got to them: deliveries are behind.
        let topic = TopicReference(slug: "k8s", name: "Kubernetes")
        try await fixture.database.writer.write { db in
            for number in 0...200 {
                let late = QuestionMessage(
                    deliveryID: "d-late-\(number)", recipient: Recipient(handle: "r", imID: nil), topic: topic, text: "?", maxAnswers: 1)
                try SQLiteQuestionStore.enqueue(db, .question(late), now: fixture.clock.now())
            }
        }
        fixture.clock.advance(by: 11)
        // One drain takes 200 of them, and has not caught up: the IM server holds what it is sent.
        fixture.messenger.setOpen(false)
        await fixture.pump.kick()
        try await fixture.test { client in
            try await client.execute(uri: "/v1/questions", method: .post, headers: fixture.headers(.bot), body: Self.askBody()) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.apiError?.code == "overloaded")
                #expect(Int(response.headers[.retryAfter] ?? "") != nil)
            }
            // Operators see it coming in /metrics.
            try await client.execute(uri: "/metrics", method: .get, headers: fixture.headers(.admin)) { response in
                #expect(response.text.split(separator: "\n").contains("skillrelay_outbox_lag_seconds 11"))
            }
            // Bad input is still bad input.
            try await client.execute(uri: "/v1/questions", method: .post, headers: fixture.headers(.bot), body: Self.askBody(text: "")) {
                #expect($0.status == .unprocessableContent)
            }
        }
        // The IM server answers again, the next drain takes the last one and has caught up: questions are taken again.
        fixture.messenger.setOpen(true)
        await fixture.pump.flush()
        try await fixture.test { client in
            try await client.execute(uri: "/v1/questions", method: .post, headers: fixture.headers(.bot), body: Self.askBody()) {
                #expect($0.status == .created)
            }
        }
    }

    @Test func theInboxIsForEmployeesAndADeliveryOnlyForItsSpecialist() async throws {
        let fixture = try await Fixture.make()
        let tokens = try await fixture.addSpecialists(1)
        let specialist = bearer(tokens["kube.specialist.01"]!)
        try await fixture.test { client in
            try await client.execute(uri: "/v1/questions", method: .post, headers: fixture.headers(.deep), body: Self.askBody()) { _ in }
            let delivery = try await client.execute(uri: "/v1/inbox", method: .get, headers: specialist) { try decode(Inbox.self, $0).items[0].id }
            try await client.execute(uri: "/v1/inbox", method: .get, headers: fixture.headers(.bot)) { #expect($0.status == .forbidden) }
            try await client.execute(
                uri: "/v1/inbox/\(delivery)/answer", method: .post, headers: fixture.headers(.m), body: ByteBuffer(string: #"{"text":"me"}"#)
            ) {
                #expect($0.status == .notFound)
                #expect($0.apiError?.code == "delivery_not_found")
            }
            try await client.execute(uri: "/v1/inbox/\(delivery)/pass", method: .post, headers: specialist) { #expect($0.status == .noContent) }
            try await client.execute(uri: "/v1/inbox/\(delivery)/pass", method: .post, headers: specialist) { #expect($0.status == .conflict) }
            try await client.execute(uri: "/v1/me/presence", method: .put, headers: specialist, body: ByteBuffer(string: #"{"status":"dancing"}"#)) {
                #expect($0.status == .unprocessableContent)
            }
            try await client.execute(uri: "/v1/me/pause", method: .put, headers: specialist, body: ByteBuffer(string: #"{"until":"tomorrow"}"#)) {
                #expect($0.status == .badRequest)
            }
            try await client.execute(
                uri: "/v1/me/pause", method: .put, headers: specialist, body: ByteBuffer(string: #"{"until":"2000-01-01T00:00:00Z"}"#)
            ) {
                #expect($0.status == .unprocessableContent)
            }
            try await client.execute(
                uri: "/v1/me/pause", method: .put, headers: specialist, body: ByteBuffer(string: #"{"until":"2099-01-01T00:00:00Z"}"#)
            ) {
                #expect($0.status == .ok)
            }
            try await client.execute(uri: "/v1/me/pause", method: .delete, headers: specialist) { #expect($0.status == .ok) }
        }
    }

    @Test func aBotsCallbackGetsEachAnswerAndTheCloseSignedAndRetried() async throws {
        let fixture = try await Fixture.make(callbackFailures: 1)
        let tokens = try await fixture.addSpecialists(1)
        try await fixture.test { client in
            let asked = try await client.execute(
                uri: "/v1/questions", method: .post, headers: fixture.headers(.bot),
                body: Self.askBody(maxAnswers: 1, callback: "http://127.0.0.1:9/hook")
            ) { try decode(Asked.self, $0) }
            let specialist = bearer(tokens["kube.specialist.01"]!)
            let delivery = try await client.execute(uri: "/v1/inbox", method: .get, headers: specialist) { try decode(Inbox.self, $0).items[0].id }
            try await client.execute(
                uri: "/v1/inbox/\(delivery)/answer", method: .post, headers: specialist, body: ByteBuffer(string: #"{"text":"Use kubectl drain."}"#)
            ) {
                #expect($0.text == #"{"relayed":true,"rank":1}"# || $0.text == #"{"rank":1,"relayed":true}"#)
            }
            // The first try fails; the next is due a second later, and nothing was lost.
            await fixture.pump.flush()
            #expect(fixture.callbacks.posts.count <= 1)
            fixture.clock.advance(by: 2)
            await fixture.pump.flush()
            let posts = fixture.callbacks.posts
            #expect(posts.count == 2)
            #expect(posts.allSatisfy { $0.url == "http://127.0.0.1:9/hook" && $0.questionID == asked.id })
            #expect(posts.contains { $0.body.contains(#""event":"answer""#) && $0.body.contains("Use kubectl drain.") })
            #expect(posts.contains { $0.body.contains(#""event":"closed""#) && $0.body.contains(#""reason":"answered""#) })
            #expect(Set(fixture.callbacks.keys).count == 2)
        }
    }

    @Test func answersArriveOnTheAskersEventStreamInOrderAndItEndsWithClosed() async throws {
        let fixture = try await Fixture.make()
        let tokens = try await fixture.addSpecialists(2)
        try await fixture.test { client in
            let asked = try await client.execute(
                uri: "/v1/questions", method: .post, headers: fixture.headers(.deep), body: Self.askBody(maxAnswers: 2)
            ) {
                try decode(Asked.self, $0)
            }
            async let stream = client.execute(uri: "/v1/questions/\(asked.id)/events", method: .get, headers: fixture.headers(.deep)) { $0.text }
            for (index, handle) in ["kube.specialist.02", "kube.specialist.01"].enumerated() {
                let headers = bearer(tokens[handle]!)
                let delivery = try await client.execute(uri: "/v1/inbox", method: .get, headers: headers) { try decode(Inbox.self, $0).items[0].id }
                try await client.execute(
                    uri: "/v1/inbox/\(delivery)/answer", method: .post, headers: headers,
                    body: ByteBuffer(string: #"{"text":"answer \#(index + 1)"}"#)
                ) { _ in }
            }
            let text = try await stream
            let answers = text.components(separatedBy: "event: answer").count - 1
            #expect(answers == 2, "\(text)")
            let first = try #require(text.range(of: "answer 1"))
            let second = try #require(text.range(of: "answer 2"))
            #expect(first.lowerBound < second.lowerBound)
            #expect(text.hasSuffix("event: closed\ndata: {\"reason\":\"answered\"}\n\n"))
        }
    }
}

@Suite struct QuestionAPIEdgeTests {
    @Test func whatOnlyEmployeesDoIsRefusedToBotsAndOddInputGets4xx() async throws {
        let fixture = try await Fixture.make()
        _ = try await fixture.addSpecialists(1)
        try await fixture.test { client in
            let cases: [(Fixture.Who, HTTPRequest.Method, String, String?, HTTPResponse.Status)] = [
                (.bot, .put, "/v1/me/presence", #"{"status":"available"}"#, .forbidden),
                (.bot, .put, "/v1/me/pause", #"{"until":"2099-01-01T00:00:00Z"}"#, .forbidden),
                (.bot, .get, "/v1/inbox/events", nil, .forbidden),
                (.bot, .post, "/v1/inbox/d_nothing/answer", #"{"text":"x"}"#, .forbidden),
                (.deep, .get, "/v1/inbox?limit=0", nil, .badRequest),
                (.deep, .post, "/v1/inbox/d_nothing/answer", #"{"text":"x"}"#, .notFound),
                (.deep, .post, "/v1/inbox/d_nothing/pass", nil, .notFound),
                (.deep, .post, "/v1/questions/q_nothing/ratings", #"{"rank":"first","helpful":true}"#, .badRequest),
                (.deep, .get, "/v1/questions/q_nothing/events", nil, .notFound),
                (.deep, .delete, "/v1/questions/q_nothing", nil, .notFound),
            ]
            for (who, method, path, body, status) in cases {
                try await client.execute(uri: path, method: method, headers: fixture.headers(who), body: body.map { ByteBuffer(string: $0) }) {
                    response in
                    #expect(response.status == status, "\(who) \(method) \(path): \(response.text)")
                    #expect(response.apiError != nil)
                }
            }
            var headers = fixture.headers(.deep)
            headers[.idempotencyKey] = String(repeating: "k", count: 201)
            try await client.execute(uri: "/v1/questions", method: .post, headers: headers, body: ByteBuffer(string: #"{"topic":"k8s","text":"x"}"#))
            {
                #expect($0.status == .unprocessableContent)
            }
        }
    }
}
