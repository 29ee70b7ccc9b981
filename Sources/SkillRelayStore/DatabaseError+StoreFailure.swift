import GRDB
import SkillRelayDomain

/// SQLite's "busy" and "locked": another connection held the lock the statement needed for longer than the busy
/// timeout. Said here, once, so that nothing above the store has to know GRDB to tell "try again" from "broken".
extension DatabaseError: StoreFailure {
    public var isBusy: Bool {
        resultCode == .SQLITE_BUSY || resultCode == .SQLITE_LOCKED
    }
}
