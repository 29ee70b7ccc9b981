import Foundation

/// Which side of an answer's thread wrote a follow-up.
public enum FollowUpSide: String, Sendable, Equatable, Codable {
    case asker, specialist

    /// The side that receives what this side writes.
    public var other: FollowUpSide { self == .asker ? .specialist : .asker }
}

/// A message in the thread between an asker and the specialist who gave relayed answer `rank`, as one side sees it:
/// aliases only ("you", "the asker", "specialist 2"), never who.
public struct FollowUp: Sendable, Equatable, Codable {
    /// The answer whose thread it belongs to.
    public var rank: Int
    public var from: FollowUpSide
    /// How the viewer sees the sender: "you", "the asker" or "specialist 2".
    public var alias: String
    public var text: String
    public var sentAt: Date

    public init(rank: Int, from: FollowUpSide, alias: String, text: String, sentAt: Date) {
        self.rank = rank
        self.from = from
        self.alias = alias
        self.text = text
        self.sentAt = sentAt
    }

    /// How `viewer` sees a message from `sender` in the thread of the answer by "specialist `number`".
    public static func alias(of sender: FollowUpSide, seenBy viewer: FollowUpSide, specialistNumber number: Int) -> String {
        if sender == viewer { return "you" }
        return sender == .asker ? "the asker" : "specialist \(number)"
    }

    /// Whether `other` is this message, as a live event or as read from a store: a store keeps its time to the
    /// millisecond (SQLite) or microsecond (PostgreSQL), a live event to the clock's precision.
    public func isSameMessage(as other: FollowUp) -> Bool {
        rank == other.rank && from == other.from && alias == other.alias && text == other.text && abs(sentAt.timeIntervalSince(other.sentAt)) < 0.001
    }
}

/// Who writes a follow-up, and on which thread: the asker on their answer `rank`, or the specialist on their delivery.
public enum FollowUpAuthor: Sendable, Equatable {
    case asker(Asker, question: String, rank: Int)
    case specialist(handle: String, delivery: String)

    public var side: FollowUpSide {
        if case .asker = self { .asker } else { .specialist }
    }
}

/// A follow-up stored: both sides' views of it, and whom to tell live.
public struct RecordedFollowUp: Sendable, Equatable {
    public var questionID: String
    /// The specialist's delivery (theirs alone: it goes only to their own inbox stream).
    public var deliveryID: String
    /// The specialist's handle, for their inbox stream; never shown to the asker.
    public var specialistHandle: String
    /// As the asker sees it.
    public var askerView: FollowUp
    /// As the specialist sees it.
    public var specialistView: FollowUp

    public init(questionID: String, deliveryID: String, specialistHandle: String, askerView: FollowUp, specialistView: FollowUp) {
        self.questionID = questionID
        self.deliveryID = deliveryID
        self.specialistHandle = specialistHandle
        self.askerView = askerView
        self.specialistView = specialistView
    }

    /// The view of whoever wrote it.
    public func view(of side: FollowUpSide) -> FollowUp { side == .asker ? askerView : specialistView }
}

/// A follow-up on its way to the other side of the thread: the sender by alias only.
public struct FollowUpMessage: Sendable, Equatable, Codable {
    public var questionID: String
    /// The recipient's delivery, when the recipient is the specialist (their own id, never sent to the asker).
    public var deliveryID: String?
    public var recipient: Recipient
    public var topic: TopicReference
    /// The message as the recipient sees it (its alias names the sender as the recipient knows them).
    public var followUp: FollowUp
    /// The IM's reference of the earlier message in the recipient's conversation this one continues (the relayed
    /// answer, the question, or the thread's last follow-up), when it is known.
    public var replyTo: String?

    public init(questionID: String, deliveryID: String?, recipient: Recipient, topic: TopicReference, followUp: FollowUp, replyTo: String?) {
        self.questionID = questionID
        self.deliveryID = deliveryID
        self.recipient = recipient
        self.topic = topic
        self.followUp = followUp
        self.replyTo = replyTo
    }

    /// Which side receives it.
    public var recipientSide: FollowUpSide { followUp.from.other }
}

/// An answer thread an IM message belongs to: the message was the relayed answer or a follow-up, sent into the
/// conversation of `side`.
public struct ThreadReference: Sendable, Equatable {
    public var questionID: String
    public var rank: Int
    /// Whose conversation the message was in.
    public var side: FollowUpSide
    /// The specialist's delivery of the thread.
    public var deliveryID: String

    public init(questionID: String, rank: Int, side: FollowUpSide, deliveryID: String) {
        self.questionID = questionID
        self.rank = rank
        self.side = side
        self.deliveryID = deliveryID
    }
}

/// A question of an asker's whose threads are open, with its relayed answers: what a plain message in the IM may
/// continue.
public struct OpenThreads: Sendable, Equatable {
    public var questionID: String
    public var topic: TopicReference
    /// The relayed answers: rank and the specialist's alias.
    public var answers: [(rank: Int, alias: String)]

    public init(questionID: String, topic: TopicReference, answers: [(rank: Int, alias: String)]) {
        self.questionID = questionID
        self.topic = topic
        self.answers = answers
    }

    public static func == (lhs: OpenThreads, rhs: OpenThreads) -> Bool {
        lhs.questionID == rhs.questionID && lhs.topic == rhs.topic && lhs.answers.elementsEqual(rhs.answers) { $0 == $1 }
    }
}

extension OutboxMessage {
    /// The key under which the IM's reference for this message is kept once sent: a delivered question's delivery id,
    /// or `thread:<side>:<question>:<rank>` for a relayed answer, a follow-up or a reveal notice, so that a reply to it is
    /// recognised.
    public var referenceKey: String? {
        switch self {
        case .question(let message): message.deliveryID
        case .answer(let message): ThreadReferenceKey(questionID: message.questionID, rank: message.answer.rank, side: .asker).text
        case .followUp(let message):
            ThreadReferenceKey(questionID: message.questionID, rank: message.followUp.rank, side: message.recipientSide).text
        case .reveal(let message): ThreadReferenceKey(questionID: message.questionID, rank: message.rank, side: message.side).text
        case .closed, .askerNotice, .callback, .introduction: nil
        }
    }
}

/// The outbox's key for a thread message's IM reference: `thread:<side>:<question>:<rank>`.
public struct ThreadReferenceKey: Sendable, Equatable {
    public var questionID: String
    public var rank: Int
    public var side: FollowUpSide

    public init(questionID: String, rank: Int, side: FollowUpSide) {
        self.questionID = questionID
        self.rank = rank
        self.side = side
    }

    public var text: String { "thread:\(side.rawValue):\(questionID):\(rank)" }

    /// Reads a key; `nil` for anything else (a delivery id).
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "thread", let side = FollowUpSide(rawValue: String(parts[1])), let rank = Int(parts[3]) else {
            return nil
        }
        self.init(questionID: String(parts[2]), rank: rank, side: side)
    }
}
