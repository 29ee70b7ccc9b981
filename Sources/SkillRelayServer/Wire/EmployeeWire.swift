import Foundation
import Hummingbird
import SkillRelayDomain

/// A skill as the API shows it.
struct SkillResponse: ResponseEncodable {
    var topic: String
    var topicName: String
    var level: Int
    var source: String
    var taggedBy: String?
    var taggedAt: Date

    init(_ skill: Skill) {
        topic = skill.topic.slug
        topicName = skill.topic.name
        level = skill.level
        source = skill.source.rawValue
        taggedBy = skill.taggedBy
        taggedAt = skill.taggedAt
    }
}

/// An employee with their skills.
struct EmployeeResponse: ResponseEncodable {
    var handle: String
    var name: String
    var email: String
    var imId: String?
    var manager: String?
    var admin: Bool
    var active: Bool
    /// IANA time zone; absent means UTC.
    var timezone: String?
    /// `Mon-Fri 09:00-17:30`; absent means at any time.
    var workingHours: String?
    var directReports: Int
    var skills: [SkillResponse]

    init(_ profile: EmployeeProfile) {
        let employee = profile.employee
        handle = employee.handle
        name = employee.name
        email = employee.email
        imId = employee.imID
        manager = employee.managerHandle
        admin = employee.isAdmin
        active = employee.isActive
        timezone = employee.timeZone
        workingHours = employee.workingHours?.description
        directReports = profile.directReportCount
        skills = profile.skills.map(SkillResponse.init)
    }
}

/// An employee in a list: the profile without skills (one `GET /v1/employees/{handle}` has those), so that a page
/// stays small whatever people are tagged with; in a team list, also how many people are below them.
struct EmployeeSummaryResponse: Encodable, Sendable {
    var handle: String
    var name: String
    var email: String
    var imId: String?
    var manager: String?
    var admin: Bool
    var active: Bool
    var timezone: String?
    var workingHours: String?
    var directReports: Int
    var below: Int?

    init(_ summary: EmployeeSummary) {
        let employee = summary.employee
        handle = employee.handle
        name = employee.name
        email = employee.email
        imId = employee.imID
        manager = employee.managerHandle
        admin = employee.isAdmin
        active = employee.isActive
        timezone = employee.timeZone
        workingHours = employee.workingHours?.description
        directReports = summary.directReportCount
        below = summary.belowCount
    }
}

/// `GET /v1/me`: the caller's roles, and their profile when they are an employee.
struct MeResponse: ResponseEncodable {
    var roles: [String]
    var bot: String?
    var employee: EmployeeResponse?
}

/// `POST /v1/employees`.
struct CreateEmployeeRequest: Decodable {
    var handle: String
    var name: String
    var email: String
    var imId: String?
    var manager: String?
    var admin: Bool?
    var active: Bool?
    var timezone: String?
    var workingHours: String?

    /// The employee asked for; `invalidField` for working hours that do not parse.
    func employee() throws(DirectoryError) -> Employee {
        Employee(
            handle: handle, name: name, email: email, imID: imId, managerHandle: manager, isAdmin: admin ?? false,
            isActive: active ?? true, timeZone: timezone, workingHours: try UpdateEmployeeRequest.workingHours(workingHours))
    }
}

/// `PATCH /v1/employees/{handle}`: absent fields stay; `null` clears `imId`, `manager`, `timezone` or `workingHours`.
struct UpdateEmployeeRequest: Decodable {
    var patch: EmployeePatch
    /// As sent, checked by `checkedPatch()`.
    var workingHoursText: String??

    enum CodingKeys: String, CodingKey { case name, email, imId, manager, admin, active, timezone, workingHours }

    /// The patch, with its working hours parsed; `invalidField` for working hours that do not parse.
    func checkedPatch() throws(DirectoryError) -> EmployeePatch {
        var patch = patch
        if let text = workingHoursText { patch.workingHours = .some(try Self.workingHours(text)) }
        return patch
    }

    /// Working hours as the API takes them: `null`, absent or empty means none.
    static func workingHours(_ text: String?) throws(DirectoryError) -> WorkingHours? {
        guard let text, !text.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        do {
            return try WorkingHours(parsing: text)
        } catch {
            // The API's field name, not the CSV column's.
            if case .invalidField(_, let why) = error { throw .invalidField("workingHours", why) }
            throw error
        }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        patch = EmployeePatch(
            name: try container.decodeIfPresent(String.self, forKey: .name),
            email: try container.decodeIfPresent(String.self, forKey: .email),
            imID: try container.decodeClearable(String.self, forKey: .imId),
            managerHandle: try container.decodeClearable(String.self, forKey: .manager),
            isAdmin: try container.decodeIfPresent(Bool.self, forKey: .admin),
            isActive: try container.decodeIfPresent(Bool.self, forKey: .active),
            timeZone: try container.decodeClearable(String.self, forKey: .timezone))
        workingHoursText = try container.decodeClearable(String.self, forKey: .workingHours)
    }
}

/// `PUT /v1/employees/{handle}/skills/{topic}`.
struct SetSkillRequest: Decodable {
    var level: Int
}
