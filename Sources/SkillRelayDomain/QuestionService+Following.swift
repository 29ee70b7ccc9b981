import Foundation

/// An asker's view of one question as events: what happened so far, then what happens from now on.
public struct QuestionFollowing: Sendable {
    /// What happened so far: the answers relayed, the reveals that stand, the follow-ups sent, and `closed` once closed.
    public var past: [AskerEvent]
    /// What happens from now on; `nil` when there is nothing more to follow (the question closed).
    public var live: AsyncStream<AskerEvent>?
    /// Whether `closed` is the last event (not when following the threads of a closed question).
    public var endsWhenClosed: Bool
}

extension QuestionService {
    /// Follows a question as its asker (or an admin) sees it: its past, then its live events. When the live events
    /// may have missed some (another instance's could not reach this one for a while), the question is read again and
    /// what was missed is shown then, once. With `followThreads`, a closed question is followed while its answers'
    /// threads take follow-ups.
    public func follow(question id: String, by caller: Caller, followThreads: Bool = false) async throws -> QuestionFollowing {
        // Subscribe before reading the past, so that nothing falls between the two.
        let updates = events.askerUpdates(question: id)
        let view = try await question(id, by: caller)
        var shown = ShownToAsker(waves: view.waves)
        let past = shown.news(in: view)
        let keepOpen = followThreads && acceptsFollowUps(view)
        guard view.status == .open || keepOpen else { return QuestionFollowing(past: past, live: nil, endsWhenClosed: true) }
        let shownBefore = shown
        let live = AsyncStream<AskerEvent>(bufferingPolicy: .bufferingNewest(256)) { continuation in
            let task = Task {
                var shown = shownBefore
                updates: for await update in updates {
                    switch update {
                    case .event(let event):
                        if shown.isNew(event) { continuation.yield(event) }
                    case .mayHaveMissed:
                        // Where the question cannot be read now, the stream ends: a follower reconnecting reads the past.
                        guard let view = try? await question(id, by: caller) else { break updates }
                        for event in shown.news(in: view) { continuation.yield(event) }
                    }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
        return QuestionFollowing(past: past, live: live, endsWhenClosed: !keepOpen)
    }
}

extension QuestionService {
    /// Follows the caller's inbox as its live events (`QuestionEvents.inboxEvents`). Where other instances publish too,
    /// the newest page of the inbox is read when the stream begins (an error then is thrown) and again when one of them
    /// stopped without telling the others everything, so that a reveal state or a follow-up it recorded and did not
    /// tell is shown then, once.
    public func followInbox(of caller: Caller) async throws -> AsyncStream<InboxEvent> {
        let handle = try Self.employeeHandle(caller)
        guard events.isRelayed else { return events.inboxEvents(handle: handle) }
        let store = store
        return try await events.inboxEvents(
            handle: handle, readingInbox: { try await store.inbox(of: handle, page: PageRequest()).items })
    }
}

/// What an asker's stream of one question has shown, so that what it reads of the question (on connecting, and
/// again after its live events may have missed some) and what comes live are each shown once.
struct ShownToAsker: Sendable {
    /// The last wave shown (or already under way when the stream connected).
    var waves: Int
    var lastRank = 0
    var reveals: [Int: RevealView] = [:]
    var followUps: [FollowUp] = []
    var closed = false

    /// What `view` holds that was not shown yet, in the order a stream shows a question's past: a wave gone out since,
    /// the answers, the reveals that stand (and an offer shown that no longer stands, as none), the follow-ups, then
    /// `closed`.
    mutating func news(in view: QuestionView) -> [AskerEvent] {
        var found: [AskerEvent] = [.wave(number: view.waves, deliveredTo: view.deliveredTo)]
        found += view.answers.map { .answer($0) }
        var reveals = view.reveals
        for rank in self.reveals.keys where reveals[rank] == nil { reveals[rank] = RevealView.none }
        found += reveals.sorted { $0.key < $1.key }.map { .reveal(rank: $0.key, $0.value) }
        found += view.followUps.map { .followUp($0) }
        if let reason = CloseReason(view.status) { found.append(.closed(reason)) }
        return found.filter { isNew($0) }
    }

    /// Whether `event` is news to this stream; it is then counted as shown.
    mutating func isNew(_ event: AskerEvent) -> Bool {
        switch event {
        case .wave(let number, _):
            guard number > waves else { return false }
            waves = number
        case .answer(let answer):
            guard answer.rank > lastRank else { return false }
            lastRank = answer.rank
        case .reveal(let rank, let view):
            guard reveals[rank] != view else { return false }
            reveals[rank] = view
        case .followUp(let followUp):
            guard !followUps.contains(where: { $0.isSameMessage(as: followUp) }) else { return false }
            followUps.append(followUp)
        case .closed:
            guard !closed else { return false }
            closed = true
        case .introduction:
            return true
        }
        return true
    }
}
