import Foundation
import SkillRelayDomain
import SkillRelayPostgres
import SkillRelayStore
import SkillRelayTestSupport

extension TestDatabase {
    /// The IM adapter's state (and its sealed keys) on this database.
    func imState(clock: TestClock = TestClock()) -> any IMStateStore & IMKeyStore {
        switch self {
        case .sqlite(let database): SQLiteIMState(database: database, clock: clock)
        case .postgres(let database): PostgresIMState(database: database, clock: clock)
        }
    }
}
