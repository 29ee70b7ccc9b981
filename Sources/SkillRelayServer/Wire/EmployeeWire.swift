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

    var employee: Employee {
        Employee(
            handle: handle, name: name, email: email, imID: imId, managerHandle: manager, isAdmin: admin ?? false,
            isActive: active ?? true)
    }
}

/// `PATCH /v1/employees/{handle}`: absent fields stay; `null` clears `imId` or `manager`.
struct UpdateEmployeeRequest: Decodable {
    var patch: EmployeePatch

    enum CodingKeys: String, CodingKey { case name, email, imId, manager, admin, active }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        patch = EmployeePatch(
            name: try container.decodeIfPresent(String.self, forKey: .name),
            email: try container.decodeIfPresent(String.self, forKey: .email),
            imID: try container.decodeClearable(String.self, forKey: .imId),
            managerHandle: try container.decodeClearable(String.self, forKey: .manager),
            isAdmin: try container.decodeIfPresent(Bool.self, forKey: .admin),
            isActive: try container.decodeIfPresent(Bool.self, forKey: .active))
    }
}

/// `PUT /v1/employees/{handle}/skills/{topic}`.
struct SetSkillRequest: Decodable {
    var level: Int
}
