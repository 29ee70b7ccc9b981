import SkillRelayDomain
import SkillRelayStore
import SkillRelayTestSupport

/// What the Matrix suites start from: an in-memory database on a test clock, with a Terraform topic, the people given
/// and the specialists among them tagged with it.
struct TerraformDirectory {
    let clock = TestClock()
    let database: AppDatabase
    let directory: SQLiteDirectoryStore

    /// `people` are made in order; each of `specialists` is then tagged with Terraform at `level`.
    init(people: [Employee], specialists: [String], level: Int = 3) async throws {
        database = try AppDatabase.inMemory()
        directory = SQLiteDirectoryStore(database: database, clock: clock)
        _ = try await directory.createTopic(Topic(slug: "terraform", name: "Terraform"), by: .cliOperator)
        for person in people { _ = try await directory.createEmployee(person, by: .cliOperator) }
        for handle in specialists { _ = try await directory.setSkill(of: handle, topic: "terraform", level: level, by: .cliOperator) }
    }

    /// Someone on the IM as `@handle:fake`, named by their handle in capitals.
    static func onIM(_ handle: String) -> Employee {
        Employee(handle: handle, name: handle.uppercased(), email: "\(handle)@example.org", imID: "@\(handle):fake")
    }
}
