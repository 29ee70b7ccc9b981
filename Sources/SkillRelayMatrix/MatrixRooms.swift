import SkillRelayDomain

/// The bot's direct room with each person, made on first need: Synapse shows a user's presence only to users who
/// share a joined room with them, and questions go out in that room.
public actor MatrixRooms {
    let client: MatrixClient
    let state: any IMStateStore

    public init(client: MatrixClient, state: any IMStateStore) {
        self.client = client
        self.state = state
    }

    /// The direct room with a user, created (inviting them) if there is none yet. One actor, so two callers never
    /// create two rooms for the same person.
    public func room(for userID: String) async throws -> String {
        if let room = try await state.conversation(with: userID) { return room }
        let room = try await client.createDirectRoom(inviting: userID)
        try await state.setConversation(room, with: userID)
        return room
    }
}
