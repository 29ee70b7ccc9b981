import Foundation

extension IMConversation {
    // MARK: - Follow-ups

    /// A reply (or a message in a thread) to a message of an answer's thread — the relayed answer, a follow-up, or the
    /// question as delivered to a specialist whose answer was relayed — is a follow-up on that thread; `nil` when the
    /// message replies to none of these.
    func followUpReply(to message: IncomingMessage, text: String, from caller: Caller) async throws -> String? {
        for reference in [message.inReplyTo, message.thread].compactMap({ $0 }) {
            guard let thread = try await questions.thread(forMessageReference: reference) else { continue }
            // "pass" on the question itself is the command it always was (refused once answered), not a message.
            if text.lowercased() == "pass", try await state.delivery(forMessageReference: reference) != nil { return nil }
            switch thread.side {
            case .asker:
                let sent = try await questions.followUp(question: thread.questionID, rank: thread.rank, text: text, by: caller)
                return Self.followUpSent(to: "specialist", rank: sent.rank)
            case .specialist:
                _ = try await questions.followUp(delivery: thread.deliveryID, text: text, by: caller)
                return Self.followUpSent(to: "the asker", rank: nil)
            }
        }
        return nil
    }

    /// An asker's plain message (no reply, no command) while exactly one of their questions has open threads: a
    /// follow-up on its only answer, or on the answer `answer <n>: <text>` names; with several answers, asks which one.
    /// `nil` when the caller has no open thread, so the message is left to whatever else a plain message may be.
    func askerPlainFollowUp(_ text: String, from caller: Caller) async throws -> String? {
        let open = try await questions.openThreads(of: caller)
        guard let question = open.first else { return nil }
        guard open.count == 1 else {
            return "You have answers to \(open.count) questions (\(open.map(\.topic.name).joined(separator: ", "))): "
                + "reply to the answer you mean to write to its specialist."
        }
        let (named, body) = Self.namedAnswer(text)
        let rank: Int
        if let named {
            guard question.answers.contains(where: { $0.rank == named }) else { return Self.whichAnswer(question) }
            rank = named
        } else if question.answers.count == 1 {
            rank = question.answers[0].rank
        } else {
            return Self.whichAnswer(question)
        }
        let sent = try await questions.followUp(question: question.questionID, rank: rank, text: body, by: caller)
        return Self.followUpSent(to: "specialist", rank: sent.rank)
    }

    /// `answer 2: text` as (2, text); anything else as (nil, the whole text).
    static func namedAnswer(_ text: String) -> (Int?, String) {
        let (word, rest) = split(text)
        guard word == "answer", let colon = rest.firstIndex(of: ":"), let rank = Int(String(rest[..<colon]).trimmingWhitespace()) else {
            return (nil, text)
        }
        return (rank, String(rest[rest.index(after: colon)...]).trimmingWhitespace())
    }

    /// Asks which answer a plain message follows up on, listing them.
    static func whichAnswer(_ question: OpenThreads) -> String {
        let list = question.answers.map { "answer \($0.rank) (\($0.alias))" }.joined(separator: ", ")
        return "Your question about \(question.topic.name) has several answers: \(list). Reply to the answer you mean, "
            + "or write answer <n>: <your message>."
    }

    static func followUpSent(to whom: String, rank: Int?) -> String {
        if let rank { return "Sent to the \(whom) of answer \(rank); their reply will come here." }
        return "Sent to \(whom); who you are stays private."
    }
}
