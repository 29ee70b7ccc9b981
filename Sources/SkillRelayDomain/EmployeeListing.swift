/// What narrows a list of employees. Every filter is optional; `isActive` defaults to active people only.
public struct EmployeeFilter: Sendable, Equatable {
    /// A case-insensitive prefix of the name (`ana li`) or of the handle (`ana.l`).
    public var query: String?
    /// Only people below this manager (directly or further down).
    public var managerHandle: String?
    /// Only people tagged with this topic (slug or alias) or one of its subtopics…
    public var topic: String?
    /// …at this level or above (1–5).
    public var minimumLevel: Int
    public var isActive: Bool

    public init(query: String? = nil, managerHandle: String? = nil, topic: String? = nil, minimumLevel: Int = 1, isActive: Bool = true) {
        self.query = query
        self.managerHandle = managerHandle
        self.topic = topic
        self.minimumLevel = minimumLevel
        self.isActive = isActive
    }
}

/// An employee in a list: who they are and where they sit, without their skills (`employee(_:by:)` has those), so a
/// page costs a bounded number of rows however many skills people have.
public struct EmployeeSummary: Sendable, Equatable {
    public var employee: Employee
    /// How many people report to them directly.
    public var directReportCount: Int
    /// In a manager's team list: how many active people are below them, directly or further down.
    public var belowCount: Int?

    public init(employee: Employee, directReportCount: Int, belowCount: Int? = nil) {
        self.employee = employee
        self.directReportCount = directReportCount
        self.belowCount = belowCount
    }
}
