import Hummingbird
import SkillRelayDomain

/// Employees and their skills. Who may see or change what is the store's and the policy's business.
struct EmployeesController {
    let store: any DirectoryStore

    func addRoutes(to group: RouterGroup<APIRequestContext>) {
        group.get("me", use: me)
        group.get("employees", use: list)
        group.post("employees", use: create)
        group.get("employees/:handle", use: show)
        group.get("employees/:handle/reports", use: reports)
        group.patch("employees/:handle", use: update)
        group.delete("employees/:handle", use: deactivate)
        group.put("employees/:handle/skills/:topic", use: setSkill)
        group.delete("employees/:handle/skills/:topic", use: removeSkill)
    }

    @Sendable func me(_ request: Request, context: APIRequestContext) async throws -> MeResponse {
        let caller = try context.requireCaller()
        let roles = caller.roles.map(\.rawValue)
        switch caller.identity {
        case .employee(let handle):
            return MeResponse(roles: roles, employee: EmployeeResponse(try await store.employee(handle, by: caller)))
        case .bot(let name):
            return MeResponse(roles: roles, bot: name)
        case .operator:
            return MeResponse(roles: roles)
        }
    }

    /// Admins list everyone, managers the people below them; filtered and a page at a time.
    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> PageResponse<EmployeeSummaryResponse> {
        let caller = try context.requireCaller()
        try DirectoryPolicy.authorize(caller, to: .listEmployees)
        let page = try request.pageRequest(for: .employees)
        let topic = try request.queryText("topic", maxLength: 64)
        let minimumLevel = try request.queryInteger("minLevel", default: 1, in: 1...5)
        if topic == nil, request.uri.queryParameters["minLevel"] != nil {
            throw APIError.badRequest("The query parameter 'minLevel' needs 'topic'.", code: "invalid_parameter")
        }
        let filter = EmployeeFilter(
            query: try request.queryText("q", maxLength: 100), managerHandle: try request.queryText("manager", maxLength: 64), topic: topic,
            minimumLevel: minimumLevel, isActive: try request.queryBool("active", default: true))
        return PageResponse(try await store.employees(filter, by: caller, page: page), EmployeeSummaryResponse.init)
    }

    /// Someone's direct reports, each with how many people are below them, a page at a time.
    @Sendable func reports(_ request: Request, context: APIRequestContext) async throws -> PageResponse<EmployeeSummaryResponse> {
        let caller = try context.requireCaller()
        let page = try request.pageRequest(for: .reports)
        let active = try request.queryBool("active", default: true)
        let reports = try await store.reports(of: try context.parameters.require("handle"), isActive: active, by: caller, page: page)
        return PageResponse(reports, EmployeeSummaryResponse.init)
    }

    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> EmployeeResponse {
        EmployeeResponse(try await store.employee(try context.parameters.require("handle"), by: try context.requireCaller()))
    }

    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> EditedResponse<EmployeeResponse> {
        let caller = try context.requireCaller()
        try DirectoryPolicy.authorize(caller, to: .editEmployees)
        let body = try await request.decodeJSON(as: CreateEmployeeRequest.self, context: context)
        let profile = try await store.createEmployee(try body.employee(), by: caller)
        return EditedResponse(
            status: .created, headers: [.location: "/v1/employees/\(profile.employee.handle)"], response: EmployeeResponse(profile))
    }

    @Sendable func update(_ request: Request, context: APIRequestContext) async throws -> EmployeeResponse {
        let caller = try context.requireCaller()
        try DirectoryPolicy.authorize(caller, to: .editEmployees)
        let body = try await request.decodeJSON(as: UpdateEmployeeRequest.self, context: context)
        return EmployeeResponse(try await store.updateEmployee(try context.parameters.require("handle"), with: try body.checkedPatch(), by: caller))
    }

    /// Employees are deactivated, never deleted: their history stays.
    @Sendable func deactivate(_ request: Request, context: APIRequestContext) async throws -> EmployeeResponse {
        let caller = try context.requireCaller()
        let profile = try await store.updateEmployee(
            try context.parameters.require("handle"), with: EmployeePatch(isActive: false), by: caller)
        return EmployeeResponse(profile)
    }

    @Sendable func setSkill(_ request: Request, context: APIRequestContext) async throws -> SkillResponse {
        let caller = try context.requireCaller()
        if case .bot = caller.identity { try DirectoryPolicy.authorize(caller, to: .tagSkill(.unrelated, existing: nil)) }
        let body = try await request.decodeJSON(as: SetSkillRequest.self, context: context)
        let skill = try await store.setSkill(
            of: try context.parameters.require("handle"), topic: try context.parameters.require("topic"), level: body.level, by: caller)
        return SkillResponse(skill)
    }

    @Sendable func removeSkill(_ request: Request, context: APIRequestContext) async throws -> HTTPResponse.Status {
        let caller = try context.requireCaller()
        try await store.removeSkill(of: try context.parameters.require("handle"), topic: try context.parameters.require("topic"), by: caller)
        return .noContent
    }
}
