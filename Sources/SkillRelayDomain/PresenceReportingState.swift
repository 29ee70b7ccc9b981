import Foundation
import Synchronization

/// What the last probe found out about the IM server's presence, shared by whoever probes and the question flow that
/// reads it on every wave.
public final class PresenceReportingState: Sendable {
    /// One probe's outcome and when it was found.
    public struct Snapshot: Sendable, Equatable {
        public var reporting: PresenceReporting
        /// When the last probe ran; `nil` before the first.
        public var checkedAt: Date?
        /// When `reporting` last changed (or was first found).
        public var since: Date?
    }

    private let state: Mutex<Snapshot>

    /// `initial` until the first probe: `unknown` for an IM server that must be asked, `reported` for one that reports
    /// by construction (the embedded local IM).
    public init(initial: PresenceReporting = .unknown) {
        state = Mutex(Snapshot(reporting: initial, checkedAt: nil, since: nil))
    }

    public var current: PresenceReporting { state.withLock { $0.reporting } }

    public var snapshot: Snapshot { state.withLock { $0 } }

    /// Records a probe's outcome at `time`; returns the previous value when it changed (the first probe always counts as
    /// a change), `nil` otherwise.
    @discardableResult
    public func record(_ reporting: PresenceReporting, at time: Date) -> PresenceReporting?? {
        state.withLock { snapshot in
            let first = snapshot.checkedAt == nil
            let previous = snapshot.reporting
            snapshot.checkedAt = time
            guard first || previous != reporting else { return nil }
            snapshot.reporting = reporting
            snapshot.since = time
            return .some(first ? nil : previous)
        }
    }
}
