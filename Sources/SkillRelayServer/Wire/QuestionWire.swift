import Foundation
import Hummingbird
import SkillRelayDomain

/// `POST /v1/questions`.
struct AskRequest: Decodable {
    var topic: String?
    var text: String
    var maxAnswers: Int?
    var callbackUrl: String?
}

/// What the asker learns at once.
struct AskResponse: ResponseEncodable {
    var id: String
    var status: String
    var topic: TopicReferenceResponse
    var deliveredTo: Int
    var expiresAt: Date
}

/// An answer as the asker sees it: an alias and a label that fits at least k people, never who.
struct RelayedAnswerResponse: ResponseEncodable {
    var rank: Int
    var alias: String
    var label: AnswererLabel.Shown
    var text: String
    var receivedAt: Date
    var helpful: Bool?
    /// Where revealing stands with this answerer.
    var reveal: RevealViewResponse
    /// The answer's thread, oldest first: in the question's view; left out of the `answer` event.
    var messages: [FollowUpResponse]?

    init(_ answer: RelayedAnswer, reveal: RevealView = RevealView.none, messages: [FollowUp]? = nil) {
        self.reveal = RevealViewResponse(reveal)
        rank = answer.rank
        alias = answer.alias
        label = AnswererLabel.Shown(answer.label)
        text = answer.text
        receivedAt = answer.receivedAt
        helpful = answer.helpful
        self.messages = messages.map { $0.filter { $0.rank == answer.rank }.map(FollowUpResponse.init) }
    }
}

/// `GET /v1/questions/{id}`.
struct QuestionResponse: ResponseEncodable {
    var id: String
    var status: String
    var topic: TopicReferenceResponse
    var text: String
    var maxAnswers: Int
    var deliveredTo: Int
    var waves: Int
    var createdAt: Date
    var expiresAt: Date
    var closedAt: Date?
    var answers: [RelayedAnswerResponse]
    /// Until when follow-ups may be sent; absent while the question is open.
    var threadOpenUntil: Date?

    init(_ view: QuestionView) {
        id = view.id
        status = view.status.rawValue
        topic = TopicReferenceResponse(view.topic)
        text = view.text
        maxAnswers = view.maxAnswers
        deliveredTo = view.deliveredTo
        waves = view.waves
        createdAt = view.createdAt
        expiresAt = view.expiresAt
        closedAt = view.closedAt
        answers = view.answers.map { RelayedAnswerResponse($0, reveal: view.reveals[$0.rank] ?? RevealView.none, messages: view.followUps) }
        threadOpenUntil = view.threadOpenUntil
    }
}

/// `POST /v1/questions/{id}/ratings`.
struct RateRequest: Decodable {
    var rank: Int
    var helpful: Bool
}

/// A question in a specialist's inbox: never the asker.
struct InboxItemResponse: ResponseEncodable {
    var id: String
    var topic: TopicReferenceResponse
    var text: String
    var state: String
    var questionStatus: String
    var deliveredAt: Date
    /// The rank the answer was relayed as, when it was: then `messages` is its thread with the asker, and `reveal`
    /// where revealing stands with them.
    var rank: Int?
    var reveal: RevealViewResponse?
    var messages: [FollowUpResponse]

    init(_ item: InboxItem) {
        reveal = item.reveal.map(RevealViewResponse.init)
        id = item.id
        topic = TopicReferenceResponse(item.topic)
        text = item.text
        state = item.state.rawValue
        questionStatus = item.questionStatus.rawValue
        deliveredAt = item.deliveredAt
        rank = item.rank
        messages = item.followUps.map(FollowUpResponse.init)
    }
}

/// A question in its asker's list.
struct AskedQuestionResponse: Encodable, Sendable {
    var id: String
    var topic: TopicReferenceResponse
    var text: String
    var status: String
    var answers: Int
    var createdAt: Date

    init(_ question: AskedQuestion) {
        id = question.id
        topic = TopicReferenceResponse(question.topic)
        text = question.text
        status = question.status.rawValue
        answers = question.answers
        createdAt = question.createdAt
    }
}

/// `POST /v1/inbox/{deliveryId}/answer`.
struct AnswerRequest: Decodable {
    var text: String
}

/// Whether the answer reached the asker.
struct AnswerResponse: ResponseEncodable {
    var relayed: Bool
    var rank: Int?
    var reason: String?

    init(_ outcome: AnswerOutcome) {
        switch outcome {
        case .relayed(let rank):
            relayed = true
            self.rank = rank
        case .alreadyAnswered:
            relayed = false
            reason = "already_answered"
        case .closed:
            relayed = false
            reason = "closed"
        }
    }
}

/// `PUT /v1/me/presence`.
struct PresenceRequest: Decodable {
    var status: String
}

/// `PUT /v1/me/pause`.
struct PauseRequest: Decodable {
    var until: String
}

/// The caller's presence or pause as now set.
struct StatusResponse: ResponseEncodable {
    var status: String
    var until: Date?
}
