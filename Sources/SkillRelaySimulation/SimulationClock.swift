import Foundation
import SkillRelayDomain
import Synchronization

/// The simulation's virtual clock: it moves only when the simulation moves it to the next event.
final class SimulationClock: WallClock, Sendable {
    private let current: Mutex<Date>

    init(_ start: Date) { current = Mutex(start) }

    func now() -> Date { current.withLock { $0 } }

    /// Moves to `time`, never back.
    func move(to time: Date) { current.withLock { $0 = max($0, time) } }
}
