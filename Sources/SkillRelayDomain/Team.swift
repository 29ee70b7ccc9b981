/// A manager's view of the people below them.
public protocol TeamStore: Sendable {
    /// Everyone who reports to the caller, directly or further down, with their skills, by name; managers only.
    func team(of caller: Caller) async throws -> [EmployeeProfile]
}
