import SkillRelayDomain

/// The embedded `local` IM: a specialist's inbox is read through the API, live through server-sent events; askers read
/// answers through the API and their question's event stream, which the question service feeds itself.
public struct LocalMessenger: Messenger {
    let events: QuestionEvents
    let clock: any WallClock

    public init(events: QuestionEvents, clock: any WallClock = SystemWallClock()) {
        self.events = events
        self.clock = clock
    }

    /// Publishes the question to the specialist's inbox stream; the inbox itself is read from the store, so there is
    /// no message reference to keep.
    public func deliverQuestion(_ message: QuestionMessage, key: String) async throws -> String? {
        let item = InboxItem(
            id: message.deliveryID, topic: message.topic, text: message.text, state: .pending, questionStatus: .open, deliveredAt: clock.now())
        events.publish(.delivered(item), handle: message.recipient.handle)
        return nil
    }

    public func notifyClosed(_ message: ClosedMessage, key: String) async throws {
        events.publish(.closed(deliveryID: message.deliveryID, reason: message.reason), handle: message.recipient.handle)
    }

    /// Nothing to send: questions asked through the API are answered there.
    public func deliverAnswer(_ message: AnswerMessage, key: String) async throws -> String? { nil }

    /// Nothing to send: the question service already told both sides' event streams where the reveal stands.
    public func deliverReveal(_ message: RevealNotice, key: String) async throws -> String? { nil }

    /// The local IM has no rooms: each side's event stream is told how to reach the other (name and IM id).
    public func introduce(_ introduction: Introduction, key: String) async throws -> String? {
        events.publish(
            .introduction(rank: introduction.rank, RevealedPerson(name: introduction.specialistName, imID: introduction.specialist.imID)),
            question: introduction.questionID)
        events.publish(
            .introduction(deliveryID: introduction.deliveryID, RevealedPerson(name: introduction.askerName, imID: introduction.asker.imID)),
            handle: introduction.specialist.handle)
        return nil
    }

    /// Nothing to send: the question service already published the follow-up to both sides' event streams, and both
    /// read their threads through the API.
    public func deliverFollowUp(_ message: FollowUpMessage, key: String) async throws -> String? { nil }

    /// Nothing to send: the asker's event stream already says the question closed.
    public func notifyAsker(_ message: AskerNotice, key: String) async throws {}
}
