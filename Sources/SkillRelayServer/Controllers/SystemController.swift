import Foundation
import Hummingbird
import SkillRelayDomain

/// Unauthenticated endpoints: health and the API's description.
struct SystemController {
    let store: any DirectoryStore
    let events: QuestionEvents

    func addRoutes(to router: Router<APIRequestContext>) {
        router.get("health", use: health)
        router.get("livez", use: liveness)
        router.get("openapi.yaml", use: openAPI)
    }

    struct Health: ResponseEncodable {
        var status: String
    }

    /// Readiness: the database answers, and (with several instances) this one hears the others' live events.
    @Sendable func health(_ request: Request, context: APIRequestContext) async throws -> EditedResponse<Health> {
        do {
            try await store.checkHealth()
        } catch {
            context.logger.error("health check failed", metadata: ["skillrelay.error": "\(error)"])
            return EditedResponse(status: .serviceUnavailable, response: Health(status: "database unavailable"))
        }
        guard events.hearsOtherInstances else { return EditedResponse(status: .serviceUnavailable, response: Health(status: "starting")) }
        return EditedResponse(status: .ok, response: Health(status: "ok"))
    }

    /// Liveness: answers without touching the database (a process that is up but whose database is not is still alive).
    @Sendable func liveness(_ request: Request, context: APIRequestContext) async throws -> Health {
        Health(status: "ok")
    }

    @Sendable func openAPI(_ request: Request, context: APIRequestContext) async throws -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.bytes)))
    }
}

/// The OpenAPI document shipped with the server (`Resources/openapi.yaml`).
public enum OpenAPIDocument {
    /// The document's text.
    public static let bytes: [UInt8] = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"), let data = try? Data(contentsOf: url) else {
            return Array("openapi: 3.1.0\n# the document was not bundled with this build\n".utf8)
        }
        return Array(data)
    }()
}
