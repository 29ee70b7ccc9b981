import AsyncHTTPClient
import SkillRelayCallbacks
import SkillRelayDomain
import SkillRelayLocalIM
import SkillRelayStore

/// The one place concrete types meet: the store, an IM adapter and the callback sender behind the domain's ports.
struct Wiring {
    let questions: QuestionService
    let pump: OutboxPump

    /// The embedded `local` IM: presence and inboxes inside SkillRelay.
    static func local(database: AppDatabase, settings: QuestionSettings, callbackSecret: String) throws -> Wiring {
        let store = SQLiteQuestionStore(database: database)
        let events = QuestionEvents()
        let dispatcher = OutboxDispatcher(
            store: store, messenger: LocalMessenger(events: events),
            callbacks: HTTPCallbackSender(client: HTTPClient.shared, secret: callbackSecret))
        let pump = OutboxPump(dispatcher: dispatcher)
        let questions = try QuestionService(
            store: store, presence: LocalPresenceSource(store: store), settings: settings, events: events,
            outboxChanged: { Task { await pump.kick() } })
        return Wiring(questions: questions, pump: pump)
    }
}
