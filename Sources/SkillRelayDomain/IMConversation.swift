import Foundation

/// A message a person sent SkillRelay through an IM server.
public struct IncomingMessage: Sendable, Equatable {
    /// The sender's IM id.
    public var imID: String
    public var text: String
    /// The message this one replies to, if any.
    public var inReplyTo: String?
    /// The first message of the thread this one was written in, if any (Matrix `m.thread`).
    public var thread: String?
    /// Whether it came in the sender's own direct conversation with SkillRelay, where only they read the reply.
    public var isPrivate: Bool
    /// The IM's id of the message (a Matrix event id), where it has one: handling the same message again (a batch read
    /// again after a failure or a restart) asks its question once.
    public var id: String?

    public init(imID: String, text: String, inReplyTo: String? = nil, thread: String? = nil, isPrivate: Bool = true, id: String? = nil) {
        self.imID = imID
        self.text = text
        self.inReplyTo = inReplyTo
        self.thread = thread
        self.isPrivate = isPrivate
        self.id = id
    }

    /// Neither a reply nor in a thread: typed straight into the conversation.
    public var isPlain: Bool { inReplyTo == nil && thread == nil }
}

/// The conversation with SkillRelay in an IM client: replies to questions are answers (or `pass`); `ask`, `pause`,
/// `resume`, `tag`, `untag` and `help` are commands. Returns the replies to send back, in the same conversation.
public struct IMConversation: Sendable {
    let questions: QuestionService
    let directory: any DirectoryStore
    let state: any IMStateStore
    let clock: any WallClock
    /// Makes the links `login` sends; without it, `login` says the web page is not set up.
    let loginLinks: LoginLinks?

    public init(
        questions: QuestionService, directory: any DirectoryStore, state: any IMStateStore, clock: any WallClock = SystemWallClock(),
        loginLinks: LoginLinks? = nil
    ) {
        self.questions = questions
        self.directory = directory
        self.state = state
        self.clock = clock
        self.loginLinks = loginLinks
    }

    public static let refusal = "Sorry, SkillRelay can only help people in the company directory."

    public static let help = """
        SkillRelay finds colleagues who know. Write:
        • ask <topic>: <question> — or just ask <question> and I'll find the topic
        • reply to a question I sent you to answer it, or reply "pass"; while you hold one question, just write the answer (undo takes it back within a minute)
        • reply to an answer, or to a follow-up, to write back to the other side: still anonymous
        • reply reveal to an answer (or to a question you answered) to offer to introduce yourself; accept, decline or withdraw likewise
        • pause 2h (or 30m, 1d) to get no questions for a while; resume to get them again
        • tag <handle> <topic> <level> / untag <handle> <topic> — managers, for their people
        • login — a one-time link that signs you in to the web page
        • help — this text
        """

    /// Handles one message and returns the replies.
    public func handle(_ message: IncomingMessage) async -> [String] {
        do {
            guard let caller = try await state.caller(forIMID: message.imID) else { return [Self.refusal] }
            return [try await respond(to: message, from: caller)]
        } catch let error as DirectoryError {
            return [Self.explain(error)]
        } catch {
            return ["Something went wrong on our side; please try again in a minute."]
        }
    }

    private func respond(to message: IncomingMessage, from caller: Caller) async throws -> String {
        let text = message.text.trimmingWhitespace()
        // `reveal`, `accept`, `decline` or `withdraw` on a message of an answer's exchange (the relayed answer, a
        // follow-up, a notice about revealing, the question once answered) acts on revealing; anything else written
        // there is a follow-up.
        if Self.revealAction(text) != nil {
            for reference in [message.inReplyTo, message.thread].compactMap({ $0 }) {
                if let thread = try await questions.thread(forMessageReference: reference) {
                    return try await replyInThread(text, thread, from: caller)
                }
            }
        }
        if let sent = try await followUpReply(to: message, text: text, from: caller) { return sent }
        if let reference = message.inReplyTo, let delivery = try await state.delivery(forMessageReference: reference) {
            if let action = Self.revealAction(text) { return try await replyToQuestion(action, delivery: delivery, from: caller) }
            return try await reply(text, to: delivery, from: caller)
        }
        // Written in a question's thread, as a reply to something else there (or to nothing, as Element's "reply in
        // thread" does after the first): an answer to the thread's question all the same.
        if let root = message.thread, let delivery = try await state.delivery(forMessageReference: root) {
            if let action = Self.revealAction(text) { return try await replyToQuestion(action, delivery: delivery, from: caller) }
            return try await reply(text, to: delivery, from: caller)
        }
        let (command, rest) = Self.split(text)
        switch command {
        case "ask":
            return try await ask(rest, from: caller, message: message.id)
        case "pause":
            guard let seconds = Self.duration(rest) else { return "Say how long, e.g. pause 2h, pause 30m or pause 1d." }
            let until = clock.now().addingTimeInterval(seconds)
            try await questions.setPause(until: until, by: caller)
            return "Paused: no questions until \(Self.format(until)). Write resume to get them again."
        case "resume":
            try await questions.setPause(until: nil, by: caller)
            return "Welcome back: you will get questions again."
        case "tag":
            let words = rest.split(separator: " ").map(String.init)
            guard words.count == 3, let level = Int(words[2]) else { return "Write tag <handle> <topic> <level>, e.g. tag ana.lima kubernetes 4." }
            let skill = try await directory.setSkill(of: words[0], topic: words[1], level: level, by: caller)
            return "Tagged \(words[0]) with \(skill.topic.name) at level \(skill.level)."
        case "login":
            guard let loginLinks, let handle = caller.handle else { return "The web page is not set up on this SkillRelay." }
            guard message.isPrivate else { return "Write login in your direct chat with me, so nobody else sees your link." }
            // The IM server proved who is writing: the link is for them alone, sent only into their own direct room.
            let link = try await loginLinks.link(for: handle, by: caller)
            return "Your sign-in link for the web page, good once and until \(Self.format(link.expiresAt)):\n\(link.url)"
        case "untag":
            let words = rest.split(separator: " ").map(String.init)
            guard words.count == 2 else { return "Write untag <handle> <topic>, e.g. untag ana.lima kubernetes." }
            try await directory.removeSkill(of: words[0], topic: words[1], by: caller)
            return "Removed \(words[1]) from \(words[0])."
        case "undo":
            return try await undo(by: caller)
        default:
            if let sent = try await plainMessage(message, text: text, from: caller) { return sent }
            return try await askerPlainFollowUp(text, from: caller) ?? Self.help
        }
    }

    private func reply(_ text: String, to delivery: String, from caller: Caller) async throws -> String {
        if text.lowercased() == "pass" {
            try await questions.pass(delivery: delivery, by: caller)
            return "Passed; thanks for letting us know."
        }
        switch try await questions.answer(delivery: delivery, text: text, by: caller) {
        case .relayed(let rank): return "Thanks! Your answer was relayed to the asker (answer \(rank))."
        case .alreadyAnswered: return "Thanks, it was already answered; your answer is kept but not relayed."
        case .closed: return "Thanks; the question had already closed, so your answer is kept but not relayed."
        }
    }

    /// Asks; `message`, the IM's id of the message, is the ask's idempotency key, so the same message asks once.
    private func ask(_ rest: String, from caller: Caller, message: String?) async throws -> String {
        guard let asker = Asker(caller) else { return Self.refusal }
        var topic: String?
        var text = rest
        if let colon = rest.firstIndex(of: ":") {
            let candidate = String(rest[..<colon]).trimmingWhitespace().lowercased()
            if DirectoryValidation.isValidSlug(candidate) {
                topic = candidate
                text = String(rest[rest.index(after: colon)...]).trimmingWhitespace()
            }
        }
        guard !text.isEmpty else { return "Write ask <topic>: <question>, or ask <question>." }
        let asked = try await questions.ask(
            QuestionDraft(asker: asker, topic: topic, text: text, idempotencyKey: message.flatMap { $0.count < 190 ? "im:\($0)" : nil }, channel: .im)
        )
        if asked.deliveredTo == 0 {
            return "Asked about \(asked.topic.name). Nobody is available right now; I'll keep trying and send answers here."
        }
        return "Asked \(asked.deliveredTo) specialist\(asked.deliveredTo == 1 ? "" : "s") in \(asked.topic.name); answers will come here."
    }

    // MARK: - Wording

    /// What a person reads for an error.
    static func explain(_ error: DirectoryError) -> String {
        switch error {
        case .ambiguousTopic(let topics):
            "Several topics fit: \(topics.map(\.slug).joined(separator: ", ")). Ask again as ask <topic>: <question>."
        case .unknownTopic(nil): "I could not tell the topic. Ask again as ask <topic>: <question>."
        default: error.message
        }
    }

    /// The first word, lowercased, and the rest.
    static func split(_ text: String) -> (String, String) {
        guard let space = text.firstIndex(where: \.isWhitespace) else { return (text.lowercased(), "") }
        return (text[..<space].lowercased(), String(text[space...]).trimmingWhitespace())
    }

    /// `2h`, `30m`, `1d`, `45s` in seconds; at most 30 days.
    static func duration(_ text: String) -> TimeInterval? {
        guard let unit = text.last, let amount = Double(text.dropLast()), amount > 0 else { return nil }
        let seconds: Double? =
            switch unit {
            case "s": amount
            case "m": amount * 60
            case "h": amount * 3600
            case "d": amount * 86_400
            default: nil
            }
        return seconds.flatMap { $0 <= 30 * 86_400 ? $0 : nil }
    }

    static func format(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: date)
    }
}

extension IMConversation {
    /// The text of a question delivered to a specialist.
    public static func questionText(_ message: QuestionMessage) -> String {
        """
        A colleague asks about \(message.topic.name):

        \(message.text)

        Reply to this message to answer, or reply "pass". Who asked stays private, and so do you unless you say.
        """
    }

    /// The text of an answer relayed to an asker.
    public static func answerText(_ message: AnswerMessage) -> String {
        let answer = message.answer
        let label = answer.label.isDetailed ? " (\(answer.label.text))" : ""
        return "Answer \(answer.rank) of \(message.maxAnswers), from \(answer.alias)\(label):\n\n\(answer.text)"
    }

    /// The text of a follow-up relayed to the other side of an answer's thread.
    public static func followUpText(_ message: FollowUpMessage) -> String {
        let followUp = message.followUp
        let about = message.recipientSide == .asker ? "on answer \(followUp.rank) about \(message.topic.name)" : "about \(message.topic.name)"
        return "Follow-up from \(followUp.alias) \(about):\n\n\(followUp.text)\n\nReply to this message to write back."
    }

    /// The text telling a specialist a question closed.
    public static func closedText(_ message: ClosedMessage) -> String {
        switch message.reason {
        case .answered: "The question about \(message.topic.name) has been answered; thank you, no need to reply."
        case .expired: "The question about \(message.topic.name) has expired; no need to reply."
        case .cancelled: "The question about \(message.topic.name) was withdrawn; no need to reply."
        }
    }

    /// The text telling an asker their question closed.
    public static func askerNoticeText(_ notice: AskerNotice) -> String {
        switch notice.reason {
        case .answered:
            "Your question about \(notice.topic.name) got its \(notice.answerCount) answer\(notice.answerCount == 1 ? "" : "s") and is closed."
        case .expired:
            "Your question about \(notice.topic.name) expired with \(notice.answerCount) answer\(notice.answerCount == 1 ? "" : "s")."
        case .cancelled: "Your question about \(notice.topic.name) was cancelled."
        }
    }
}
