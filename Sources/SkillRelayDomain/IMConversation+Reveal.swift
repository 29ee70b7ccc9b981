import Foundation

extension IMConversation {
    /// The words that act on a reveal, as a reply to a message about an answer (or, for the specialist, to the
    /// question): `reveal` and `accept` offer (or accept the other side's offer), `decline` refuses, `withdraw` takes an
    /// offer back.
    static func revealAction(_ text: String) -> RevealAction? {
        switch text.trimmingWhitespace().lowercased() {
        case "reveal", "accept", "introduce": .offer
        case "decline": .decline
        case "withdraw": .withdraw
        default: nil
        }
    }

    /// A reply to a message in an answer's exchange: the asker's on their side, the specialist's on theirs.
    func replyInThread(_ text: String, _ reference: ThreadReference, from caller: Caller) async throws -> String {
        guard let action = Self.revealAction(text) else {
            return "Reply to this message with reveal (or accept) to introduce yourself, decline to stay anonymous, or withdraw an offer."
        }
        let change: RevealChange
        switch reference.side {
        case .asker: change = try await questions.reveal(action, question: reference.questionID, rank: reference.rank, by: caller)
        case .specialist: change = try await questions.reveal(action, delivery: reference.deliveryID, by: caller)
        }
        return Self.revealReply(change, side: reference.side)
    }

    /// The specialist's `reveal`, `accept`, `decline` or `withdraw` as a reply to the question itself.
    func replyToQuestion(_ action: RevealAction, delivery: String, from caller: Caller) async throws -> String {
        Self.revealReply(try await questions.reveal(action, delivery: delivery, by: caller), side: .specialist)
    }

    /// What the person who acted reads back.
    static func revealReply(_ change: RevealChange, side: RevealSide) -> String {
        let other = side == .asker ? "the specialist" : "the colleague who asked"
        let view = change.view(of: side)
        switch view.state {
        case .none: return "Your offer is withdrawn; you both stay anonymous."
        case .offered: return "Offered: \(other) is asked whether they want to introduce themselves too. Nobody learns who you are unless they agree."
        case .invited: return "The other side's offer is still open: reply accept or decline."
        case .declined: return "Declined: you both stay anonymous, and the offer cannot be made again for this answer."
        case .revealed:
            let person = view.other.map { Self.describe($0) } ?? "the other side"
            return "You both agreed: you are talking with \(person). I'm setting up a direct chat for the two of you."
        }
    }

    /// "Ana Lima (@ana.lima:example.org)".
    static func describe(_ person: RevealedPerson) -> String {
        person.imID.map { "\(person.name) (\($0))" } ?? person.name
    }

    /// The text telling one side about a reveal.
    public static func revealText(_ notice: RevealNotice) -> String {
        let about = "your question about \(notice.topic.name)"
        switch (notice.side, notice.event) {
        case (.asker, .offered):
            return """
                \(notice.alias.capitalizedFirst), who gave answer \(notice.rank) to \(about), would like to introduce themselves. \
                Reply accept to this message to learn who they are and tell them who you are, or decline to stay anonymous.
                """
        case (.specialist, .offered):
            return """
                The colleague who asked about \(notice.topic.name) would like to introduce themselves, after your answer. Reply accept to this \
                message to learn who they are and tell them who you are, or decline to stay anonymous.
                """
        case (.asker, .withdrawn):
            return "\(notice.alias.capitalizedFirst) withdrew their offer to introduce themselves (answer \(notice.rank) to \(about))."
        case (.specialist, .withdrawn):
            return "The colleague who asked about \(notice.topic.name) withdrew their offer to introduce themselves."
        case (.asker, .declined):
            return "\(notice.alias.capitalizedFirst) would rather stay anonymous (answer \(notice.rank) to \(about)); you both do."
        case (.specialist, .declined):
            return "The colleague who asked about \(notice.topic.name) would rather stay anonymous; you both do."
        case (.asker, .revealed):
            let person = notice.other.map(describe) ?? "the specialist"
            return "You and \(notice.alias) agreed to introduce yourselves: answer \(notice.rank) to \(about) came from \(person)."
        case (.specialist, .revealed):
            let person = notice.other.map(describe) ?? "your colleague"
            return "You agreed to introduce yourselves: the question about \(notice.topic.name) came from \(person)."
        }
    }

    /// The text of an introduction, as one side reads it (in Matrix, the first message of the room made for both).
    public static func introductionText(_ introduction: Introduction, for side: RevealSide) -> String {
        let asker = describe(RevealedPerson(name: introduction.askerName, imID: introduction.asker.imID))
        let specialist = describe(RevealedPerson(name: introduction.specialistName, imID: introduction.specialist.imID))
        let other = side == .asker ? specialist : asker
        return """
            \(introduction.askerName) asked about \(introduction.topic.name) and \(introduction.specialistName) answered; you both agreed to \
            introduce yourselves. You can reach \(other) directly from now on; SkillRelay is no longer in the conversation.
            """
    }
}

extension String {
    /// The string with its first letter capitalised ("specialist 2" → "Specialist 2").
    var capitalizedFirst: String { prefix(1).uppercased() + dropFirst() }
}
