import Foundation

// A specialist's plain message — typed straight into the conversation, no reply, no thread — taken as the answer to
// the question they hold, and `undo`. (An asker's plain message, a follow-up, is not handled here.)
extension IMConversation {
    /// What to say to a plain message that is not a command, or `nil` when it is nothing of this (then `help`):
    /// - with a choice pending (see below), a number picks the question and the message waiting is held as its answer;
    /// - holding exactly one open question, the message is held as its answer for a minute (`undo` takes it back);
    /// - holding several, the bot keeps the message and asks which question it answers, listing them by topic.
    /// Only in the sender's own conversation with the bot, where questions are delivered.
    func plainMessage(_ message: IncomingMessage, text: String, from caller: Caller) async throws -> String? {
        guard message.isPrivate, caller.handle != nil else { return nil }
        if let number = Int(text), let choice = try await questions.takePlainChoice(by: caller) {
            guard (1...choice.options.count).contains(number) else {
                return "There is no question \(number); write your answer again and I'll ask once more."
            }
            do {
                return Self.heldText(try await questions.holdAnswer(delivery: choice.options[number - 1], text: choice.text, by: caller))
            } catch DirectoryError.questionClosed, DirectoryError.deliveryAlreadyAnswered {
                return "That question is no longer open, so your message was not sent."
            }
        }
        guard message.isPlain else { return nil }
        let open = try await questions.openDeliveries(of: caller)
        // `pass` on its own passes, as it does as a reply: never an answer that says "pass".
        if text.lowercased() == "pass", !open.isEmpty {
            guard open.count == 1 else { return "You hold \(open.count) open questions; reply pass to the one you want to pass." }
            try await questions.pass(delivery: open[0].id, by: caller)
            return "Passed; thanks for letting us know."
        }
        switch open.count {
        case 0:
            return nil
        case 1:
            return Self.heldText(try await questions.holdAnswer(delivery: open[0].id, text: text, by: caller))
        default:
            try await questions.savePlainChoice(text: text, options: open, by: caller)
            return Self.whichText(open)
        }
    }

    /// `undo`: takes back the latest answer taken from a plain message, while its minute lasts.
    func undo(by caller: Caller) async throws -> String {
        switch try await questions.withdrawHeldAnswer(by: caller) {
        case .withdrawn(let topic): "Taken back: your answer about \(topic.name) was not sent. Write it again when you like."
        case .tooLate(let topic): "Too late to take back: your answer about \(topic.name) has gone to the asker."
        case .nothing: "There is nothing to take back."
        }
    }

    /// The one line confirming a plain message was taken as an answer.
    static func heldText(_ held: HeldAnswer) -> String {
        "Taken as your answer to the question about \(held.topic.name); it goes to the asker in a minute (write undo to take it back)."
    }

    /// Which of several open questions a plain message answers.
    static func whichText(_ open: [OpenDelivery]) -> String {
        let lines = open.enumerated().map { index, delivery in
            let opening = delivery.text.prefix(60)
            return "\(index + 1). \(delivery.topic.name): \(opening)\(opening.count < delivery.text.count ? "…" : "")"
        }
        return "You hold \(open.count) open questions; which one does this answer?\n"
            + lines.joined(separator: "\n")
            + "\nReply with the number, or reply to the question itself."
    }
}
