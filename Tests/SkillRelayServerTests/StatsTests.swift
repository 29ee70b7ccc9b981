import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SkillRelayDomain
import Testing

/// The numbers at `/v1/stats` and `/metrics`, over a set of questions whose timing the test clock fixes.
@Suite struct StatsTests {
    /// Three Kubernetes questions from `boss`, each delivered to the three specialists: the first answered twice (after
    /// 60 s and 90 s), the second once (after 120 s), the third expires with no answer.
    static func knownQuestions() async throws -> Fixture {
        // Whole waves, as the tags order them: the learned routing would size the waves by what it has seen.
        var settings = Fixture.settings
        settings.routing = .static
        let fixture = try await Fixture.make(settings: settings)
        _ = try await fixture.addSpecialists(3)
        func ask(_ text: String, maxAnswers: Int) async throws -> String {
            try await fixture.questions.ask(QuestionDraft(asker: .employee("boss"), topic: "k8s", text: text, maxAnswers: maxAnswers)).id
        }
        func answer(_ handle: String, question text: String) async throws {
            let caller = try await fixture.caller(handle)
            let item = try #require(try await fixture.questions.inbox(of: caller).first { $0.text == text })
            _ = try await fixture.questions.answer(delivery: item.id, text: "An answer.", by: caller)
        }
        _ = try await ask("First?", maxAnswers: 2)
        fixture.clock.advance(by: 60)
        try await answer("kube.specialist.01", question: "First?")
        fixture.clock.advance(by: 30)
        try await answer("kube.specialist.02", question: "First?")
        _ = try await ask("Second?", maxAnswers: 1)
        fixture.clock.advance(by: 120)
        try await answer("kube.specialist.03", question: "Second?")
        _ = try await ask("Third?", maxAnswers: 1)
        for _ in 0..<20 {
            fixture.clock.advance(by: 120)
            _ = try await fixture.questions.tick()
        }
        return fixture
    }

    struct Stats: Decodable {
        struct Questions: Decodable {
            var asked, open, answered, expired, cancelled, withAnswers: Int
        }
        struct FirstAnswer: Decodable {
            var medianSeconds: Double?
            var p90Seconds: Double?
            var count: Int
        }
        struct Topic: Decodable {
            var slug: String
            var unanswered: Int
            var asked: Int
        }
        struct Specialist: Decodable {
            var handle: String
            var deliveries: Int
            var answered: Int
        }
        var questions: Questions
        var shareAnswered: Double
        var timeToFirstAnswer: FirstAnswer
        var answersPerQuestion: Double
        var relayedAnswers: Int
        struct Routing: Decodable {
            var policy: String
            var halfLifeDays: Double
            var deliveries: Int
            var answeredInTimeShare, passedShare, unansweredShare, trialShare: Double
            var answeredLate, peopleLearned, pairsLearned: Int
        }
        var unansweredTopics: [Topic]
        var mostInterrupted: [Specialist]
        var routing: Routing
    }

    @Test func statsCountAKnownSetOfQuestions() async throws {
        let fixture = try await Self.knownQuestions()
        try await fixture.test { client in
            let stats = try await client.execute(uri: "/v1/stats", method: .get, headers: fixture.headers(.admin)) { response in
                #expect(response.status == .ok)
                return try decode(Stats.self, response)
            }
            #expect(stats.questions.asked == 3 && stats.questions.answered == 2 && stats.questions.expired == 1 && stats.questions.open == 0)
            #expect(stats.questions.withAnswers == 2)
            #expect(abs(stats.shareAnswered - 2.0 / 3.0) < 1e-9)
            #expect(stats.relayedAnswers == 3 && stats.answersPerQuestion == 1)
            #expect(stats.timeToFirstAnswer.count == 2)
            #expect(stats.timeToFirstAnswer.medianSeconds == 60 && stats.timeToFirstAnswer.p90Seconds == 120)
            #expect(stats.unansweredTopics.map(\.slug) == ["kubernetes"])
            #expect(stats.unansweredTopics.first?.unanswered == 1 && stats.unansweredTopics.first?.asked == 3)
            #expect(stats.mostInterrupted.map(\.handle) == ["kube.specialist.01", "kube.specialist.02", "kube.specialist.03"])
            #expect(stats.mostInterrupted.allSatisfy { $0.deliveries == 3 && $0.answered == 1 })
            // Nine deliveries: three answers within the time that counts, six left unanswered when their question closed;
            // every one a trial (nobody had three known outcomes yet). Learned: the three, on the one topic.
            let routing = stats.routing
            #expect(routing.policy == "static" && routing.halfLifeDays == 14 && routing.deliveries == 9)
            #expect(abs(routing.answeredInTimeShare - 3.0 / 9) < 1e-9 && routing.answeredLate == 0 && routing.passedShare == 0)
            #expect(abs(routing.unansweredShare - 6.0 / 9) < 1e-9 && routing.trialShare == 1)
            #expect(routing.peopleLearned == 3 && routing.pairsLearned == 3)

            // Only questions asked since a time count.
            let since = ISO8601DateFormatter().string(from: fixture.clock.now())
            try await client.execute(uri: "/v1/stats?since=\(since)", method: .get, headers: fixture.headers(.admin)) { response in
                let recent = try decode(Stats.self, response)
                #expect(recent.questions.asked == 0)
            }
            try await client.execute(uri: "/v1/stats?since=last-week", method: .get, headers: fixture.headers(.admin)) {
                #expect($0.status == .badRequest)
            }
            try await client.execute(uri: "/v1/stats", method: .get, headers: fixture.headers(.m)) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/v1/stats", method: .get, headers: fixture.headers(.bot)) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/v1/stats", method: .get, headers: fixture.headers(nil)) { #expect($0.status == .unauthorized) }
        }
    }

    @Test func metricsAreInPrometheusTextFormat() async throws {
        let fixture = try await Self.knownQuestions()
        try await fixture.test { client in
            let text = try await client.execute(uri: "/metrics", method: .get, headers: fixture.headers(.admin)) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
                return response.text
            }
            let lines = text.split(separator: "\n").map(String.init)
            for expected in [
                "skillrelay_questions_asked_total 3", #"skillrelay_questions{status="expired"} 1"#, "skillrelay_questions_with_answers_total 2",
                "skillrelay_answers_relayed_total 3", "skillrelay_answers_per_question 1",
                #"skillrelay_time_to_first_answer_seconds{quantile="0.5"} 60"#, #"skillrelay_time_to_first_answer_seconds{quantile="0.9"} 120"#,
                "skillrelay_time_to_first_answer_seconds_sum 180", "skillrelay_time_to_first_answer_seconds_count 2",
                #"skillrelay_topic_unanswered_questions{topic="kubernetes"} 1"#,
                #"skillrelay_specialist_deliveries{specialist="kube.specialist.01"} 3"#,
                "# TYPE skillrelay_time_to_first_answer_seconds summary", "# TYPE skillrelay_questions_asked_total counter",
                // The routing's figures, as /v1/stats has them, and whether the IM reports presence (the local IM does).
                #"skillrelay_routing_policy{policy="static"} 1"#, #"skillrelay_routing_policy{policy="learned"} 0"#,
                #"skillrelay_routing_deliveries{outcome="answered_in_time"} 3"#, #"skillrelay_routing_deliveries{outcome="answered_late"} 0"#,
                #"skillrelay_routing_deliveries{outcome="passed"} 0"#, #"skillrelay_routing_deliveries{outcome="unanswered"} 6"#,
                #"skillrelay_routing_deliveries{outcome="pending"} 0"#, "skillrelay_routing_trial_deliveries_total 9",
                "skillrelay_routing_people_learned 3", "skillrelay_routing_pairs_learned 3",
                #"skillrelay_im_presence_reporting{state="reported"} 1"#, #"skillrelay_im_presence_reporting{state="unknown"} 0"#,
            ] {
                #expect(lines.contains(expected), "missing: \(expected)")
            }
            #expect(lines.contains { $0.hasPrefix("skillrelay_questions_answered_ratio 0.666") })
            // Every sample line is `name{labels} value`, each metric introduced by HELP and TYPE.
            let sample = #/^[a-z_]+(\{[a-z]+="[^"]*"\})? (-?[0-9.e+-]+|NaN)$/#
            for line in lines where !line.hasPrefix("#") { #expect(line.wholeMatch(of: sample) != nil, "bad sample: \(line)") }
            let typed = Set(lines.filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] })
            let helped = Set(lines.filter { $0.hasPrefix("# HELP ") }.map { $0.split(separator: " ")[2] })
            #expect(typed == helped && typed.count == 16)
            try await client.execute(uri: "/metrics", method: .get, headers: fixture.headers(.m)) { #expect($0.status == .forbidden) }
            try await client.execute(uri: "/metrics", method: .get) { #expect($0.status == .unauthorized) }
        }
    }

    @Test func nothingAskedGivesZerosAndNaN() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let text = try await client.execute(uri: "/metrics", method: .get, headers: fixture.headers(.admin)) { $0.text }
            #expect(text.contains("skillrelay_questions_asked_total 0\n"))
            #expect(text.contains(#"skillrelay_time_to_first_answer_seconds{quantile="0.5"} NaN"#))
            try await client.execute(uri: "/v1/stats", method: .get, headers: fixture.headers(.admin)) { response in
                let stats = try decode(Stats.self, response)
                #expect(stats.shareAnswered == 0 && stats.timeToFirstAnswer.medianSeconds == nil && stats.mostInterrupted.isEmpty)
            }
        }
    }

    @Test func percentilesAreNearestRank() {
        let values: [Double] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
        #expect(QuestionStats.percentile(50, of: values) == 5)
        #expect(QuestionStats.percentile(90, of: values) == 9)
        #expect(QuestionStats.percentile(100, of: values) == 10)
        #expect(QuestionStats.percentile(90, of: [42]) == 42)
        #expect(QuestionStats.percentile(50, of: []) == nil)
    }
}
