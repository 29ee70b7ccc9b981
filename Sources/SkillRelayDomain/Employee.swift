/// A person in the directory.
public struct Employee: Sendable, Equatable {
    public var handle: String
    public var name: String
    public var email: String
    public var imID: String?
    public var managerHandle: String?
    public var isAdmin: Bool
    public var isActive: Bool

    public init(
        handle: String, name: String, email: String, imID: String? = nil, managerHandle: String? = nil,
        isAdmin: Bool = false, isActive: Bool = true
    ) {
        self.handle = handle
        self.name = name
        self.email = email
        self.imID = imID
        self.managerHandle = managerHandle
        self.isAdmin = isAdmin
        self.isActive = isActive
    }
}

/// An employee with their skills and the size of their team.
public struct EmployeeProfile: Sendable, Equatable {
    public var employee: Employee
    public var skills: [Skill]
    /// How many people report to them directly.
    public var directReportCount: Int

    public init(employee: Employee, skills: [Skill], directReportCount: Int) {
        self.employee = employee
        self.skills = skills
        self.directReportCount = directReportCount
    }
}

/// The fields of an employee that an update may change; `nil` leaves a field as it is.
public struct EmployeePatch: Sendable, Equatable {
    public var name: String?
    public var email: String?
    /// `.some(nil)` removes the IM id.
    public var imID: String??
    /// `.some(nil)` removes the manager.
    public var managerHandle: String??
    public var isAdmin: Bool?
    public var isActive: Bool?

    public init(
        name: String? = nil, email: String? = nil, imID: String?? = nil, managerHandle: String?? = nil, isAdmin: Bool? = nil,
        isActive: Bool? = nil
    ) {
        self.name = name
        self.email = email
        self.imID = imID
        self.managerHandle = managerHandle
        self.isAdmin = isAdmin
        self.isActive = isActive
    }
}

extension Employee {
    /// Checks every field's format, returning the employee with its text trimmed.
    public func validated() throws(DirectoryError) -> Employee {
        var clean = self
        try DirectoryValidation.checkHandle(handle)
        clean.name = try DirectoryValidation.cleanText(name, field: "name", maxLength: 200)
        clean.email = email.trimmingWhitespace()
        guard DirectoryValidation.isValidEmail(clean.email) else { throw .invalidField("email", "is not an e-mail address") }
        if let imID {
            clean.imID = imID.trimmingWhitespace().isEmpty ? nil : imID.trimmingWhitespace()
            if let id = clean.imID, !DirectoryValidation.isValidIMID(id) {
                throw .invalidField("imId", "is not an IM id of the form @name:server")
            }
        }
        if let manager = managerHandle {
            try DirectoryValidation.checkHandle(manager)
            if manager == handle { throw .managerCycle(handle) }
        }
        return clean
    }

    /// The employee with a patch applied.
    public func applying(_ patch: EmployeePatch) -> Employee {
        var updated = self
        if let name = patch.name { updated.name = name }
        if let email = patch.email { updated.email = email }
        if let imID = patch.imID { updated.imID = imID }
        if let manager = patch.managerHandle { updated.managerHandle = manager }
        if let isAdmin = patch.isAdmin { updated.isAdmin = isAdmin }
        if let isActive = patch.isActive { updated.isActive = isActive }
        return updated
    }
}
