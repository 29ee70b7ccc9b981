import Foundation
import SkillRelayDomain
import Synchronization

/// Presence as the bot's `/sync` stream reports it. The homeserver sends the bot an `m.presence` event whenever
/// someone it shares a room with changes presence (and, on a first sync, everyone's current presence), so while the
/// stream is live what it last said of a person is current, and asking costs no request. A person it has said nothing
/// of, or a stream that has not synced for `staleAfter` (the homeserver unreachable, the loop stuck), is left to
/// `GET /presence`.
public final class MatrixPresenceStream: Sendable {
    let staleAfter: TimeInterval

    private struct State {
        var known: [String: Presence] = [:]
        var lastSync: Date?
    }

    private let state = Mutex(State())

    /// `staleAfter` should be a few long-polls: an idle `/sync` still answers once per poll.
    public init(staleAfter: TimeInterval = 90) {
        self.staleAfter = staleAfter
    }

    /// Records one sync batch that arrived at `time`: its presence events in order (the last of a person's wins), and
    /// that the stream was live then, even with no events.
    public func record(_ events: [SyncResponse.PresenceEvent], at time: Date) {
        state.withLock { state in
            for event in events where event.type == "m.presence" {
                state.known[event.sender] = MatrixPresenceSource.map(event.content)
            }
            state.lastSync = time
        }
    }

    /// What the stream last said of `userID`, if it said anything and is live at `now`.
    public func presence(of userID: String, now: Date) -> Presence? {
        state.withLock { state in
            guard let lastSync = state.lastSync, now.timeIntervalSince(lastSync) <= staleAfter else { return nil }
            return state.known[userID]
        }
    }
}
