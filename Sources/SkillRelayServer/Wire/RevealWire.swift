import Foundation
import Hummingbird
import SkillRelayDomain

/// The other side, once both agreed to reveal.
struct RevealedPersonResponse: Encodable, Sendable {
    var name: String
    var imId: String?

    init(_ person: RevealedPerson) {
        name = person.name
        imId = person.imID
    }
}

/// Where revealing stands, as the caller sees it: `other` only once both agreed.
struct RevealViewResponse: Encodable, Sendable {
    var state: String
    var other: RevealedPersonResponse?

    init(_ view: RevealView) {
        state = view.state.rawValue
        other = view.other.map(RevealedPersonResponse.init)
    }
}

/// `POST`/`DELETE /v1/questions/{id}/answers/{rank}/reveal` and `…/reveal/decline`.
struct AnswerRevealResponse: ResponseEncodable {
    var question: String
    var rank: Int
    var reveal: RevealViewResponse

    init(_ change: RevealChange) {
        question = change.questionID
        rank = change.rank
        reveal = RevealViewResponse(change.askerView)
    }
}

/// `POST`/`DELETE /v1/inbox/{delivery}/reveal` and `…/reveal/decline`.
struct DeliveryRevealResponse: ResponseEncodable {
    var id: String
    var rank: Int
    var reveal: RevealViewResponse

    init(_ change: RevealChange) {
        id = change.deliveryID
        rank = change.rank
        reveal = RevealViewResponse(change.specialistView)
    }
}
