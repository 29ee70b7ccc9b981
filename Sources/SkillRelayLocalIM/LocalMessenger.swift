import Foundation
import SkillRelayDomain

/// The embedded `local` IM: a specialist's inbox is read through the API, live through server-sent events; askers read
/// answers through the API and their question's event stream, which the question service feeds itself.
///
/// Sending is publishing to those streams, on every instance that shares the database: a message counts as sent once
/// the other instances have it (`QuestionEvents.send`). Where they cannot be told (the database is away), the message
/// is put off and sent again shortly, as a rate-limited IM's would be.
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
        try await send { try await events.send(.delivered(item), handle: message.recipient.handle) }
        return nil
    }

    public func notifyClosed(_ message: ClosedMessage, key: String) async throws {
        try await send { try await events.send(.closed(deliveryID: message.deliveryID, reason: message.reason), handle: message.recipient.handle) }
    }

    /// Nothing to send: questions asked through the API are answered there.
    public func deliverAnswer(_ message: AnswerMessage, key: String) async throws -> String? { nil }

    /// Nothing to send: the question service already told both sides' event streams where the reveal stands.
    public func deliverReveal(_ message: RevealNotice, key: String) async throws -> String? { nil }

    /// The local IM has no rooms: each side's event stream is told how to reach the other (name and IM id).
    public func introduce(_ introduction: Introduction, key: String) async throws -> String? {
        // The specialist's first: were the asker's to fail, a retry shows the specialist's again, and an inbox stream
        // shows an introduction once.
        try await send {
            try await events.send(
                .introduction(deliveryID: introduction.deliveryID, RevealedPerson(name: introduction.askerName, imID: introduction.asker.imID)),
                handle: introduction.specialist.handle)
        }
        try await send {
            try await events.send(
                .introduction(rank: introduction.rank, RevealedPerson(name: introduction.specialistName, imID: introduction.specialist.imID)),
                question: introduction.questionID)
        }
        return nil
    }

    /// Nothing to send: the question service already published the follow-up to both sides' event streams, and both
    /// read their threads through the API.
    public func deliverFollowUp(_ message: FollowUpMessage, key: String) async throws -> String? { nil }

    /// Nothing to send: the asker's event stream already says the question closed.
    public func notifyAsker(_ message: AskerNotice, key: String) async throws {}

    /// How long a message waits when the other instances could not be told of it.
    static let retryAfter: TimeInterval = 2

    private func send(_ publish: () async throws -> Void) async throws {
        do {
            try await publish()
        } catch {
            throw DeliveryDeferred(retryAfter: Self.retryAfter, reason: "the other instances could not be told: \(error)")
        }
    }
}
