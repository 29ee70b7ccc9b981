import SkillRelayDomain

/// The bot's direct room with each person, made on first need: Synapse shows a user's presence only to users who
/// share a joined room with them, and questions go out in that room.
public actor MatrixRooms {
    let client: MatrixClient
    let state: any IMStateStore
    /// Rooms already looked up or made. A person's room, once stored, is never replaced (the sync loop stores one only
    /// for someone who has none), so what is known here cannot go stale; it saves a database read for every message,
    /// which under load is a wait behind every other request's. One entry per person the bot has talked to.
    private var known: [String: String] = [:]
    /// Lookups under way: the actor lets other callers in while one waits, and two callers for the same person must
    /// share one lookup, not make two rooms.
    private var pending: [String: Task<String, any Error>] = [:]

    public init(client: MatrixClient, state: any IMStateStore) {
        self.client = client
        self.state = state
    }

    /// The direct room with a user, created (inviting them) if there is none yet; concurrent callers for one user
    /// share one lookup.
    public func room(for userID: String) async throws -> String {
        if let room = known[userID] { return room }
        if let lookup = pending[userID] { return try await lookup.value }
        let lookup = Task { [client, state] in
            if let room = try await state.conversation(with: userID) { return room }
            let room = try await client.createDirectRoom(inviting: userID)
            try await state.setConversation(room, with: userID)
            return room
        }
        pending[userID] = lookup
        defer { pending[userID] = nil }
        let room = try await lookup.value
        known[userID] = room
        return room
    }
}
