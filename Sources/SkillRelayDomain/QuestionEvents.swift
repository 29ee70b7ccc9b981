import Foundation
import Synchronization

/// Something that happened to a question, as its asker's event stream shows it. Codable so that another instance can
/// be told (`QuestionEventRelay`).
public enum AskerEvent: Sendable, Equatable, Codable {
    /// A wave went out: its number and how many specialists hold the question now.
    case wave(number: Int, deliveredTo: Int)
    case answer(RelayedAnswer)
    case closed(CloseReason)
    /// Revealing with the answerer of answer `rank` moved on: its state as the asker sees it.
    case reveal(rank: Int, RevealView)
    /// Both agreed to reveal: how to reach the answerer of answer `rank` directly (the local IM's direct chat).
    case introduction(rank: Int, RevealedPerson)
    /// A follow-up in one of the question's answer threads, as the asker sees it.
    case followUp(FollowUp)
}

/// Something that happened in a specialist's inbox.
public enum InboxEvent: Sendable, Equatable, Codable {
    case delivered(InboxItem)
    case closed(deliveryID: String, reason: CloseReason)
    /// Revealing with the asker of a delivery's question moved on: its state as the specialist sees it.
    case reveal(deliveryID: String, rank: Int, RevealView)
    /// Both agreed to reveal: how to reach the colleague who asked directly (the local IM's direct chat).
    case introduction(deliveryID: String, RevealedPerson)
    /// A follow-up in the thread of one of the specialist's deliveries, as they see it.
    case followUp(deliveryID: String, FollowUp)
}

extension InboxEvent {
    /// What names an event that happens once to a delivery (`nil` for those that may come again: reveal states,
    /// follow-ups).
    var happensOnce: String? {
        switch self {
        case .delivered(let item): "delivered \(item.id)"
        case .closed(let delivery, _): "closed \(delivery)"
        case .introduction(let delivery, _): "introduction \(delivery)"
        case .reveal, .followUp: nil
        }
    }
}

/// The once-only events a stream has shown, the oldest forgotten past `capacity`.
struct OnceOnly {
    let capacity: Int
    private var seen: Set<String> = []
    private var order: [String] = []

    init(capacity: Int) { self.capacity = capacity }

    /// Whether an event is to be shown: any without a name, and a named one the first time.
    mutating func isNew(_ name: String?) -> Bool {
        guard let name else { return true }
        guard seen.insert(name).inserted else { return false }
        order.append(name)
        if order.count > capacity { seen.remove(order.removeFirst()) }
        return true
    }
}

/// What a specialist's inbox stream has shown (what happens once to a delivery, each delivery's latest reveal state,
/// its follow-ups), and the inbox as it stood when the stream began, so that what the stream reads of the inbox again
/// (`QuestionEvents.inboxEvents(handle:readingInbox:)`) shows only what its follower has seen neither live nor before.
struct ShownInInbox {
    private var once = OnceOnly(capacity: QuestionEvents.onceOnlyCapacity)
    private var reveals: [String: RevealView] = [:]
    private var followUps: [String: [FollowUp]] = [:]
    /// The inbox when the stream began, which its follower had read, by delivery.
    private let before: [String: InboxItem]

    /// `before`: the inbox as it stood when the stream began (none for a stream that never reads it).
    init(before items: [InboxItem] = []) {
        before = Dictionary(items.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Whether a live `event` is to be shown: what happens once to a delivery the first time, a reveal state that
    /// differs from the last shown, a follow-up not shown yet. It is then counted as shown.
    mutating func isNew(_ event: InboxEvent) -> Bool {
        switch event {
        case .reveal(let delivery, _, let view):
            guard reveals[delivery] != view else { return false }
            reveals[delivery] = view
        case .followUp(let delivery, let followUp):
            guard !followUps[delivery, default: []].contains(where: { $0.isSameMessage(as: followUp) }) else { return false }
            followUps[delivery, default: []].append(followUp)
        case .delivered, .closed, .introduction:
            return once.isNew(event.happensOnce)
        }
        return true
    }

    /// The reveal states and follow-ups in `items` (an inbox read again, newest first) that the follower has not seen,
    /// oldest delivery first; they are then counted as shown. What happens once to a delivery is not among them: the
    /// outbox sends it, again if need be.
    mutating func news(in items: [InboxItem]) -> [InboxEvent] {
        var found: [InboxEvent] = []
        for item in items.reversed() {
            let earlier = before[item.id]
            // A delivery whose revealing the follower knows nothing of stands at none.
            if let rank = item.rank, let reveal = item.reveal, reveal != (reveals[item.id] ?? earlier?.reveal ?? RevealView.none) {
                reveals[item.id] = reveal
                found.append(.reveal(deliveryID: item.id, rank: rank, reveal))
            }
            for followUp in item.followUps where !(earlier?.followUps ?? []).contains(where: { $0.isSameMessage(as: followUp) }) {
                let event = InboxEvent.followUp(deliveryID: item.id, followUp)
                if isNew(event) { found.append(event) }
            }
        }
        return found
    }
}

/// What a live stream receives: an event, or word that it may have missed some (another instance's notifications could
/// not reach this one for a while), so that whoever follows it reads what they need from the store again.
public enum LiveUpdate<Event: Sendable>: Sendable {
    case event(Event)
    /// Some may have been missed, and which.
    case mayHaveMissed(MissedEvents)
}

extension LiveUpdate: Equatable where Event: Equatable {}

/// What a relay may have missed (`QuestionEventRelay.run`).
public enum MissedEvents: Sendable, Equatable {
    /// Whatever the other instances published for a while: the relay could not hear them.
    case all
    /// What an instance that stopped without saying it had told the others everything (one killed) had published and
    /// not yet told them. What it sent (`send`: the outbox's messages) is not among it: another instance sends that
    /// again.
    case publishedByStoppedInstance
}

/// One live event and whose stream it is for: what one instance tells the others.
public enum QuestionEvent: Sendable, Equatable, Codable {
    case asker(question: String, AskerEvent)
    case inbox(handle: String, InboxEvent)
}

/// Carries live events between instances sharing one database, so that a stream sees what happened whichever instance
/// it is connected to. One instance alone needs none.
public protocol QuestionEventRelay: Sendable {
    /// Hands an event published on this instance to the others, without waiting.
    func forward(_ event: QuestionEvent)
    /// Hands an event to the others and returns once none of them can miss it any more, even if this instance dies
    /// the next moment (on PostgreSQL: once the notification is committed); throws if it could not be handed on.
    func send(_ event: QuestionEvent) async throws
    /// Returns once every event forwarded so far has been handed on (or could not be), or after `limit` if that comes
    /// first.
    func flush(within limit: Duration) async
    /// Until cancelled (called once): every event another instance forwarded, handed to `deliver` once. Events this
    /// instance forwarded are not handed back: its own streams had them when they were published. `missed` is called
    /// whenever this instance may have missed some: with `.all` once the relay hears the other instances again after a
    /// time it could not (its connection dropped), and with `.publishedByStoppedInstance` when another instance
    /// stopped without telling the others it had told them everything, as one that died between a change and telling
    /// them would. It is called once what comes after is delivered, so a stream that reads the store then misses
    /// nothing.
    func run(delivering deliver: @escaping @Sendable (QuestionEvent) -> Void, missed: @escaping @Sendable (MissedEvents) -> Void) async throws
    /// Whether `run` has begun hearing the other instances (on PostgreSQL: its `LISTEN` has been confirmed). Until then,
    /// what they publish does not reach this instance's streams.
    var hasListened: Bool { get }
}

/// Live events for server-sent event streams: one channel per question (the asker) and per specialist (the inbox).
/// Nothing is kept: a stream that connects late reads the past from the store first. With a relay, what is published
/// here also reaches the other instances' streams, and theirs reaches these (`relayEvents()`).
public final class QuestionEvents: Sendable {
    private let askers = Channel<AskerEvent>()
    private let inboxes = Channel<InboxEvent>()
    private let relay: (any QuestionEventRelay)?

    /// `relay`: how events reach the other instances; `nil` for one instance alone.
    public init(relay: (any QuestionEventRelay)? = nil) {
        self.relay = relay
    }

    /// Events of one question, from now on.
    public func askerEvents(question id: String) -> AsyncStream<AskerEvent> {
        let updates = askers.subscribe(id)
        return AsyncStream(bufferingPolicy: .bufferingNewest(256)) { continuation in
            let task = Task {
                for await case .event(let event) in updates { continuation.yield(event) }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Events of one question from now on, and word each time some may have been missed (`LiveUpdate.mayHaveMissed`):
    /// for a stream that can read the question again and show what it missed.
    public func askerUpdates(question id: String) -> AsyncStream<LiveUpdate<AskerEvent>> { askers.subscribe(id) }

    /// Events of one specialist's inbox, from now on; what happens once to a delivery (it arrives, it closes, the two
    /// are introduced), a reveal state and a follow-up are each shown once. Several instances send what the outbox holds
    /// at least once: one that dies after sending a message and before marking it leaves it to another, which sends it
    /// again after the lease (as a homeserver keeps a retried transaction id from posting twice, the stream keeps the
    /// repeat from showing).
    ///
    /// The stream ends when its relay may have missed events (`MissedEvents.all`): its follower reads the inbox again
    /// and follows it anew, rather than trust a stream with a hole in it. When another instance stopped without telling
    /// the others everything (`MissedEvents.publishedByStoppedInstance`), it goes on: what the outbox sends, another
    /// instance sends again. (What else that instance published is lost to this stream: see
    /// `inboxEvents(handle:readingInbox:)`.)
    public func inboxEvents(handle: String) -> AsyncStream<InboxEvent> {
        inboxStream(inboxes.subscribe(handle), shown: ShownInInbox(), reread: nil)
    }

    /// Events of one specialist's inbox, from now on, as `inboxEvents(handle:)`; and when another instance stopped
    /// without telling the others everything, the inbox is read again (`read`: its newest page) and the reveal states
    /// and follow-ups that instance may have recorded without telling are shown, once. The inbox is read first, to know
    /// what the follower had seen; that read's error is thrown. Where a later read fails, the stream ends.
    public func inboxEvents(handle: String, readingInbox read: @escaping @Sendable () async throws -> [InboxItem]) async throws
        -> AsyncStream<InboxEvent>
    {
        // Subscribed before the inbox is read: an event published meanwhile is both read and heard, and shown live.
        let live = inboxes.subscribe(handle)
        return inboxStream(live, shown: ShownInInbox(before: try await read()), reread: read)
    }

    private func inboxStream(
        _ live: AsyncStream<LiveUpdate<InboxEvent>>, shown: ShownInInbox, reread: (@Sendable () async throws -> [InboxItem])?
    ) -> AsyncStream<InboxEvent> {
        AsyncStream(bufferingPolicy: .bufferingNewest(256)) { continuation in
            let task = Task {
                var shown = shown
                updates: for await update in live {
                    switch update {
                    case .event(let event): if shown.isNew(event) { continuation.yield(event) }
                    case .mayHaveMissed(.all): break updates
                    case .mayHaveMissed(.publishedByStoppedInstance):
                        guard let reread else { continue }
                        // Where the inbox cannot be read now, the stream ends: a follower reconnecting reads the inbox.
                        guard let items = try? await reread() else { break updates }
                        for event in shown.news(in: items) { continuation.yield(event) }
                    }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Whether events published here reach other instances' streams (and theirs these): whether a stream must be ready
    /// for word that it may have missed some.
    public var isRelayed: Bool { relay != nil }

    /// How many once-only events an inbox stream remembers (a specialist gets a handful of questions a day).
    static let onceOnlyCapacity = 1000

    /// Publishes to a question's streams, on every instance.
    public func publish(_ event: AskerEvent, question id: String) {
        askers.publish(event, to: id)
        relay?.forward(.asker(question: id, event))
    }

    /// Publishes to a specialist's inbox streams, on every instance.
    public func publish(_ event: InboxEvent, handle: String) {
        inboxes.publish(event, to: handle)
        relay?.forward(.inbox(handle: handle, event))
    }

    /// Whether this instance's streams hear what the other instances publish: always without a relay; with one, once it
    /// has begun listening. Until then an instance should not take requests (`GET /health` says it is starting): a
    /// stream opened meanwhile would read the store and then miss what another instance published before the relay
    /// listened.
    public var hearsOtherInstances: Bool { relay?.hasListened ?? true }

    /// Returns once what was published here so far has reached the other instances (or could not), waiting at most
    /// `limit`: for a request whose events are its result (an answer, a follow-up), so that an instance killed right
    /// after answering it does not take them with it.
    public func handedOn(within limit: Duration = .seconds(2)) async {
        await relay?.flush(within: limit)
    }

    /// What the outbox sends (the `local` IM's messages): published to a specialist's inbox streams on every instance,
    /// returning once the other instances have it. Marked sent only then: an instance that dies before leaves the
    /// message to another, which sends it again (the inbox streams show a delivery once). If the other instances cannot
    /// be told, this throws and this instance's streams are not told either, so a retry shows it once here too.
    public func send(_ event: InboxEvent, handle: String) async throws {
        try await relay?.send(.inbox(handle: handle, event))
        inboxes.publish(event, to: handle)
    }

    /// What the outbox sends to a question's streams, as `send(_:handle:)` does to an inbox's.
    public func send(_ event: AskerEvent, question id: String) async throws {
        try await relay?.send(.asker(question: id, event))
        askers.publish(event, to: id)
    }

    /// Until cancelled: what the other instances publish reaches this instance's streams, and when the relay may have
    /// missed some, the streams that may have are told so. Returns at once without a relay.
    public func relayEvents() async throws {
        guard let relay else { return }
        try await relay.run { [askers, inboxes] event in
            switch event {
            case .asker(let question, let event): askers.publish(event, to: question)
            case .inbox(let handle, let event): inboxes.publish(event, to: handle)
            }
        } missed: { [askers, inboxes] missed in
            askers.tellEveryone(.mayHaveMissed(missed))
            inboxes.tellEveryone(.mayHaveMissed(missed))
        }
    }

    /// Ends every stream, so open event-stream responses finish (on shutdown).
    public func finishAll() {
        askers.finishAll()
        inboxes.finishAll()
    }
}

/// Subscribers by key; each gets every event published to its key after it subscribed, and what is told to everyone.
private final class Channel<Event: Sendable>: Sendable {
    private struct State {
        var next = 0
        var continuations: [String: [Int: AsyncStream<LiveUpdate<Event>>.Continuation]] = [:]
    }

    private let state = Mutex(State())

    func subscribe(_ key: String) -> AsyncStream<LiveUpdate<Event>> {
        let (stream, continuation) = AsyncStream.makeStream(of: LiveUpdate<Event>.self, bufferingPolicy: .bufferingNewest(256))
        let id = state.withLock { state in
            state.next += 1
            state.continuations[key, default: [:]][state.next] = continuation
            return state.next
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { state in
                state.continuations[key]?[id] = nil
                if state.continuations[key]?.isEmpty == true { state.continuations[key] = nil }
            }
        }
        return stream
    }

    func finishAll() {
        let all = state.withLock { state in
            defer { state.continuations = [:] }
            return state.continuations.values.flatMap(\.values)
        }
        for continuation in all { continuation.finish() }
    }

    func publish(_ event: Event, to key: String) {
        let targets = state.withLock { Array(($0.continuations[key] ?? [:]).values) }
        for continuation in targets { continuation.yield(.event(event)) }
    }

    /// Tells every subscriber, whatever its key.
    func tellEveryone(_ update: LiveUpdate<Event>) {
        let targets = state.withLock { $0.continuations.values.flatMap(\.values) }
        for continuation in targets { continuation.yield(update) }
    }
}
