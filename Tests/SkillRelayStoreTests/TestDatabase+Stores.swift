import SkillRelayDomain
import SkillRelayPostgres
import SkillRelayStore
import SkillRelayTestSupport

extension TestDatabase {
    /// The directory store on this database.
    func directoryStore(clock: TestClock = TestClock()) throws -> any DirectoryStore {
        switch self {
        case .sqlite(let database): SQLiteDirectoryStore(database: database, clock: clock)
        case .postgres: throw TestPostgresError.noStoreYet("PostgresDirectoryStore")
        }
    }
}
