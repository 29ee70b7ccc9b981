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
