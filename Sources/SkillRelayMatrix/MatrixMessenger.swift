import SkillRelayDomain

/// Questions, answers and notices as messages in each person's direct room with the bot. The outbox key is the
/// transaction id, so a retried send never posts twice; a question's event id goes back to the outbox, which keeps it
/// with the delivery so a reply to it can be recognised as the answer.
public struct MatrixMessenger: Messenger {
    let writer: MatrixRoomWriter
    let rooms: MatrixRooms
    let client: MatrixClient

    public init(client: MatrixClient, rooms: MatrixRooms, encryption: MatrixEncryption? = nil) {
        self.client = client
        self.writer = MatrixRoomWriter(client: client, encryption: encryption)
        self.rooms = rooms
    }

    public func deliverQuestion(_ message: QuestionMessage, key: String) async throws -> String? {
        try await send(IMConversation.questionText(message), to: message.recipient, key: key)
    }

    public func deliverAnswer(_ message: AnswerMessage, key: String) async throws -> String? {
        try await send(IMConversation.answerText(message), to: message.asker, key: key)
    }

    public func deliverReveal(_ message: RevealNotice, key: String) async throws -> String? {
        try await send(IMConversation.revealText(message), to: message.recipient, key: key)
    }

    /// Creates a direct room inviting both people, named after the topic and with the introduction as its topic,
    /// end-to-end encrypted where the bot's own rooms are (as Element makes direct chats). The bot
    /// stays in it, silent, only until one of them joins (a room everyone left cannot be joined), then leaves: the room
    /// is theirs (`MatrixSyncService.handleMembership`). Someone without an IM id is not on Matrix: both already learned
    /// each other's name and IM id, so there is no room to make.
    public func introduce(_ introduction: Introduction, key: String) async throws -> String? {
        guard let asker = introduction.asker.imID, let specialist = introduction.specialist.imID else { return nil }
        let room: String
        do {
            room = try await client.createIntroductionRoom(
                inviting: [asker, specialist], name: "\(introduction.askerName) and \(introduction.specialistName): \(introduction.topic.name)",
                topic: IMConversation.introductionText(introduction, for: .asker), encrypted: rooms.encryption != nil)
        } catch let limited as MatrixClient.RateLimited {
            throw DeliveryDeferred(retryAfter: limited.retryAfter, reason: "\(limited)")
        }
        // Not thrown if it fails: a retry would make them a second room. At worst the bot answers in this one.
        try? await rooms.introductionMade(room)
        return room
    }

    /// Sends a follow-up as a reply to the earlier message of its thread in the recipient's room, where that is known.
    public func deliverFollowUp(_ message: FollowUpMessage, key: String) async throws -> String? {
        try await send(IMConversation.followUpText(message), to: message.recipient, key: key, replyTo: message.replyTo)
    }

    public func notifyClosed(_ message: ClosedMessage, key: String) async throws {
        _ = try await send(IMConversation.closedText(message), to: message.recipient, key: key)
    }

    public func notifyAsker(_ message: AskerNotice, key: String) async throws {
        _ = try await send(IMConversation.askerNoticeText(message), to: message.asker, key: key)
    }

    /// Sends to a person's direct room; someone without an IM id is not on Matrix and reads the API instead. Someone
    /// with no room who may not be invited again yet (`MatrixRooms.Unreachable`) makes the send fail, so the outbox
    /// keeps the message and says why rather than dropping it.
    private func send(_ text: String, to recipient: Recipient, key: String, replyTo: String? = nil) async throws -> String? {
        guard let userID = recipient.imID else { return nil }
        do {
            let room = try await rooms.room(for: userID)
            var message = TextMessage(text)
            if let replyTo { message.relatesTo = TextMessage.RelatesTo(inReplyTo: TextMessage.InReplyTo(event_id: replyTo)) }
            return try await writer.send(message, to: room, transactionID: key)
        } catch let limited as MatrixClient.RateLimited {
            // Not a failure: the outbox puts the message off for as long as the homeserver asked, without counting a try.
            throw DeliveryDeferred(retryAfter: limited.retryAfter, reason: "\(limited)")
        } catch let notReady as MatrixEncryption.NotReady {
            // The encryption device is still starting (the sync loop opens it): not a failure either.
            throw DeliveryDeferred(retryAfter: 2, reason: "\(notReady)")
        }
    }
}
