import Foundation

extension QuestionService {
    /// The asker offers to reveal themselves to the answerer of relayed answer `rank`, accepts their offer, withdraws
    /// or declines. A bot has no identity to offer (`botsCannotReveal`); anyone but the asker learns nothing, not even
    /// that the question exists.
    public func reveal(_ action: RevealAction, question id: String, rank: Int, by caller: Caller) async throws -> RevealChange {
        let asker: Asker
        switch caller.identity {
        case .bot: throw DirectoryError.botsCannotReveal
        case .operator: throw DirectoryError.forbidden("Only the asker and the specialist can reveal themselves to each other.")
        case .employee(let handle): asker = .employee(handle)
        }
        let change = try await store.reveal(action, question: id, rank: rank, by: asker, now: clock.now())
        await published(change)
        return change
    }

    /// The specialist does the same on a delivery whose answer was relayed.
    public func reveal(_ action: RevealAction, delivery id: String, by caller: Caller) async throws -> RevealChange {
        guard let handle = caller.handle else {
            if case .bot = caller.identity { throw DirectoryError.botsCannotReveal }
            throw DirectoryError.forbidden("Only the asker and the specialist can reveal themselves to each other.")
        }
        let change = try await store.reveal(action, delivery: id, by: handle, now: clock.now())
        await published(change)
        return change
    }

    /// Tells both sides' live streams where the reveal stands now, each as they see it (on every instance before it
    /// returns), and has the outbox send the messages the store queued.
    private func published(_ change: RevealChange) async {
        guard change.changed else { return }
        events.publish(.reveal(rank: change.rank, change.askerView), question: change.questionID)
        events.publish(.reveal(deliveryID: change.deliveryID, rank: change.rank, change.specialistView), handle: change.specialist)
        outboxChanged()
        await events.handedOn()
    }
}
