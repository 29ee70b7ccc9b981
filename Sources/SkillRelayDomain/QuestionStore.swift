import Foundation

/// A question ready to be stored: its topic resolved, its id and deadline fixed.
public struct NewQuestion: Sendable, Equatable {
    public var id: String
    public var asker: Asker
    public var topic: TopicReference
    public var text: String
    public var maxAnswers: Int
    public var idempotencyKey: String?
    public var callbackURL: String?
    public var channel: QuestionChannel
    public var createdAt: Date
    public var expiresAt: Date

    public init(
        id: String, asker: Asker, topic: TopicReference, text: String, maxAnswers: Int, idempotencyKey: String?, callbackURL: String?,
        channel: QuestionChannel, createdAt: Date, expiresAt: Date
    ) {
        self.id = id
        self.asker = asker
        self.topic = topic
        self.text = text
        self.maxAnswers = maxAnswers
        self.idempotencyKey = idempotencyKey
        self.callbackURL = callbackURL
        self.channel = channel
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// Whom a wave may consider for a topic.
public struct CandidateQuery: Sendable, Equatable {
    /// The topic's slug; its subtopics count too.
    public var topic: String
    public var minimumLevel: Int
    /// Nobody who already received this many questions in the past hour.
    public var hourlyBudget: Int
    /// Nobody who already received this many questions in the past 24 hours (at most `QuestionSettings.maxDailyBudget`).
    public var dailyBudget: Int
    /// The asker, never a candidate for their own question.
    public var excluding: String?
    /// At most this many people. Where more are tagged at the best levels, the store takes them from a starting
    /// point that moves every minute, so that over time everyone at a level gets their turn while the questions of
    /// one minute share their people (and so the presence cache).
    public var limit: Int

    public init(
        topic: String, minimumLevel: Int = 1, hourlyBudget: Int = .max, dailyBudget: Int = QuestionSettings.maxDailyBudget,
        excluding: String? = nil, limit: Int = 1000
    ) {
        self.topic = topic
        self.minimumLevel = minimumLevel
        self.hourlyBudget = hourlyBudget
        self.dailyBudget = dailyBudget
        self.excluding = excluding
        self.limit = limit
    }
}

/// A question just stored, or found by its idempotency key.
public struct CreatedQuestion: Sendable, Equatable {
    public var id: String
    /// `false` when an idempotency key found an earlier question.
    public var created: Bool
    /// How many received the first wave, when `created`.
    public var deliveredTo: Int

    public init(id: String, created: Bool, deliveredTo: Int) {
        self.id = id
        self.created = created
        self.deliveredTo = deliveredTo
    }
}

/// What a wave needs to know about an open question.
public struct WaveContext: Sendable, Equatable {
    public var id: String
    public var asker: Asker
    public var topic: TopicReference
    /// Waves sent so far.
    public var waves: Int
    /// Handles of everyone who already received the question.
    public var alreadyAsked: Set<String>
    public var relayed: Int
    public var maxAnswers: Int
    public var expiresAt: Date
    /// The deliveries still waiting for their specialist's answer or pass.
    public var pending: [PendingDelivery]

    public init(
        id: String, asker: Asker, topic: TopicReference, waves: Int, alreadyAsked: Set<String>, relayed: Int, maxAnswers: Int, expiresAt: Date,
        pending: [PendingDelivery] = []
    ) {
        self.pending = pending
        self.id = id
        self.asker = asker
        self.topic = topic
        self.waves = waves
        self.alreadyAsked = alreadyAsked
        self.relayed = relayed
        self.maxAnswers = maxAnswers
        self.expiresAt = expiresAt
    }
}

/// A wave that went out.
public struct WaveOutcome: Sendable, Equatable {
    public var wave: Int
    public var newDeliveries: Int
    /// Everyone holding the question now, this wave included.
    public var deliveredTo: Int

    public init(wave: Int, newDeliveries: Int, deliveredTo: Int) {
        self.wave = wave
        self.newDeliveries = newDeliveries
        self.deliveredTo = deliveredTo
    }
}

/// What an answer did.
public struct AnswerResult: Sendable, Equatable {
    public var outcome: AnswerOutcome
    public var questionID: String
    /// The answer as relayed, when it was.
    public var relayed: RelayedAnswer?
    /// Set when this answer was the K-th and closed the question.
    public var closedQuestion: Bool

    public init(outcome: AnswerOutcome, questionID: String, relayed: RelayedAnswer?, closedQuestion: Bool) {
        self.outcome = outcome
        self.questionID = questionID
        self.relayed = relayed
        self.closedQuestion = closedQuestion
    }
}

/// A line of the compliance log: who (internal ids), what, when.
public struct ComplianceEntry: Sendable, Equatable, Codable {
    public var at: Date
    /// `in` (to SkillRelay) or `out` (from it).
    public var direction: String
    /// question, delivery, answer, relay, pass, cancel, notice, rating, policy_violation.
    public var kind: String
    /// Who sent it: `employee:<id>`, `bot:<name>` or `skillrelay`.
    public var sender: String
    /// Who received it, in the same form.
    public var recipient: String
    public var questionID: String?
    public var deliveryID: String?
    public var text: String?

    public init(
        at: Date, direction: String, kind: String, sender: String, recipient: String, questionID: String?, deliveryID: String?, text: String?
    ) {
        self.at = at
        self.direction = direction
        self.kind = kind
        self.sender = sender
        self.recipient = recipient
        self.questionID = questionID
        self.deliveryID = deliveryID
        self.text = text
    }
}

/// A signed JSON POST to a bot's callback URL.
public struct CallbackMessage: Sendable, Equatable, Codable {
    public var questionID: String
    public var url: String
    /// The JSON body, exactly as signed and sent.
    public var body: String

    public init(questionID: String, url: String, body: String) {
        self.questionID = questionID
        self.url = url
        self.body = body
    }
}

/// A message waiting in the outbox: written in the transaction that caused it, sent after.
public enum OutboxMessage: Sendable, Equatable, Codable {
    case question(QuestionMessage)
    case answer(AnswerMessage)
    case closed(ClosedMessage)
    case askerNotice(AskerNotice)
    case callback(CallbackMessage)
    /// A reveal's offer, withdrawal, refusal or completion, to the other side.
    case reveal(RevealNotice)
    /// Two people who both agreed to reveal themselves, handed a direct conversation.
    case introduction(Introduction)
    case followUp(FollowUpMessage)

    /// Who the message goes to, and so what must keep its order: one person (whatever the message), or one callback
    /// URL. Messages to one destination are sent in the order they were queued; destinations never wait for each other.
    public var destination: String {
        switch self {
        case .question(let message): "person:\(message.recipient.handle)"
        case .closed(let message): "person:\(message.recipient.handle)"
        case .answer(let message): "person:\(message.asker.handle)"
        case .askerNotice(let message): "person:\(message.asker.handle)"
        case .callback(let message): "callback:\(message.url)"
        case .reveal(let message): "person:\(message.recipient.handle)"
        // Two people at once: a queue of its own, so that neither person's other messages wait for the room.
        case .introduction(let message): "introduction:\(message.deliveryID)"
        case .followUp(let message): "person:\(message.recipient.handle)"
        }
    }

    /// The question and the delivery the message is about, where it names them.
    public var references: (questionID: String?, deliveryID: String?) {
        switch self {
        case .question(let message): (nil, message.deliveryID)
        case .closed(let message): (nil, message.deliveryID)
        case .answer(let message): (message.questionID, nil)
        case .askerNotice(let message): (message.questionID, nil)
        case .callback(let message): (message.questionID, nil)
        case .reveal(let message): (message.questionID, message.deliveryID)
        case .introduction(let message): (message.questionID, message.deliveryID)
        case .followUp(let message): (message.questionID, message.deliveryID)
        }
    }

    /// Whether it goes to a bot's callback URL rather than to a person.
    public var isCallback: Bool {
        if case .callback = self { return true }
        return false
    }
}

/// An outbox row.
public struct OutboxItem: Sendable, Equatable {
    public var id: Int64
    public var message: OutboxMessage
    public var attempts: Int
    /// When the message was queued.
    public var createdAt: Date
    /// Whether the IM server has put it off (rate limited) without a try being counted.
    public var deferred: Bool

    public init(id: Int64, message: OutboxMessage, attempts: Int, createdAt: Date, deferred: Bool = false) {
        self.id = id
        self.message = message
        self.attempts = attempts
        self.createdAt = createdAt
        self.deferred = deferred
    }

    /// Whether it waits for its first try because SkillRelay has not got to it yet: not a retry, not put off by the IM
    /// server, not a bot's callback. What the outbox's lag measures.
    public var isWaitingForSkillRelay: Bool { attempts == 0 && !deferred && !message.isCallback }

    /// The same for every retry of this message, so a receiver can drop duplicates.
    public var key: String { Self.keyPrefix + String(id) }

    /// The outbox id a `key` was made from; `nil` for any other text (another sender's transaction id).
    public static func id(fromKey key: String) -> Int64? {
        guard key.hasPrefix(keyPrefix) else { return nil }
        return Int64(key.dropFirst(keyPrefix.count))
    }

    static let keyPrefix = "skillrelay-"
}

extension QuestionStore {
    /// Every destination's due messages.
    public func pendingOutbox(now: Date, limit: Int) async throws -> [OutboxItem] {
        try await pendingOutbox(now: now, limit: limit, excluding: [])
    }
}

/// Questions, deliveries, answers, the local IM's presence, the compliance log and the outbox. Each method is one
/// transaction; every state change writes its compliance entries and outbox messages in that same transaction.
public protocol QuestionStore: PlainAnswerStore {
    /// The topic a slug or alias names, or `nil`.
    func resolveTopic(_ slugOrAlias: String) async throws -> TopicReference?
    /// Topics whose slug or alias is a word of the text, and full-text hits for the text, best first.
    func topicMatches(forText text: String) async throws -> (exact: [TopicReference], hits: [TopicHit])
    /// People tagged with the topic or a subtopic who may be interrupted now (see `CandidateQuery`), with what the
    /// ranking needs; the best levels first.
    func candidates(_ query: CandidateQuery, now: Date) async throws -> [Candidate]
    /// Whether anyone active but the excluded person is tagged with the topic or a subtopic at the minimum level,
    /// whether or not they may be interrupted now.
    func hasSpecialists(_ query: CandidateQuery) async throws -> Bool

    /// The id of the question this asker already sent with this idempotency key, if any.
    func question(askedBy asker: Asker, idempotencyKey: String) async throws -> String?

    /// Stores a question and delivers it to its first wave (none: the first wave is tried again at `nextActionAt`), in
    /// one transaction; or returns the one this asker already made with the same idempotency key, unchanged.
    func createQuestion(_ question: NewQuestion, firstWave: [Candidate], nextActionAt: Date) async throws -> CreatedQuestion
    /// An open question's wave state, or `nil` once it is closed.
    func waveContext(question id: String) async throws -> WaveContext?
    /// Delivers to `specialists` as wave `waves + 1`, unless another wave or a close got there first (then `nil`).
    /// With no specialists, only moves the next action to `nextActionAt`.
    func recordWave(question id: String, after waves: Int, to specialists: [Candidate], nextActionAt: Date, now: Date) async throws -> WaveOutcome?
    /// How long the newest answers (at most `limit`) took from their delivery, in seconds, newest first.
    func recentAnswerDelays(limit: Int) async throws -> [TimeInterval]
    /// Closes an open question past its deadline; `false` if it was not open.
    func expireQuestion(_ id: String, now: Date) async throws -> Bool
    /// Open questions whose next wave or expiry is due.
    func dueQuestions(now: Date, limit: Int) async throws -> [String]

    /// Records a specialist's answer; ranks it, in the same transaction, among the first K or not, and labels a
    /// relayed one as `labeling` allows (see `AnswererLabel`).
    func recordAnswer(delivery id: String, by handle: String, text: String, labeling: AnswerLabeling, now: Date) async throws -> AnswerResult
    /// Records a pass; returns the question's id and whether nobody holding it is still pending.
    func recordPass(delivery id: String, by handle: String, now: Date) async throws -> (questionID: String, nonePending: Bool)
    /// Cancels an open question for its asker or an admin.
    func cancelQuestion(_ id: String, by asker: Asker?, isAdmin: Bool, now: Date) async throws
    /// Rates relayed answer `rank` for the asker or an admin.
    func rateAnswer(question id: String, rank: Int, helpful: Bool, by asker: Asker?, isAdmin: Bool, now: Date) async throws
    /// The question as its asker sees it; `questionNotFound` for anyone else but an admin.
    func questionView(_ id: String, for asker: Asker?, isAdmin: Bool) async throws -> QuestionView
    /// An asker's own questions, newest first, a page at a time.
    func questions(askedBy asker: Asker, page: PageRequest) async throws -> ListPage<AskedQuestion>
    /// A specialist's inbox, newest first, a page at a time.
    func inbox(of handle: String, page: PageRequest) async throws -> ListPage<InboxItem>

    /// Sets someone's presence in the embedded `local` IM.
    func setLocalPresence(_ presence: Presence, of handle: String, now: Date) async throws
    /// Presence in the embedded `local` IM; anyone who never set it is offline.
    func localPresence(of handles: [String]) async throws -> [String: Presence]
    /// Pauses someone until a time, or resumes them with `nil`.
    func setPause(of handle: String, until: Date?, now: Date) async throws

    /// Logs a refused question or answer (without its text).
    func logPolicyViolation(sender: String, rule: String, kind: String, now: Date) async throws
    /// Compliance entries from `since` (and before `until`), oldest first.
    func complianceEntries(since: Date, until: Date?) async throws -> [ComplianceEntry]
    /// Deletes compliance entries older than `before`; returns how many.
    func purgeCompliance(before: Date) async throws -> Int
    /// Deletes outbox messages sent or given up before `before`; returns how many.
    func purgeOutbox(before: Date) async throws -> Int

    /// Outbox messages due for a (re)try, in queueing order, leaving out every message queued behind one to the same
    /// destination that is waiting for its retry: a failed message holds back its destination's later ones. Messages to
    /// `destinations` are left out (their worker is busy with them).
    func pendingOutbox(now: Date, limit: Int, excluding destinations: Set<String>) async throws -> [OutboxItem]
    /// Marks messages sent and keeps the IM's references of what was sent (by `OutboxMessage.referenceKey`: a delivery id
    /// for a question, a `ThreadReferenceKey` for an answer or a follow-up), in one transaction.
    func markOutboxSent(_ ids: [Int64], references: [String: String], now: Date) async throws
    /// Records a failed try; `retryAt` nil gives up on the message and writes that to the compliance log.
    func markOutboxFailed(_ id: Int64, error: String, retryAt: Date?) async throws
    /// Puts a message off until `until` without counting a try: the IM server asked SkillRelay to wait (rate limited).
    func deferOutbox(_ id: Int64, until: Date, reason: String) async throws
    /// Renews this instance's claims on messages it is still sending, or has sent and not marked yet, for another lease,
    /// so that no other instance takes them up meanwhile: a slow room, a rate limit or a hanging URL can outlast one
    /// lease. A claim that already lapsed (another instance may hold it now) stays as it is. Nothing to do where one
    /// process owns the outbox (SQLite).
    func renewOutboxClaims(_ ids: [Int64], now: Date) async throws
    /// How long a claim on an outbox message lasts before another instance may take the message up; `nil` where
    /// messages are not claimed (one process owns the outbox), and then there is nothing to renew.
    var outboxClaimLease: TimeInterval? { get }
    /// Gives back this instance's claims on what it has not finished, outbox messages not sent and due questions not
    /// handled, so that another instance takes them up at once instead of after their lease: for a clean stop, once
    /// nothing is sent or handled here any more (the question worker stopped, `OutboxDispatcher.stop` returned). Nothing
    /// to do where one process owns the database (SQLite).
    func releaseClaims(now: Date) async throws
    /// When the earliest open question or outbox message is next due, if any.
    func nextDueTime() async throws -> Date?

    /// The asker offers to reveal themselves to the answerer of relayed answer `rank` (or accepts their offer),
    /// withdraws or declines; `questionNotFound` for anyone but the asker, `answerNotFound` for a rank not relayed.
    /// Writes the change, its compliance entries and the messages to the other side in one transaction.
    func reveal(_ action: RevealAction, question id: String, rank: Int, by asker: Asker, now: Date) async throws -> RevealChange
    /// The specialist does the same on their delivery; `deliveryNotFound` for anyone else's, `noRelayedAnswer` when
    /// their answer was not relayed, `askerIsABot` when a bot asked.
    func reveal(_ action: RevealAction, delivery id: String, by handle: String, now: Date) async throws -> RevealChange

    // MARK: - Follow-ups

    /// Stores a follow-up on an answer's thread with its compliance entries and its outbox message to the other side (and
    /// the bot asker's callback), in one transaction. `questionNotFound` / `deliveryNotFound` / `answerNotFound` for a
    /// thread the author is not part of; `threadClosed` once the question closed more than `openFor` ago.
    func recordFollowUp(by author: FollowUpAuthor, text: String, openFor: TimeInterval, now: Date) async throws -> RecordedFollowUp
    /// The thread a message the IM sent belongs to (a relayed answer or a follow-up), by the IM's reference.
    func thread(forMessageReference reference: String) async throws -> ThreadReference?
    /// The asker's questions whose threads are open at `now`, newest first.
    func openThreads(of asker: Asker, openFor: TimeInterval, now: Date) async throws -> [OpenThreads]
}
