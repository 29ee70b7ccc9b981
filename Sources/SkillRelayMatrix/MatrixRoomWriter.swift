import Foundation
import SkillRelayOlm

/// Writes a message to a room as the room requires: encrypted (Megolm, through `MatrixEncryption`) in an encrypted
/// room, in clear otherwise. Everything the bot says goes through here: questions, answers, notices and replies.
public struct MatrixRoomWriter: Sendable {
    let client: MatrixClient
    let encryption: MatrixEncryption?

    public init(client: MatrixClient, encryption: MatrixEncryption?) {
        self.client = client
        self.encryption = encryption
    }

    /// Sends; the same transaction id never sends twice. `maxWait` is how long it may wait for rate limits in all.
    public func send(_ message: TextMessage, to room: String, transactionID: String, maxWait: TimeInterval? = nil) async throws -> String {
        if let encryption, await !encryption.isUnavailable, try await encryption.isEncrypted(room) {
            let content = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(message))
            let encrypted = try await encryption.encrypt(type: "m.room.message", content: content, in: room)
            return try await client.send(event: "m.room.encrypted", content: encrypted, to: room, transactionID: transactionID, maxWait: maxWait)
        }
        return try await client.send(message, to: room, transactionID: transactionID, maxWait: maxWait)
    }
}
