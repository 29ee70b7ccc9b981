import Foundation

/// A question a specialist holds open: delivered to them, not answered or passed, no answer of theirs held for it, and
/// the question itself still open.
public struct OpenDelivery: Sendable, Equatable {
    /// The delivery's public id.
    public var id: String
    public var topic: TopicReference
    public var text: String
    public var deliveredAt: Date

    public init(id: String, topic: TopicReference, text: String, deliveredAt: Date) {
        self.id = id
        self.topic = topic
        self.text = text
        self.deliveredAt = deliveredAt
    }
}

/// A plain message taken as the answer to a question, held until `relayAt` so that `undo` can still take it back.
public struct HeldAnswer: Sendable, Equatable {
    public var deliveryID: String
    public var topic: TopicReference
    public var relayAt: Date

    public init(deliveryID: String, topic: TopicReference, relayAt: Date) {
        self.deliveryID = deliveryID
        self.topic = topic
        self.relayAt = relayAt
    }
}

/// What `undo` did.
public enum HeldAnswerWithdrawal: Sendable, Equatable {
    /// The answer to the question on this topic was still held, and is not sent.
    case withdrawn(TopicReference)
    /// The latest answer taken from a plain message is past its minute: relayed, or about to be.
    case tooLate(TopicReference)
    /// No answer was taken from a plain message.
    case nothing
}

/// A plain message from someone holding several open questions, waiting for them to say which one it answers.
public struct PlainChoice: Sendable, Equatable {
    public var text: String
    /// The deliveries as listed, the first numbered 1.
    public var options: [String]
    public var createdAt: Date

    public init(text: String, options: [String], createdAt: Date) {
        self.text = text
        self.options = options
        self.createdAt = createdAt
    }
}

/// Answers typed as plain IM messages: each method one transaction, writing its compliance entries.
public protocol PlainAnswerStore: Sendable {
    /// The questions the specialist holds open, oldest delivery first.
    func openDeliveries(of handle: String) async throws -> [OpenDelivery]
    /// Holds `text` as the specialist's answer to an open delivery until `relayAt`; `deliveryAlreadyAnswered` or
    /// `questionClosed` when the delivery is no longer open.
    func holdAnswer(delivery id: String, by handle: String, text: String, relayAt: Date, now: Date) async throws -> HeldAnswer
    /// Takes back the specialist's latest held answer if its relay time has not come.
    func withdrawHeldAnswer(by handle: String, now: Date) async throws -> HeldAnswerWithdrawal
    /// Held answers whose relay time has come, oldest first.
    func dueHeldAnswers(now: Date, limit: Int) async throws -> [Int64]
    /// Records a held answer as the specialist's answer (see `QuestionStore.recordAnswer`), in one transaction with
    /// ending its hold; `nil` if it was already relayed or withdrawn, or the specialist answered the question otherwise.
    func relayHeldAnswer(_ id: Int64, labeling: AnswerLabeling, now: Date) async throws -> AnswerResult?
    /// Keeps a plain message until its sender says which of `options` it answers, replacing any earlier one.
    func savePlainChoice(by handle: String, text: String, options: [String], now: Date) async throws
    /// Removes and returns the specialist's plain message waiting for a choice, if any.
    func takePlainChoice(by handle: String) async throws -> PlainChoice?
}
