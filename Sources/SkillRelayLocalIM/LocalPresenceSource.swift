import SkillRelayDomain

/// Presence in the embedded `local` IM: what people set through the API, kept in the database.
public struct LocalPresenceSource: PresenceSource {
    let store: any QuestionStore

    public init(store: any QuestionStore) {
        self.store = store
    }

    public func presence(of people: [PresenceQuery]) async -> [String: Presence] {
        // A database error means nobody is known to be available, never everybody.
        (try? await store.localPresence(of: people.map(\.handle)))
            ?? Dictionary(people.map { ($0.handle, Presence.unknown) }, uniquingKeysWith: { first, _ in first })
    }

    /// Always reported: people set their presence in SkillRelay itself.
    public func probePresenceReporting() async -> PresenceReporting { .reported }
}
