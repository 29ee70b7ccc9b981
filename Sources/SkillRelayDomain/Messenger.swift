import Foundation

/// A person messages go to: their directory handle and, for IM servers that need it, their IM id.
public struct Recipient: Sendable, Equatable, Codable {
    public var handle: String
    public var imID: String?

    public init(handle: String, imID: String?) {
        self.handle = handle
        self.imID = imID
    }
}

/// A question on its way to a specialist: topic and text, never the asker.
public struct QuestionMessage: Sendable, Equatable, Codable {
    public var deliveryID: String
    public var recipient: Recipient
    public var topic: TopicReference
    public var text: String
    public var maxAnswers: Int

    public init(deliveryID: String, recipient: Recipient, topic: TopicReference, text: String, maxAnswers: Int) {
        self.deliveryID = deliveryID
        self.recipient = recipient
        self.topic = topic
        self.text = text
        self.maxAnswers = maxAnswers
    }
}

/// A relayed answer on its way to the asker: an alias, never the specialist.
public struct AnswerMessage: Sendable, Equatable, Codable {
    public var questionID: String
    public var asker: Recipient
    public var answer: RelayedAnswer
    public var maxAnswers: Int

    public init(questionID: String, asker: Recipient, answer: RelayedAnswer, maxAnswers: Int) {
        self.questionID = questionID
        self.asker = asker
        self.answer = answer
        self.maxAnswers = maxAnswers
    }
}

/// Tells a specialist still holding a question that it closed.
public struct ClosedMessage: Sendable, Equatable, Codable {
    public var deliveryID: String
    public var recipient: Recipient
    public var topic: TopicReference
    public var reason: CloseReason

    public init(deliveryID: String, recipient: Recipient, topic: TopicReference, reason: CloseReason) {
        self.deliveryID = deliveryID
        self.recipient = recipient
        self.topic = topic
        self.reason = reason
    }
}

/// Tells an asker their question closed, and how.
public struct AskerNotice: Sendable, Equatable, Codable {
    public var questionID: String
    public var asker: Recipient
    public var topic: TopicReference
    public var reason: CloseReason
    public var answerCount: Int

    public init(questionID: String, asker: Recipient, topic: TopicReference, reason: CloseReason, answerCount: Int) {
        self.questionID = questionID
        self.asker = asker
        self.topic = topic
        self.reason = reason
        self.answerCount = answerCount
    }
}

/// The IM server asked SkillRelay to wait before sending again (Matrix `429 M_LIMIT_EXCEEDED`): not a failure. The
/// outbox tries the message again after `retryAfter` seconds without counting a try, and never gives it up for this.
public struct DeliveryDeferred: Error, CustomStringConvertible {
    public var retryAfter: TimeInterval
    public var reason: String

    public init(retryAfter: TimeInterval, reason: String) {
        self.retryAfter = retryAfter
        self.reason = reason
    }

    public var description: String { "deferred for \(retryAfter) s: \(reason)" }
}

/// Sends messages to people through an IM server. (What people send back reaches `IMConversation` from the adapter's
/// own inbound loop; the `local` IM's inbound path is the HTTP API.)
///
/// Every send carries a key that is the same when the same message is retried, so an adapter can make retries
/// idempotent (Matrix transaction ids).
public protocol Messenger: Sendable {
    /// Delivers a question to a specialist; returns the IM's reference for the message (a Matrix event id), if it has
    /// one, which the outbox keeps with the delivery so that a reply to that message is recognised as the answer.
    func deliverQuestion(_ message: QuestionMessage, key: String) async throws -> String?
    /// Delivers a relayed answer to an asker who asked through the IM; returns the IM's reference for the message, if
    /// it has one, so that a reply to it is recognised: a follow-up, or `reveal`.
    func deliverAnswer(_ message: AnswerMessage, key: String) async throws -> String?
    /// Delivers a follow-up to the other side of an answer's thread; returns the IM's reference, as above.
    func deliverFollowUp(_ message: FollowUpMessage, key: String) async throws -> String?
    /// Tells a specialist the question they hold is closed.
    func notifyClosed(_ message: ClosedMessage, key: String) async throws
    /// Tells an asker who asked through the IM that their question closed.
    func notifyAsker(_ message: AskerNotice, key: String) async throws
    /// Tells one side of an exchange about a reveal (an offer, its withdrawal or refusal, or who the other is once both
    /// agreed); returns the IM's reference for the message, if it has one, so that a reply (`accept`) acts on it.
    func deliverReveal(_ message: RevealNotice, key: String) async throws -> String?
    /// Hands two people who both agreed to reveal themselves a conversation of their own (in Matrix, a new room with
    /// both invited); returns the IM's reference for it (the room), if it has one.
    func introduce(_ introduction: Introduction, key: String) async throws -> String?
}
