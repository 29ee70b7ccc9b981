import Foundation
import Hummingbird
import SkillRelayDomain

/// An error with its HTTP status, written as `{"error":{"code":"…","message":"…"}}`.
public struct APIError: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var headers: HTTPFields
    /// Topics to choose from, for `ambiguous_topic`.
    var suggestions: [TopicReferenceResponse]?

    public init(_ status: HTTPResponse.Status, code: String, message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    /// A malformed request: bad JSON, a missing or mistyped field, a bad query parameter.
    public static func badRequest(_ message: String, code: String = "bad_request") -> APIError {
        APIError(.badRequest, code: code, message: message)
    }

    /// A `cursor` this list did not give out (edited, from another list, or naming a position not the caller's).
    static var invalidCursor: APIError {
        badRequest("The cursor is not one this list gave out; start again without it.", code: "invalid_cursor")
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = try JSONEncoder().encode(ErrorBody(error: .init(code: code, message: message, suggestions: suggestions)))
        var headers = self.headers
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    private struct ErrorBody: Encodable {
        struct Detail: Encodable {
            var code: String
            var message: String
            var suggestions: [TopicReferenceResponse]?
        }
        var error: Detail
    }
}

extension APIError {
    /// The API's view of a domain error.
    init(_ error: DirectoryError) {
        let status: HTTPResponse.Status =
            switch error.kind {
            case .unauthenticated: .unauthorized
            case .forbidden: .forbidden
            case .notFound: .notFound
            case .conflict: .conflict
            case .invalid: .unprocessableContent
            case .rateLimited: .tooManyRequests
            case .overloaded: .serviceUnavailable
            }
        var headers: HTTPFields = [:]
        switch error {
        case .unauthenticated: headers[.wwwAuthenticate] = "Bearer"
        case .rateLimited(let seconds), .overloaded(let seconds): headers[.retryAfter] = String(seconds)
        default: break
        }
        self.init(status, code: error.code, message: error.message, headers: headers)
        if case .ambiguousTopic(let topics) = error { suggestions = topics.map(TopicReferenceResponse.init) }
    }

    /// The API's view of an error raised by Hummingbird itself (no route, body too large, …).
    init(_ error: HTTPError) {
        let code =
            switch error.status {
            case .notFound: "not_found"
            case .methodNotAllowed: "method_not_allowed"
            case .contentTooLarge: "body_too_large"
            case .badRequest: "bad_request"
            case .unsupportedMediaType: "unsupported_media_type"
            default: error.status.code < 500 ? "bad_request" : "internal"
            }
        let message = error.body ?? (error.status == .notFound ? "No such resource." : error.status.reasonPhrase)
        self.init(error.status, code: code, message: message, headers: error.headers)
    }
}
