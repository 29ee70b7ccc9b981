import Foundation
import Hummingbird
import SkillRelayDomain

/// The numbers on how questions fare, for admins: JSON at `/v1/stats`, Prometheus text at `/metrics`.
struct StatsController {
    let stats: StatsService
    let questions: QuestionService
    /// Who the IM cannot reach; `nil` with the embedded `local` IM.
    let reach: (any ReachStore)?

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("stats", use: show)
    }

    func addMetricsRoute(to group: RouterGroup<APIRequestContext>) {
        group.get("metrics", use: metrics)
    }

    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> StatsResponse {
        var since: Date?
        if let text = request.uri.queryParameters["since"] {
            guard let date = InboxController.parseDate(String(text)) else {
                throw APIError.badRequest(
                    "The query parameter 'since' must be an ISO-8601 time such as 2026-11-01T00:00:00Z.", code: "invalid_parameter")
            }
            since = date
        }
        let caller = try context.requireCaller()
        let numbers = try await stats.stats(since: since, by: caller)
        return StatsResponse(
            numbers, since: since, presence: questions.presenceReportingSnapshot,
            unreachable: try await reach?.unreachable(by: caller, limit: UnreachablePeople.limit))
    }

    @Sendable func metrics(_ request: Request, context: APIRequestContext) async throws -> Response {
        let text = PrometheusText.render(
            try await stats.stats(by: try context.requireCaller()), outboxLagSeconds: questions.outboxLagSeconds,
            presence: questions.presenceReportingSnapshot.reporting)
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

/// The statistics in Prometheus's text exposition format (version 0.0.4).
enum PrometheusText {
    static func render(_ stats: QuestionStats, outboxLagSeconds: Double, presence: PresenceReporting) -> String {
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples { out += "\(name)\(sample.labels) \(sample.value)\n" }
        }
        metric("skillrelay_questions_asked_total", "counter", "Questions asked.", [("", "\(stats.asked)")])
        metric(
            "skillrelay_questions", "gauge", "Questions asked, by their status now.",
            [
                ("{status=\"open\"}", "\(stats.open)"), ("{status=\"answered\"}", "\(stats.answered)"),
                ("{status=\"expired\"}", "\(stats.expired)"), ("{status=\"cancelled\"}", "\(stats.cancelled)"),
            ])
        metric("skillrelay_questions_with_answers_total", "counter", "Questions that got at least one answer.", [("", "\(stats.withAnswers)")])
        metric(
            "skillrelay_questions_answered_ratio", "gauge", "Share of questions asked that got at least one answer.",
            [("", number(stats.shareAnswered))])
        metric("skillrelay_answers_relayed_total", "counter", "Answers relayed to askers.", [("", "\(stats.relayedAnswers)")])
        metric("skillrelay_answers_per_question", "gauge", "Answers relayed per question asked.", [("", number(stats.answersPerQuestion))])
        metric(
            "skillrelay_time_to_first_answer_seconds", "summary", "Seconds from asking to the first answer.",
            [
                ("{quantile=\"0.5\"}", number(stats.medianFirstAnswerSeconds)), ("{quantile=\"0.9\"}", number(stats.p90FirstAnswerSeconds)),
            ])
        out += "skillrelay_time_to_first_answer_seconds_sum \(number(stats.firstAnswerSeconds.reduce(0, +)))\n"
        out += "skillrelay_time_to_first_answer_seconds_count \(stats.firstAnswerSeconds.count)\n"
        metric(
            "skillrelay_topic_unanswered_questions", "gauge", "Questions that expired without an answer, for the topics with the most.",
            stats.unansweredTopics.map { ("{topic=\"\(label($0.topic.slug))\"}", "\($0.unanswered)") })
        metric(
            "skillrelay_specialist_deliveries", "gauge", "Questions delivered to the specialists who received the most.",
            stats.mostInterrupted.map { ("{specialist=\"\(label($0.handle))\"}", "\($0.deliveries)") })
        metric(
            "skillrelay_outbox_lag_seconds", "gauge",
            "How long the oldest message waiting for its first send had waited when the outbox last looked; new questions are refused past maxDeliveryLagSeconds.",
            [("", number(outboxLagSeconds))])
        let routing = stats.routing
        metric(
            "skillrelay_routing_policy", "gauge", "The routing in use: 1 for the policy in use, 0 for the others.",
            RoutingPolicy.allCases.map { ("{policy=\"\($0.rawValue)\"}", $0 == routing.policy ? "1" : "0") })
        let settled = routing.answeredInTime + routing.answeredLate + routing.passed + routing.unanswered
        metric(
            "skillrelay_routing_deliveries", "gauge",
            "Deliveries by outcome: answered within timelyAnswerSeconds, answered later, passed, unanswered when the question closed, or pending.",
            [
                ("{outcome=\"answered_in_time\"}", "\(routing.answeredInTime)"), ("{outcome=\"answered_late\"}", "\(routing.answeredLate)"),
                ("{outcome=\"passed\"}", "\(routing.passed)"), ("{outcome=\"unanswered\"}", "\(routing.unanswered)"),
                ("{outcome=\"pending\"}", "\(max(0, routing.deliveries - settled))"),
            ])
        metric(
            "skillrelay_routing_trial_deliveries_total", "counter",
            "Deliveries to someone with too few known outcomes on the topic to judge: the learned routing's exploration.",
            [("", "\(routing.trials)")])
        metric("skillrelay_routing_people_learned", "gauge", "People with learned routing statistics.", [("", "\(routing.peopleLearned)")])
        metric(
            "skillrelay_routing_pairs_learned", "gauge", "(person, topic) pairs with learned routing statistics.", [("", "\(routing.pairsLearned)")])
        metric(
            "skillrelay_im_presence_reporting", "gauge",
            "Whether the IM server reports presence, as the last probe found: 1 for that state, 0 for the others (notReported and unknown: availability comes from working hours).",
            PresenceReporting.allCases.map { ("{state=\"\($0.rawValue)\"}", $0 == presence ? "1" : "0") })
        return out
    }

    /// A sample value: `NaN` when there is nothing to measure, as Prometheus expects.
    static func number(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "NaN" }
        return value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    /// A label value with backslash, double quote and newline escaped.
    static func label(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}
