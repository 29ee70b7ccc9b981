import Foundation
import Hummingbird
import SkillRelayDomain

/// `POST /v1/questions/{id}/answers/{rank}/messages` and `POST /v1/inbox/{deliveryId}/messages`.
struct FollowUpRequest: Decodable {
    var text: String
}

/// A follow-up as one side of the thread sees it: aliases only ("you", "the asker", "specialist 2").
struct FollowUpResponse: ResponseEncodable, Equatable {
    /// The answer whose thread it is in.
    var rank: Int
    /// `asker` or `specialist`.
    var from: String
    var alias: String
    var text: String
    var sentAt: Date

    init(_ followUp: FollowUp) {
        rank = followUp.rank
        from = followUp.from.rawValue
        alias = followUp.alias
        text = followUp.text
        sentAt = followUp.sentAt
    }
}

/// A follow-up in a specialist's inbox thread, with the delivery it belongs to (their own id).
struct InboxFollowUpResponse: ResponseEncodable {
    var delivery: String
    var rank: Int
    var from: String
    var alias: String
    var text: String
    var sentAt: Date

    init(delivery: String, _ followUp: FollowUp) {
        self.delivery = delivery
        rank = followUp.rank
        from = followUp.from.rawValue
        alias = followUp.alias
        text = followUp.text
        sentAt = followUp.sentAt
    }
}
