import Foundation

/// A person in the directory.
public struct Employee: Sendable, Equatable {
    public var handle: String
    public var name: String
    public var email: String
    public var imID: String?
    public var managerHandle: String?
    public var isAdmin: Bool
    public var isActive: Bool
    /// Their IANA time zone (`Europe/Berlin`); `nil` means UTC.
    public var timeZone: String?
    /// When they may be interrupted, in their time zone; `nil` means at any time.
    public var workingHours: WorkingHours?

    public init(
        handle: String, name: String, email: String, imID: String? = nil, managerHandle: String? = nil,
        isAdmin: Bool = false, isActive: Bool = true, timeZone: String? = nil, workingHours: WorkingHours? = nil
    ) {
        self.timeZone = timeZone
        self.workingHours = workingHours
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
    /// `.some(nil)` removes the time zone.
    public var timeZone: String??
    /// `.some(nil)` removes the working hours.
    public var workingHours: WorkingHours??

    public init(
        name: String? = nil, email: String? = nil, imID: String?? = nil, managerHandle: String?? = nil, isAdmin: Bool? = nil,
        isActive: Bool? = nil, timeZone: String?? = nil, workingHours: WorkingHours?? = nil
    ) {
        self.timeZone = timeZone
        self.workingHours = workingHours
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
        if let timeZone {
            let trimmed = timeZone.trimmingWhitespace()
            clean.timeZone = trimmed.isEmpty ? nil : try Self.checkTimeZone(trimmed)
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
        if let timeZone = patch.timeZone { updated.timeZone = timeZone }
        if let workingHours = patch.workingHours { updated.workingHours = workingHours }
        return updated
    }

    /// An IANA time zone name as Foundation knows it (`Europe/Berlin`, `UTC`), or `invalidField("timezone", …)`.
    public static func checkTimeZone(_ name: String) throws(DirectoryError) -> String {
        // Only names: TimeZone(identifier:) also takes abbreviations and offsets such as "GMT+2", which a directory
        // should not hold.
        guard name.contains("/") || name == "UTC", TimeZone(identifier: name) != nil else {
            throw .invalidField("timezone", "'\(name)' is not an IANA time zone name such as Europe/Berlin")
        }
        return name
    }
}
