import Foundation
import Hummingbird
import HummingbirdTesting
import SkillRelayDomain
import SkillRelayServer
import SkillRelayStore

/// A small company for API tests:
///
///     admin (admin)        boss
///                         /    \
///                        m      p
///                        |      |
///                        r      pr
///                        |
///                      deep
///
/// Topics: `infra` > `kubernetes` (alias `k8s`), `infra` > `terraform`. Skills: r has kubernetes 3, tagged by m;
/// deep has infra 2, self-declared.
struct Fixture {
    enum Who: String, CaseIterable, Sendable {
        case admin, boss, m, p, r, pr, deep, bot
    }

    let store: SQLiteDirectoryStore
    let tokens: [Who: String]
    let tokenIDs: [Who: String]

    static func make() async throws -> Fixture {
        let store = SQLiteDirectoryStore(database: try AppDatabase.inMemory())
        let op = Caller.cliOperator
        func add(_ handle: String, manager: String?, admin: Bool = false) async throws {
            _ = try await store.createEmployee(
                Employee(
                    handle: handle, name: handle.capitalized, email: "\(handle)@example.org", imID: "@\(handle):localhost",
                    managerHandle: manager, isAdmin: admin), by: op)
        }
        try await add("admin", manager: nil, admin: true)
        try await add("boss", manager: nil)
        try await add("m", manager: "boss")
        try await add("p", manager: "boss")
        try await add("r", manager: "m")
        try await add("pr", manager: "p")
        try await add("deep", manager: "r")
        _ = try await store.createTopic(Topic(slug: "infra", name: "Infrastructure", description: "Servers and networks"), by: op)
        _ = try await store.createTopic(
            Topic(slug: "kubernetes", name: "Kubernetes", description: "Clusters", parentSlug: "infra", aliases: ["k8s"]), by: op)
        _ = try await store.createTopic(Topic(slug: "terraform", name: "Terraform", parentSlug: "infra"), by: op)
        let managerM = Caller(identity: .employee("m"), isManager: true)
        _ = try await store.setSkill(of: "r", topic: "kubernetes", level: 3, by: managerM)
        _ = try await store.setSkill(of: "deep", topic: "infra", level: 2, by: Caller(identity: .employee("deep")))
        var tokens: [Who: String] = [:]
        var ids: [Who: String] = [:]
        for who in Who.allCases {
            let issued = try await store.createToken(for: who == .bot ? .bot("ci-bot") : .employee(who.rawValue), by: op)
            tokens[who] = issued.secret
            ids[who] = issued.token.id
        }
        return Fixture(store: store, tokens: tokens, tokenIDs: ids)
    }

    /// Runs requests against the router in process.
    func test<Value: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        try await Application(router: buildRouter(store: store)).test(.router, body)
    }

    func headers(_ who: Who?) -> HTTPFields {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let who { headers[.authorization] = "Bearer \(tokens[who]!)" }
        return headers
    }
}

/// The JSON error body every failure carries.
struct ErrorBody: Decodable {
    struct Detail: Decodable {
        var code: String
        var message: String
    }
    var error: Detail
}

extension TestResponse {
    /// The body decoded as the API's error shape, or `nil` if it is not one.
    var apiError: ErrorBody.Detail? {
        try? JSONDecoder().decode(ErrorBody.self, from: Data(buffer: body)).error
    }

    var text: String { String(buffer: body) }
}
