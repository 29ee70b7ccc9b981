import Foundation

/// Where a question stands.
public enum QuestionStatus: String, Sendable, Equatable, Codable {
    case open, answered, expired, cancelled
}

/// Why a question closed.
public enum CloseReason: String, Sendable, Equatable, Codable {
    case answered, expired, cancelled

    /// The reason a closed question closed; `nil` while it is open.
    public init?(_ status: QuestionStatus) {
        switch status {
        case .open: return nil
        case .answered: self = .answered
        case .expired: self = .expired
        case .cancelled: self = .cancelled
        }
    }
}

/// Who asked: an employee or a bot.
public enum Asker: Sendable, Equatable, Hashable {
    case employee(String)
    case bot(String)

    /// The asker a caller stands for; the CLI operator asks as nobody.
    public init?(_ caller: Caller) {
        switch caller.identity {
        case .employee(let handle): self = .employee(handle)
        case .bot(let name): self = .bot(name)
        case .operator: return nil
        }
    }

    /// The employee's handle; `nil` for a bot.
    public var handle: String? {
        if case .employee(let handle) = self { handle } else { nil }
    }
}

/// How the question came in, and so where its answers go besides the API.
public enum QuestionChannel: String, Sendable, Equatable, Codable {
    /// The HTTP API or the web page: answers are read there (and POSTed to a bot's callback).
    case api
    /// A message to the SkillRelay bot: answers also go back to that conversation.
    case im
}

/// A question to be asked.
public struct QuestionDraft: Sendable, Equatable {
    public var asker: Asker
    /// A slug or alias; `nil` to find the topic from the text.
    public var topic: String?
    public var text: String
    public var maxAnswers: Int?
    public var idempotencyKey: String?
    public var callbackURL: String?
    public var channel: QuestionChannel

    public init(
        asker: Asker, topic: String?, text: String, maxAnswers: Int? = nil, idempotencyKey: String? = nil, callbackURL: String? = nil,
        channel: QuestionChannel = .api
    ) {
        self.asker = asker
        self.topic = topic
        self.text = text
        self.maxAnswers = maxAnswers
        self.idempotencyKey = idempotencyKey
        self.callbackURL = callbackURL
        self.channel = channel
    }
}

/// An answer as the asker sees it: an alias and a label no more precise than keeps k people indistinguishable, never who.
public struct RelayedAnswer: Sendable, Equatable, Codable {
    public var rank: Int
    /// "specialist 2": the specialist's number within this question.
    public var alias: String
    /// What the asker learns about the answerer: the topic and a level or band, or nothing.
    public var label: AnswererLabel
    public var text: String
    public var receivedAt: Date
    public var helpful: Bool?

    public init(rank: Int, alias: String, label: AnswererLabel, text: String, receivedAt: Date, helpful: Bool? = nil) {
        self.rank = rank
        self.alias = alias
        self.label = label
        self.text = text
        self.receivedAt = receivedAt
        self.helpful = helpful
    }

    enum CodingKeys: String, CodingKey {
        case rank, alias, label, text, receivedAt, helpful
        /// Before labels, an answer carried the topic and the exact level; outbox rows queued then still do.
        case topic, level
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        rank = try container.decode(Int.self, forKey: .rank)
        alias = try container.decode(String.self, forKey: .alias)
        if let label = try container.decodeIfPresent(AnswererLabel.self, forKey: .label) {
            self.label = label
        } else {
            label = AnswererLabel(
                topic: try container.decode(String.self, forKey: .topic), level: try container.decode(Int.self, forKey: .level), band: nil)
        }
        text = try container.decode(String.self, forKey: .text)
        receivedAt = try container.decode(Date.self, forKey: .receivedAt)
        helpful = try container.decodeIfPresent(Bool.self, forKey: .helpful)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(rank, forKey: .rank)
        try container.encode(alias, forKey: .alias)
        try container.encode(label, forKey: .label)
        try container.encode(text, forKey: .text)
        try container.encode(receivedAt, forKey: .receivedAt)
        try container.encodeIfPresent(helpful, forKey: .helpful)
    }
}

/// A question as its asker (or an admin) sees it.
public struct QuestionView: Sendable, Equatable {
    public var id: String
    public var status: QuestionStatus
    public var topic: TopicReference
    public var text: String
    public var maxAnswers: Int
    /// How many specialists it went to so far.
    public var deliveredTo: Int
    public var waves: Int
    public var createdAt: Date
    public var expiresAt: Date
    public var closedAt: Date?
    public var answers: [RelayedAnswer]
    /// Where revealing stands with each answerer, by the answer's rank (those with no offer are left out).
    public var reveals: [Int: RevealView]
    /// Every answer thread's follow-ups, oldest first, as the asker sees them.
    public var followUps: [FollowUp] = []
    /// Until when follow-ups may be sent (`nil` while the question is open: until some time after it closes).
    public var threadOpenUntil: Date?

    public init(
        id: String, status: QuestionStatus, topic: TopicReference, text: String, maxAnswers: Int, deliveredTo: Int, waves: Int,
        createdAt: Date, expiresAt: Date, closedAt: Date?, answers: [RelayedAnswer], reveals: [Int: RevealView] = [:]
    ) {
        self.reveals = reveals
        self.id = id
        self.status = status
        self.topic = topic
        self.text = text
        self.maxAnswers = maxAnswers
        self.deliveredTo = deliveredTo
        self.waves = waves
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.closedAt = closedAt
        self.answers = answers
    }
}

/// Where a delivery stands, from the specialist's side.
public enum DeliveryState: String, Sendable, Equatable, Codable {
    /// Waiting for the specialist.
    case pending
    case answered
    case passed
    /// The question closed before the specialist answered.
    case closed
}

/// One of an asker's own questions, for their list.
public struct AskedQuestion: Sendable, Equatable {
    public var id: String
    public var topic: TopicReference
    public var text: String
    public var status: QuestionStatus
    /// Answers relayed so far.
    public var answers: Int
    public var createdAt: Date

    public init(id: String, topic: TopicReference, text: String, status: QuestionStatus, answers: Int, createdAt: Date) {
        self.id = id
        self.topic = topic
        self.text = text
        self.status = status
        self.answers = answers
        self.createdAt = createdAt
    }
}

/// A question in a specialist's inbox: topic and text, never the asker.
public struct InboxItem: Sendable, Equatable, Codable {
    public var id: String
    public var topic: TopicReference
    public var text: String
    public var state: DeliveryState
    public var questionStatus: QuestionStatus
    public var deliveredAt: Date
    /// The rank of the specialist's answer as relayed, when it was: the thread they can follow up on.
    public var rank: Int?
    /// Where revealing stands with the asker; set only once the answer was relayed.
    public var reveal: RevealView?
    /// The thread's follow-ups, oldest first, as the specialist sees them.
    public var followUps: [FollowUp] = []

    public init(
        id: String, topic: TopicReference, text: String, state: DeliveryState, questionStatus: QuestionStatus, deliveredAt: Date, rank: Int? = nil,
        reveal: RevealView? = nil
    ) {
        self.rank = rank
        self.reveal = reveal
        self.id = id
        self.topic = topic
        self.text = text
        self.state = state
        self.questionStatus = questionStatus
        self.deliveredAt = deliveredAt
    }
}

/// What became of an answer.
public enum AnswerOutcome: Sendable, Equatable {
    /// Relayed to the asker as answer `rank`.
    case relayed(rank: Int)
    /// Kept, but the question already had its answers.
    case alreadyAnswered
    /// Kept, but the question was cancelled or expired.
    case closed
}

/// A specialist's record, which the ranking uses and ratings feed.
public struct AnswerRecord: Sendable, Equatable {
    public var delivered: Int
    public var answered: Int
    public var helpful: Int
    public var unhelpful: Int

    public init(delivered: Int = 0, answered: Int = 0, helpful: Int = 0, unhelpful: Int = 0) {
        self.delivered = delivered
        self.answered = answered
        self.helpful = helpful
        self.unhelpful = unhelpful
    }

    /// Answers per delivery, nudged by ratings: a helpful answer counts one and a half, an unhelpful one half.
    /// Someone who has never been asked gets the benefit of the doubt (0.5).
    public var answerRate: Double {
        guard delivered > 0 else { return 0.5 }
        let score = Double(answered) + 0.5 * Double(helpful) - 0.5 * Double(unhelpful)
        return max(0, min(1, score / Double(delivered)))
    }
}
