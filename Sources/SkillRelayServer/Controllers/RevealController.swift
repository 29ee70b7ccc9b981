import Foundation
import Hummingbird
import SkillRelayDomain

/// Revealing by consent: the asker on a relayed answer, the specialist on their delivery. An offer, or the acceptance of
/// the other side's; `DELETE` withdraws an offer not yet accepted; `decline` refuses, for good.
struct RevealController {
    let questions: QuestionService

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.post("questions/:id/answers/:rank/reveal") { try await answer(.offer, $0, $1) }
        group.delete("questions/:id/answers/:rank/reveal") { try await answer(.withdraw, $0, $1) }
        group.post("questions/:id/answers/:rank/reveal/decline") { try await answer(.decline, $0, $1) }
        group.post("inbox/:delivery/reveal") { try await delivery(.offer, $0, $1) }
        group.delete("inbox/:delivery/reveal") { try await delivery(.withdraw, $0, $1) }
        group.post("inbox/:delivery/reveal/decline") { try await delivery(.decline, $0, $1) }
    }

    @Sendable func answer(_ action: RevealAction, _ request: Request, _ context: APIRequestContext) async throws -> AnswerRevealResponse {
        let caller = try context.requireCaller()
        let id = try context.parameters.require("id")
        guard let rank = Int(try context.parameters.require("rank")) else { throw DirectoryError.answerNotFound(0) }
        return AnswerRevealResponse(try await questions.reveal(action, question: id, rank: rank, by: caller))
    }

    @Sendable func delivery(_ action: RevealAction, _ request: Request, _ context: APIRequestContext) async throws -> DeliveryRevealResponse {
        let caller = try context.requireCaller()
        return DeliveryRevealResponse(try await questions.reveal(action, delivery: try context.parameters.require("delivery"), by: caller))
    }
}
