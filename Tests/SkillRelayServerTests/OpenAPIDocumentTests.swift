import Foundation
import Hummingbird
import HummingbirdTesting
import SkillRelayServer
import SkillRelayStore
import Testing

@Suite struct OpenAPIDocumentTests {
    /// "METHOD /path/{param}" for every operation in the document, read from its `paths:` section.
    static func documentedOperations() -> Set<String> {
        let text = String(decoding: OpenAPIDocument.bytes, as: UTF8.self)
        var operations: Set<String> = []
        var inPaths = false
        var currentPath: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("paths:") {
                inPaths = true
                continue
            }
            guard inPaths else { continue }
            if let first = line.first, first != " ", first != "#" { break }  // the next top-level key
            if line.hasPrefix("  /"), line.hasSuffix(":"), !line.hasPrefix("   ") {
                currentPath = String(line.dropFirst(2).dropLast())
            } else if let path = currentPath, line.hasPrefix("    "), !line.hasPrefix("     ") {
                let key = line.trimmingCharacters(in: .whitespaces).dropLast()
                if ["get", "put", "post", "patch", "delete", "head", "options"].contains(String(key)) {
                    operations.insert("\(key.uppercased()) \(path)")
                }
            }
        }
        return operations
    }

    /// The statuses each operation ("METHOD /path/{param}") documents, read from its `responses:`.
    static func documentedStatuses() -> [String: Set<Int>] {
        let text = String(decoding: OpenAPIDocument.bytes, as: UTF8.self)
        var statuses: [String: Set<Int>] = [:]
        var path: String?
        var operation: String?
        var inResponses = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("components:") { break }
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
                operation = nil
            } else if let path, line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":") {
                operation = "\(line.trimmingCharacters(in: .whitespaces).dropLast().uppercased()) \(path)"
                inResponses = false
            } else if line == "      responses:" {
                inResponses = true
            } else if inResponses, let operation, line.hasPrefix("        '"), !line.hasPrefix("         ") {
                if let status = Int(line.trimmingCharacters(in: .whitespaces).dropFirst().prefix(3)) {
                    statuses[operation, default: []].insert(status)
                }
            } else if !line.hasPrefix("       ") {
                inResponses = false
            }
        }
        return statuses
    }

    /// "METHOD /path/{param}" for every route the router serves.
    static func servedRoutes() async throws -> Set<String> {
        let fixture = try await Fixture.make()
        let router = buildRouter(store: fixture.store, questions: fixture.questions, web: fixture.web)
        return Set(
            router.routes.map { route in
                let path = route.path.description.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }
                return "\(route.method) /\(path.joined(separator: "/"))"
            })
    }

    @Test func everyRouteIsDocumented() async throws {
        let served = try await Self.servedRoutes()
        let documented = Self.documentedOperations()
        #expect(served.count >= 18)
        #expect(served.subtracting(documented).isEmpty, "routes missing from openapi.yaml: \(served.subtracting(documented).sorted())")
    }

    @Test func everyDocumentedOperationExists() async throws {
        let stale = Self.documentedOperations().subtracting(try await Self.servedRoutes())
        #expect(stale.isEmpty, "openapi.yaml documents routes the server lacks: \(stale.sorted())")
    }

    /// The web page's routes, opened as the API fuzzer opens them (no session, no form), answer only what the document
    /// says they answer: a redirect to the start page for a page, 401 for a form (415 for the sign-in form, which needs
    /// no session but a form body).
    @Test func webRoutesWithoutASessionAnswerADocumentedStatus() async throws {
        let fixture = try await Fixture.make()
        let documented = Self.documentedStatuses()
        let web = try await Self.servedRoutes().filter { !$0.contains(" /v1") && !$0.hasSuffix(" /metrics") }
        #expect(web.count >= 30)
        try await fixture.test { client in
            for route in web.sorted() {
                let parts = route.split(separator: " ", maxSplits: 1)
                let uri = parts[1].replacingOccurrences(of: #"\{[a-z]+\}"#, with: "x", options: .regularExpression)
                let status = try await client.execute(uri: uri, method: .init(String(parts[0]))!) { $0.status.code }
                #expect(documented[route]?.contains(status) == true, "\(route) answered \(status), documented: \(documented[route]?.sorted() ?? [])")
            }
        }
    }

    @Test func theDocumentIsServed() async throws {
        let fixture = try await Fixture.make()
        try await fixture.test { client in
            try await client.execute(uri: "/openapi.yaml", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.text.hasPrefix("openapi: 3.1"))
                #expect(response.headers[.contentType]?.hasPrefix("application/yaml") == true)
            }
        }
    }
}
