import Foundation

// Answers typed the way people type: a plain IM message taken as the answer to the one question its sender holds,
// held for a minute so that `undo` really un-sends it, then relayed by `tick` like any answer.
extension QuestionService {
    /// How long an answer taken from a plain message waits before it is relayed: the time `undo` has.
    public static let plainAnswerHoldSeconds: TimeInterval = 60
    /// How long a plain message waits for its sender to say which question it answers.
    public static let plainChoiceSeconds: TimeInterval = 600

    /// The questions the caller holds open, oldest first.
    public func openDeliveries(of caller: Caller) async throws -> [OpenDelivery] {
        try await store.openDeliveries(of: try Self.employeeHandle(caller))
    }

    /// Takes `text` as the caller's answer to an open delivery, relayed after `plainAnswerHoldSeconds` unless taken
    /// back. Checked now as any answer (length, content policy), so that a refusal comes at once.
    public func holdAnswer(delivery id: String, text: String, by caller: Caller) async throws -> HeldAnswer {
        let handle = try Self.employeeHandle(caller)
        let now = clock.now()
        let text = try await checkPlainText(text, by: handle, now: now)
        let held = try await store.holdAnswer(
            delivery: id, by: handle, text: text, relayAt: now.addingTimeInterval(Self.plainAnswerHoldSeconds), now: now)
        // Wakes the worker's loop, which relays it when due.
        outboxChanged()
        return held
    }

    /// Takes back the caller's latest held answer while its minute lasts.
    public func withdrawHeldAnswer(by caller: Caller) async throws -> HeldAnswerWithdrawal {
        try await store.withdrawHeldAnswer(by: try Self.employeeHandle(caller), now: clock.now())
    }

    /// Keeps a plain message (checked as an answer) until the caller says which of `options` it answers.
    public func savePlainChoice(text: String, options: [OpenDelivery], by caller: Caller) async throws {
        let handle = try Self.employeeHandle(caller)
        let now = clock.now()
        let text = try await checkPlainText(text, by: handle, now: now)
        try await store.savePlainChoice(by: handle, text: text, options: options.map(\.id), now: now)
    }

    /// The caller's plain message waiting for a choice, if one is and it is recent; taken, so it is used once.
    public func takePlainChoice(by caller: Caller) async throws -> PlainChoice? {
        guard let choice = try await store.takePlainChoice(by: try Self.employeeHandle(caller)) else { return nil }
        return clock.now().timeIntervalSince(choice.createdAt) <= Self.plainChoiceSeconds ? choice : nil
    }

    /// Relays every held answer whose minute is over; returns how many were relayed.
    @discardableResult
    public func relayDueHeldAnswers() async throws -> Int {
        let now = clock.now()
        var relayed = 0
        for id in try await store.dueHeldAnswers(now: now, limit: 200) {
            guard let result = try await store.relayHeldAnswer(id, labeling: AnswerLabeling(settings), now: now) else { continue }
            relayed += 1
            if let answer = result.relayed { events.publish(.answer(answer), question: result.questionID) }
            if result.closedQuestion { closed(result.questionID, .answered) }
            outboxChanged()
        }
        return relayed
    }

    /// A plain message's text, checked as an answer's; a refusal by the content policy is logged without the text.
    private func checkPlainText(_ text: String, by handle: String, now: Date) async throws -> String {
        let text = try checkText(text, field: "text")
        if let rule = policy.violation(in: text) {
            try await store.logPolicyViolation(sender: "employee:\(handle)", rule: rule, kind: "answer", now: now)
            throw DirectoryError.policyViolation(rule)
        }
        return text
    }
}
