import Foundation

extension QuestionService {
    // MARK: - Follow-ups

    /// How long after a question closes its threads stay open, in seconds.
    public var followUpWindow: TimeInterval { TimeInterval(settings.followUpDays) * 86_400 }

    /// The asker (an employee or a bot) follows up on relayed answer `rank` of their question; returns the message as
    /// they see it. Anyone else, admins included, gets `questionNotFound`: a thread has two parties and no third.
    public func followUp(question id: String, rank: Int, text: String, by caller: Caller) async throws -> FollowUp {
        guard let asker = Asker(caller) else { throw DirectoryError.questionNotFound(id) }
        return try await followUp(by: .asker(asker, question: id, rank: rank), text: text, sender: Self.name(asker))
    }

    /// The specialist follows up on the thread of their delivery, whose answer was relayed; returns the message as
    /// they see it. A delivery whose answer was not relayed (or that was never answered) has no thread: `noThread`.
    public func followUp(delivery id: String, text: String, by caller: Caller) async throws -> FollowUp {
        let handle = try Self.employeeHandle(caller)
        return try await followUp(by: .specialist(handle: handle, delivery: id), text: text, sender: "employee:\(handle)")
    }

    /// Whether a question's threads still take follow-ups now.
    public func acceptsFollowUps(_ view: QuestionView) -> Bool {
        guard let until = view.threadOpenUntil else { return true }
        return clock.now() < until
    }

    /// The thread a message SkillRelay sent in the IM belongs to, by the IM's reference for it.
    public func thread(forMessageReference reference: String) async throws -> ThreadReference? {
        try await store.thread(forMessageReference: reference)
    }

    /// The caller's questions whose threads are open now, newest first.
    public func openThreads(of caller: Caller) async throws -> [OpenThreads] {
        guard let asker = Asker(caller) else { return [] }
        return try await store.openThreads(of: asker, openFor: followUpWindow, now: clock.now())
    }

    /// Checks the text (length, content policy), counts it against the sender's rate, stores it with its compliance
    /// entries and outbox messages, and tells both sides' live streams.
    private func followUp(by author: FollowUpAuthor, text: String, sender: String) async throws -> FollowUp {
        let now = clock.now()
        let text = try checkText(text, field: "text")
        if let rule = policy.violation(in: text) {
            try await store.logPolicyViolation(sender: sender, rule: rule, kind: "follow_up", now: now)
            throw DirectoryError.policyViolation(rule)
        }
        // Follow-ups have a rate of their own beside questions, at the same limit per sender.
        try await rateLimiter.acquire("follow-up:" + sender, now: now)
        let recorded = try await store.recordFollowUp(by: author, text: text, openFor: followUpWindow, now: now)
        events.publish(.followUp(recorded.askerView), question: recorded.questionID)
        events.publish(.followUp(deliveryID: recorded.deliveryID, recorded.specialistView), handle: recorded.specialistHandle)
        outboxChanged()
        await events.handedOn()
        return recorded.view(of: author.side)
    }
}
