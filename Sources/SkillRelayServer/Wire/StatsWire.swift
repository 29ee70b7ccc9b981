import Foundation
import Hummingbird
import SkillRelayDomain

/// `GET /v1/stats`.
struct StatsResponse: ResponseEncodable {
    struct Questions: Encodable {
        var asked: Int
        var open: Int
        var answered: Int
        var expired: Int
        var cancelled: Int
        var withAnswers: Int
    }

    struct FirstAnswer: Encodable {
        var medianSeconds: Double?
        var p90Seconds: Double?
        var count: Int
    }

    struct UnansweredTopic: Encodable {
        var slug: String
        var name: String
        var unanswered: Int
        var asked: Int
    }

    struct Specialist: Encodable {
        var handle: String
        var name: String
        var deliveries: Int
        var answered: Int
    }

    var since: Date?
    var questions: Questions
    var shareAnswered: Double
    var timeToFirstAnswer: FirstAnswer
    var answersPerQuestion: Double
    var relayedAnswers: Int
    var unansweredTopics: [UnansweredTopic]
    var mostInterrupted: [Specialist]

    init(_ stats: QuestionStats, since: Date?) {
        self.since = since
        questions = Questions(
            asked: stats.asked, open: stats.open, answered: stats.answered, expired: stats.expired, cancelled: stats.cancelled,
            withAnswers: stats.withAnswers)
        shareAnswered = stats.shareAnswered
        timeToFirstAnswer = FirstAnswer(
            medianSeconds: stats.medianFirstAnswerSeconds, p90Seconds: stats.p90FirstAnswerSeconds, count: stats.firstAnswerSeconds.count)
        answersPerQuestion = stats.answersPerQuestion
        relayedAnswers = stats.relayedAnswers
        unansweredTopics = stats.unansweredTopics.map {
            UnansweredTopic(slug: $0.topic.slug, name: $0.topic.name, unanswered: $0.unanswered, asked: $0.asked)
        }
        mostInterrupted = stats.mostInterrupted.map { Specialist(handle: $0.handle, name: $0.name, deliveries: $0.deliveries, answered: $0.answered) }
    }
}
