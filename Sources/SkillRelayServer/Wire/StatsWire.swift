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

    /// Tagged specialists the IM cannot reach: the first `UnreachablePeople.limit` by name, and how many in all.
    struct Unreachable: Encodable {
        struct Person: Encodable {
            var handle: String
            var name: String
            var imId: String
            var reason: UnreachablePeople.Reason
            var since: Date?
        }

        var total: Int
        var people: [Person]

        init(_ unreachable: UnreachablePeople) {
            total = unreachable.total
            people = unreachable.people.map { Person(handle: $0.handle, name: $0.name, imId: $0.imID, reason: $0.reason, since: $0.since) }
        }
    }

    /// The routing's own figures (`RoutingFigures`), shares from 0 to 1.
    struct Routing: Encodable {
        var policy: RoutingPolicy
        var halfLifeDays: Double
        var deliveries: Int
        var answeredInTimeShare: Double
        var answeredLate: Int
        var passedShare: Double
        var unansweredShare: Double
        var trialShare: Double
        var peopleLearned: Int
        var pairsLearned: Int

        init(_ figures: RoutingFigures) {
            policy = figures.policy
            halfLifeDays = figures.halfLifeDays
            deliveries = figures.deliveries
            answeredInTimeShare = figures.answeredInTimeShare
            answeredLate = figures.answeredLate
            passedShare = figures.passedShare
            unansweredShare = figures.unansweredShare
            trialShare = figures.trialShare
            peopleLearned = figures.peopleLearned
            pairsLearned = figures.pairsLearned
        }
    }

    /// Whether the IM server reports presence, as the last probe found.
    struct PresenceReport: Encodable {
        var reporting: PresenceReporting
        var checkedAt: Date?
        var since: Date?

        init(_ snapshot: PresenceReportingState.Snapshot) {
            reporting = snapshot.reporting
            checkedAt = snapshot.checkedAt
            since = snapshot.since
        }
    }

    var since: Date?
    var presence: PresenceReport
    var questions: Questions
    var shareAnswered: Double
    var timeToFirstAnswer: FirstAnswer
    var answersPerQuestion: Double
    var relayedAnswers: Int
    var unansweredTopics: [UnansweredTopic]
    var mostInterrupted: [Specialist]
    var routing: Routing
    /// Absent with an IM that has no rooms to be in (the embedded `local` one).
    var unreachable: Unreachable?

    init(_ stats: QuestionStats, since: Date?, presence: PresenceReportingState.Snapshot, unreachable: UnreachablePeople? = nil) {
        self.since = since
        self.presence = PresenceReport(presence)
        self.unreachable = unreachable.map(Unreachable.init)
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
        routing = Routing(stats.routing)
        mostInterrupted = stats.mostInterrupted.map { Specialist(handle: $0.handle, name: $0.name, deliveries: $0.deliveries, answered: $0.answered) }
    }
}
