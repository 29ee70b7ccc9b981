import Foundation

/// The two sides of an answer's exchange, for revealing as for follow-ups.
public typealias RevealSide = FollowUpSide

/// Where a reveal between an asker and one answerer stands, as one side sees it. Nobody learns anything of the other
/// before `revealed`: not their name, not their IM id, not whether they are online.
public enum RevealState: String, Sendable, Equatable, Codable {
    /// Nobody offered (or the offer was withdrawn).
    case none
    /// This side offered; the other has not answered yet. This side may withdraw.
    case offered
    /// The other side offered; this side may accept (by offering too) or decline.
    case invited
    /// Both agreed: each sees the other's name and IM id.
    case revealed
    /// One side declined: final for this pair and this question.
    case declined
}

/// A person as the other side learns them once both agreed to reveal.
public struct RevealedPerson: Sendable, Equatable, Codable {
    public var name: String
    /// Their IM id (a Matrix user id), if they have one.
    public var imID: String?

    public init(name: String, imID: String?) {
        self.name = name
        self.imID = imID
    }
}

/// A reveal as one side sees it: the state, and the other person only once both agreed.
public struct RevealView: Sendable, Equatable, Codable {
    public var state: RevealState
    /// The other side; set only when `state` is `revealed`.
    public var other: RevealedPerson?

    public init(state: RevealState, other: RevealedPerson? = nil) {
        self.state = state
        self.other = state == .revealed ? other : nil
    }

    public static let none = RevealView(state: .none)
}

/// What a reveal request does.
public enum RevealAction: String, Sendable, Equatable, Codable {
    /// Offers to reveal, or accepts the other side's offer.
    case offer
    /// Takes back an offer not yet accepted.
    case withdraw
    /// Refuses the other side's offer, for good.
    case decline
}

/// A change of a reveal, as the store made it.
public struct RevealChange: Sendable, Equatable {
    public var questionID: String
    /// The rank of the answer the pair is about.
    public var rank: Int
    /// The specialist's delivery.
    public var deliveryID: String
    /// The specialist's handle, for their inbox stream.
    public var specialist: String
    /// The asker's handle (a bot never reveals).
    public var asker: String
    /// How the asker sees it now, and how the specialist does.
    public var askerView: RevealView
    public var specialistView: RevealView
    /// `false` when nothing changed (an offer repeated, or one withdrawn that was never made).
    public var changed: Bool

    public init(
        questionID: String, rank: Int, deliveryID: String, specialist: String, asker: String, askerView: RevealView, specialistView: RevealView,
        changed: Bool
    ) {
        self.questionID = questionID
        self.rank = rank
        self.deliveryID = deliveryID
        self.specialist = specialist
        self.asker = asker
        self.askerView = askerView
        self.specialistView = specialistView
        self.changed = changed
    }

    /// The view of one side.
    public func view(of side: RevealSide) -> RevealView { side == .asker ? askerView : specialistView }
}

/// Tells one side about a reveal: the other side's offer, its withdrawal or refusal, or, once both agreed, who the
/// other is. Carries the other's identity only in `revealed`.
public struct RevealNotice: Sendable, Equatable, Codable {
    public enum Event: String, Sendable, Equatable, Codable {
        case offered, withdrawn, declined, revealed
    }

    public var event: Event
    /// Who receives it, and which side they are.
    public var recipient: Recipient
    public var side: RevealSide
    public var questionID: String
    public var rank: Int
    /// The specialist's delivery; in a notice to the asker it is not set.
    public var deliveryID: String?
    /// "specialist 2", as the asker knows the answerer.
    public var alias: String
    public var topic: TopicReference
    /// The other side, in `revealed` only.
    public var other: RevealedPerson?

    public init(
        event: Event, recipient: Recipient, side: RevealSide, questionID: String, rank: Int, deliveryID: String?, alias: String,
        topic: TopicReference, other: RevealedPerson?
    ) {
        self.event = event
        self.recipient = recipient
        self.side = side
        self.questionID = questionID
        self.rank = rank
        self.deliveryID = side == .specialist ? deliveryID : nil
        self.alias = alias
        self.topic = topic
        self.other = event == .revealed ? other : nil
    }
}

/// Hands two people who agreed to reveal themselves a direct conversation of their own.
public struct Introduction: Sendable, Equatable, Codable {
    public var questionID: String
    public var rank: Int
    public var deliveryID: String
    public var topic: TopicReference
    /// The asker, and the specialist who gave answer `rank`.
    public var asker: Recipient
    public var askerName: String
    public var specialist: Recipient
    public var specialistName: String

    public init(
        questionID: String, rank: Int, deliveryID: String, topic: TopicReference, asker: Recipient, askerName: String, specialist: Recipient,
        specialistName: String
    ) {
        self.questionID = questionID
        self.rank = rank
        self.deliveryID = deliveryID
        self.topic = topic
        self.asker = asker
        self.askerName = askerName
        self.specialist = specialist
        self.specialistName = specialistName
    }
}
