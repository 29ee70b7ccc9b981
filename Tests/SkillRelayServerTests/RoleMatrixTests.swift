import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// Every role × action × target, refusals included, through the HTTP API. Each case runs on a fresh fixture.
@Suite struct RoleMatrixTests {
    typealias Who = Fixture.Who

    struct Case: Sendable, CustomTestStringConvertible {
        var who: Who
        var method: HTTPRequest.Method
        var path: String
        var body: String?
        var status: HTTPResponse.Status
        /// Text the response body must contain, where the status alone does not say enough.
        var expectBody: String?

        var testDescription: String { "\(who.rawValue) \(method) \(path) → \(status.code)" }
    }

    static let everyone: [Who] = [.admin, .m, .deep, .bot]

    static let cases: [Case] = {
        var cases: [Case] = []
        func add(
            _ who: Who, _ method: HTTPRequest.Method, _ path: String, _ body: String? = nil, _ status: HTTPResponse.Status, _ expect: String? = nil
        ) {
            cases.append(Case(who: who, method: method, path: path, body: body, status: status, expectBody: expect))
        }
        // Topics: everyone reads; only admins write.
        for who in everyone {
            add(who, .get, "/v1/topics", nil, .ok)
            add(who, .get, "/v1/topics/k8s", nil, .ok)
            add(who, .get, "/v1/me", nil, .ok)
            let admin = who == .admin
            add(who, .post, "/v1/topics", #"{"slug":"helm","name":"Helm","parent":"infra"}"#, admin ? .created : .forbidden)
            add(who, .patch, "/v1/topics/kubernetes", #"{"name":"K8s"}"#, admin ? .ok : .forbidden)
            add(who, .post, "/v1/topics/kubernetes/aliases", #"{"alias":"kube"}"#, admin ? .created : .forbidden)
            add(who, .delete, "/v1/topics/kubernetes/aliases/k8s", nil, admin ? .ok : .forbidden)
            add(who, .post, "/v1/employees", #"{"handle":"new","name":"New","email":"new@example.org","manager":"m"}"#, admin ? .created : .forbidden)
            add(who, .patch, "/v1/employees/r", #"{"name":"Arr"}"#, admin ? .ok : .forbidden)
            add(who, .delete, "/v1/employees/pr", nil, admin ? .ok : .forbidden)
            add(who, .get, "/v1/tokens", nil, admin ? .ok : .forbidden)
            add(who, .post, "/v1/tokens", #"{"bot":"deploy-bot"}"#, admin ? .created : .forbidden)
        }
        // Lists: employees for admins (everyone) and managers (those below them); someone's reports for whoever may read
        // that person; one's own questions for every asker; the inbox for employees.
        for who in everyone {
            let reader = who == .admin || who == .m
            add(who, .get, "/v1/employees", nil, reader ? .ok : .forbidden)
            add(who, .get, "/v1/employees?manager=r", nil, reader ? .ok : .forbidden)
            add(who, .get, "/v1/employees/m/reports", nil, reader ? .ok : .forbidden)
            add(who, .get, "/v1/questions", nil, .ok, #""items":[]"#)
            add(who, .get, "/v1/inbox", nil, who == .bot ? .forbidden : .ok)
            add(who, .get, "/v1/suggestions", nil, reader ? .ok : .forbidden)
            add(who, .post, "/v1/suggestions/sg_nope/dismiss", nil, reader ? .notFound : .forbidden)
        }
        add(.m, .get, "/v1/employees?manager=p", nil, .forbidden)
        add(.deep, .get, "/v1/employees/deep/reports", nil, .ok, #""items":[]"#)
        add(.boss, .get, "/v1/employees", nil, .ok, #""handle":"deep""#)
        // Reading employees: oneself, anyone below, or an admin.
        let reads: [(Who, Who, HTTPResponse.Status)] = [
            (.admin, .boss, .ok), (.admin, .deep, .ok), (.admin, .admin, .ok),
            (.m, .m, .ok), (.m, .r, .ok), (.m, .deep, .ok), (.m, .p, .forbidden), (.m, .pr, .forbidden), (.m, .boss, .forbidden),
            (.deep, .deep, .ok), (.deep, .r, .forbidden), (.deep, .m, .forbidden), (.deep, .admin, .forbidden),
            (.bot, .deep, .forbidden), (.bot, .m, .forbidden),
        ]
        for (who, target, status) in reads { add(who, .get, "/v1/employees/\(target.rawValue)", nil, status) }
        // Tagging: managers tag people below them (source manager); everyone may self-declare; nobody tags peers or superiors.
        let tags: [(Who, Who, HTTPResponse.Status, String?)] = [
            (.admin, .boss, .ok, #""source":"manager""#), (.admin, .deep, .ok, #""source":"manager""#),
            (.m, .r, .ok, #""source":"manager""#), (.m, .deep, .ok, #""source":"manager""#), (.m, .m, .ok, #""source":"self""#),
            (.m, .p, .forbidden, nil), (.m, .pr, .forbidden, nil), (.m, .boss, .forbidden, nil),
            (.deep, .deep, .ok, #""source":"self""#), (.deep, .r, .forbidden, nil), (.deep, .pr, .forbidden, nil),
            (.bot, .deep, .forbidden, nil), (.bot, .r, .forbidden, nil),
        ]
        for (who, target, status, expect) in tags {
            add(who, .put, "/v1/employees/\(target.rawValue)/skills/terraform", #"{"level":3}"#, status, expect)
            add(who, .put, "/v1/employees/\(target.rawValue)/skills/tf-missing", #"{"level":3}"#, who == .bot ? .forbidden : .notFound)
        }
        // A skill a manager tagged is theirs to change: r may not re-level or remove it, m may.
        add(.r, .put, "/v1/employees/r/skills/k8s", #"{"level":5}"#, .forbidden)
        add(.r, .delete, "/v1/employees/r/skills/kubernetes", nil, .forbidden)
        add(.m, .put, "/v1/employees/r/skills/k8s", #"{"level":5}"#, .ok, #""level":5"#)
        add(.m, .delete, "/v1/employees/r/skills/kubernetes", nil, .noContent)
        add(.boss, .delete, "/v1/employees/r/skills/kubernetes", nil, .noContent)
        add(.p, .delete, "/v1/employees/r/skills/kubernetes", nil, .forbidden)
        add(.admin, .delete, "/v1/employees/r/skills/kubernetes", nil, .noContent)
        add(.bot, .delete, "/v1/employees/r/skills/kubernetes", nil, .forbidden)
        // A self-declared skill is the employee's own to change; their managers may change it too.
        add(.deep, .put, "/v1/employees/deep/skills/infra", #"{"level":4}"#, .ok, #""source":"self""#)
        add(.deep, .delete, "/v1/employees/deep/skills/infra", nil, .noContent)
        add(.r, .delete, "/v1/employees/deep/skills/infra", nil, .noContent)
        add(.pr, .delete, "/v1/employees/deep/skills/infra", nil, .forbidden)
        return cases
    }()

    @Test(arguments: cases)
    func roleMatrix(_ testCase: Case) async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            try await client.execute(
                uri: testCase.path, method: testCase.method, headers: fixture.headers(testCase.who),
                body: testCase.body.map { ByteBuffer(string: $0) }
            ) { response in
                #expect(response.status == testCase.status, "\(response.text)")
                if let expected = testCase.expectBody { #expect(response.text.contains(expected), "\(response.text)") }
                if response.status.code >= 400 { #expect(response.apiError != nil, "not the error shape: \(response.text)") }
            }
        }
    }

    @Test func revokingATokenIsForAdminsOnly() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            let target = fixture.tokenIDs[.deep]!
            for who in [Who.m, .deep, .bot] {
                try await client.execute(uri: "/v1/tokens/\(target)", method: .delete, headers: fixture.headers(who)) { response in
                    #expect(response.status == .forbidden)
                }
            }
            try await client.execute(uri: "/v1/tokens/\(target)", method: .delete, headers: fixture.headers(.admin)) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/v1/me", method: .get, headers: fixture.headers(.deep)) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }
}
