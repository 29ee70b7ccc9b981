import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// Every error status the API promises, each with the `{"error":{"code","message"}}` shape and a stable code.
@Suite struct ErrorStatusTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var who: Fixture.Who?
        var rawAuthorization: String? = nil
        var method: HTTPRequest.Method
        var path: String
        var body: String? = nil
        var status: HTTPResponse.Status
        var code: String

        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "broken JSON", who: .m, method: .put, path: "/v1/employees/r/skills/terraform", body: #"{"level":"#, status: .badRequest,
            code: "malformed_json"),
        Case(
            name: "empty body", who: .m, method: .put, path: "/v1/employees/r/skills/terraform", body: "", status: .badRequest, code: "malformed_json"
        ),
        Case(
            name: "level of the wrong type", who: .m, method: .put, path: "/v1/employees/r/skills/terraform", body: #"{"level":"high"}"#,
            status: .badRequest, code: "invalid_field"),
        Case(
            name: "level missing", who: .m, method: .put, path: "/v1/employees/r/skills/terraform", body: #"{}"#, status: .badRequest,
            code: "missing_field"),
        Case(
            name: "level null", who: .m, method: .put, path: "/v1/employees/r/skills/terraform", body: #"{"level":null}"#, status: .badRequest,
            code: "invalid_field"),
        Case(
            name: "body is an array", who: .m, method: .put, path: "/v1/employees/r/skills/terraform", body: #"[1]"#, status: .badRequest,
            code: "invalid_field"),
        Case(name: "limit not a number", who: .deep, method: .get, path: "/v1/topics?limit=ten", status: .badRequest, code: "invalid_parameter"),
        Case(name: "limit too large", who: .deep, method: .get, path: "/v1/topics?limit=5000", status: .badRequest, code: "invalid_parameter"),
        Case(
            name: "token for neither or both", who: .admin, method: .post, path: "/v1/tokens", body: #"{"bot":"a","employee":"m"}"#,
            status: .badRequest, code: "invalid_field"),
        Case(name: "no token", who: nil, method: .get, path: "/v1/me", status: .unauthorized, code: "unauthenticated"),
        Case(
            name: "unknown token", who: nil, rawAuthorization: "Bearer sr_not-a-real-token", method: .get, path: "/v1/topics", status: .unauthorized,
            code: "unauthenticated"),
        Case(
            name: "not a bearer token", who: nil, rawAuthorization: "Basic YWRtaW46YWRtaW4=", method: .get, path: "/v1/topics", status: .unauthorized,
            code: "unauthenticated"),
        Case(
            name: "tagging a peer", who: .m, method: .put, path: "/v1/employees/p/skills/terraform", body: #"{"level":3}"#, status: .forbidden,
            code: "forbidden"),
        Case(name: "unknown employee", who: .admin, method: .get, path: "/v1/employees/nobody", status: .notFound, code: "employee_not_found"),
        Case(name: "unknown topic", who: .deep, method: .get, path: "/v1/topics/astrology", status: .notFound, code: "topic_not_found"),
        Case(
            name: "skill that is not there", who: .m, method: .delete, path: "/v1/employees/r/skills/terraform", status: .notFound,
            code: "skill_not_found"),
        Case(
            name: "alias that is not there", who: .admin, method: .delete, path: "/v1/topics/kubernetes/aliases/kube", status: .notFound,
            code: "alias_not_found"),
        Case(name: "unknown token id", who: .admin, method: .delete, path: "/v1/tokens/tok_0000", status: .notFound, code: "token_not_found"),
        Case(name: "unknown route", who: .admin, method: .get, path: "/v1/nothing-here", status: .notFound, code: "not_found"),
        Case(name: "unknown route without a token", who: nil, method: .get, path: "/nothing-here", status: .notFound, code: "not_found"),
        Case(
            name: "handle taken", who: .admin, method: .post, path: "/v1/employees", body: #"{"handle":"m","name":"M","email":"m2@example.org"}"#,
            status: .conflict, code: "handle_taken"),
        Case(
            name: "IM id taken", who: .admin, method: .post, path: "/v1/employees",
            body: #"{"handle":"m2","name":"M","email":"m2@example.org","imId":"@m:localhost"}"#, status: .conflict, code: "im_id_taken"),
        Case(
            name: "slug taken", who: .admin, method: .post, path: "/v1/topics", body: #"{"slug":"k8s","name":"K"}"#, status: .conflict,
            code: "slug_taken"),
        Case(
            name: "level 7", who: .m, method: .put, path: "/v1/employees/r/skills/terraform", body: #"{"level":7}"#, status: .unprocessableContent,
            code: "invalid_level"),
        Case(
            name: "level 0", who: .m, method: .put, path: "/v1/employees/r/skills/terraform", body: #"{"level":0}"#, status: .unprocessableContent,
            code: "invalid_level"),
        Case(
            name: "alias taken", who: .admin, method: .post, path: "/v1/topics/terraform/aliases", body: #"{"alias":"k8s"}"#,
            status: .unprocessableContent, code: "alias_taken"),
        Case(
            name: "alias that is a slug", who: .admin, method: .post, path: "/v1/topics/terraform/aliases", body: #"{"alias":"kubernetes"}"#,
            status: .unprocessableContent, code: "alias_taken"),
        Case(
            name: "malformed alias", who: .admin, method: .post, path: "/v1/topics/terraform/aliases", body: #"{"alias":"Terra Form!"}"#,
            status: .unprocessableContent, code: "invalid_alias"),
        Case(
            name: "manager cycle", who: .admin, method: .patch, path: "/v1/employees/m", body: #"{"manager":"deep"}"#, status: .unprocessableContent,
            code: "manager_cycle"),
        Case(
            name: "own manager", who: .admin, method: .patch, path: "/v1/employees/m", body: #"{"manager":"m"}"#, status: .unprocessableContent,
            code: "manager_cycle"),
        Case(
            name: "unknown manager", who: .admin, method: .patch, path: "/v1/employees/m", body: #"{"manager":"ghost"}"#,
            status: .unprocessableContent, code: "unknown_manager"),
        Case(
            name: "topic cycle", who: .admin, method: .patch, path: "/v1/topics/infra", body: #"{"parent":"kubernetes"}"#,
            status: .unprocessableContent, code: "topic_cycle"),
        Case(
            name: "unknown parent", who: .admin, method: .post, path: "/v1/topics", body: #"{"slug":"helm","name":"Helm","parent":"nope"}"#,
            status: .unprocessableContent, code: "unknown_parent"),
        Case(
            name: "invalid handle", who: .admin, method: .post, path: "/v1/employees",
            body: #"{"handle":"Bad Handle","name":"B","email":"b@example.org"}"#, status: .unprocessableContent, code: "invalid_handle"),
        Case(
            name: "invalid email", who: .admin, method: .post, path: "/v1/employees", body: #"{"handle":"b","name":"B","email":"nope"}"#,
            status: .unprocessableContent, code: "invalid_field"),
        Case(
            name: "empty name", who: .admin, method: .patch, path: "/v1/topics/infra", body: #"{"name":"   "}"#, status: .unprocessableContent,
            code: "invalid_field"),
        Case(name: "last admin", who: .admin, method: .delete, path: "/v1/employees/admin", status: .unprocessableContent, code: "last_admin"),
    ]

    @Test(arguments: cases)
    func errorStatus(_ testCase: Case) async throws {
        let fixture = try await Fixture.make()
        var fields = fixture.headers(testCase.who)
        if let raw = testCase.rawAuthorization { fields[.authorization] = raw }
        let headers = fields
        try await fixture.test { client in
            try await client.execute(
                uri: testCase.path, method: testCase.method, headers: headers, body: testCase.body.map { ByteBuffer(string: $0) }
            ) {
                response in
                #expect(response.status == testCase.status, "\(response.text)")
                let error = try #require(response.apiError, "not the error shape: \(response.text)")
                #expect(error.code == testCase.code)
                #expect(!error.message.isEmpty)
                #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
            }
        }
    }

    @Test func aBodyOver64KiBIsRefusedWith413() async throws {
        let fixture = try await Fixture.make()
        let huge = #"{"name":""# + String(repeating: "x", count: 70 * 1024) + #""}"#
        try await fixture.test { client in
            try await client.execute(uri: "/v1/topics/infra", method: .patch, headers: fixture.headers(.admin), body: ByteBuffer(string: huge)) {
                response in
                #expect(response.status == .contentTooLarge)
                #expect(response.apiError?.code == "body_too_large")
            }
        }
    }

    @Test func aMissingTokenIsAnsweredWithAChallenge() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            try await client.execute(uri: "/v1/me", method: .get) { response in
                #expect(response.headers[.wwwAuthenticate] == "Bearer")
            }
        }
    }

    /// Whatever arrives as a body, the answer is a 2xx or a 4xx in the error shape: never a 500.
    @Test func garbageNeverCausesA500() async throws {
        let fixture = try await Fixture.make()
        let bodies = [
            "null", "true", "\"text\"", "{\"level\": 1e400}", "{\"level\": 3.5}", "{\"level\": -9223372036854775809}",
            "{\"slug\": 1}", "{\"parent\": {}}", "\u{0}\u{1}", String(repeating: "[", count: 10_000), "{\"alias\": \"\u{202E}\"}",
            "{\"name\": \"line\\nbreak\"}", "{\"manager\": null, \"imId\": null}",
        ]
        let targets: [(HTTPRequest.Method, String)] = [
            (.put, "/v1/employees/r/skills/terraform"), (.post, "/v1/topics"), (.patch, "/v1/topics/infra"),
            (.post, "/v1/topics/infra/aliases"), (.post, "/v1/employees"), (.patch, "/v1/employees/r"), (.post, "/v1/tokens"),
            (.post, "/v1/questions"), (.post, "/v1/questions/q_x/ratings"), (.post, "/v1/inbox/d_x/answer"), (.put, "/v1/me/presence"),
            (.put, "/v1/me/pause"),
        ]
        try await fixture.test { client in
            for (method, path) in targets {
                for body in bodies {
                    try await client.execute(uri: path, method: method, headers: fixture.headers(.admin), body: ByteBuffer(string: body)) {
                        response in
                        #expect(response.status.code < 500, "\(method) \(path) \(body.prefix(40)) → \(response.status) \(response.text)")
                        if response.status.code >= 400 { #expect(response.apiError != nil, "\(response.text)") }
                    }
                }
            }
        }
    }
}
