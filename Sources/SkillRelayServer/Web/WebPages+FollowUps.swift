import Foundation
import Hummingbird
import SkillRelayDomain

/// A follow-up on a page: the sender by alias only.
struct ThreadMessage {
    var alias: String
    var text: String
    var sentAt: String

    init(_ followUp: FollowUp) {
        alias = followUp.alias
        text = followUp.text
        sentAt = WebRenderer.format(followUp.sentAt)
    }
}

extension AskPages {
    /// The asker writes on an answer's thread from the question's page.
    @Sendable func followUp(_ request: Request, context: WebRequestContext) async throws -> Response {
        let id = try context.parameters.require("id")
        guard let rank = Int(try context.parameters.require("rank")) else { throw DirectoryError.answerNotFound(0) }
        let sent = try await questions.followUp(question: id, rank: rank, text: context.form["text"] ?? "", by: try context.requireUser().caller)
        context.leaveNotice("Sent to the specialist of answer \(sent.rank); their reply appears under the answer.")
        return WebRenderer.seeOther("/questions/\(id)")
    }
}

extension InboxPages {
    /// The specialist writes on the thread of their relayed answer from the inbox.
    @Sendable func followUp(_ request: Request, context: WebRequestContext) async throws -> Response {
        let delivery = try context.parameters.require("delivery")
        _ = try await questions.followUp(delivery: delivery, text: context.form["text"] ?? "", by: try context.requireUser().caller)
        context.leaveNotice("Sent to the asker; who you are stays private.")
        return WebRenderer.seeOther("/inbox#d-\(delivery)")
    }
}
