import Foundation
import Hummingbird
import SkillRelayDomain

extension Request {
    /// Decodes a JSON body of at most `APIRequestContext.bodyLimit` bytes, explaining in plain words what is wrong with it.
    func decodeJSON<T: Decodable>(as type: T.Type, context: APIRequestContext) async throws -> T {
        let buffer = try await body.collect(upTo: context.maxUploadSize)
        guard buffer.readableBytes > 0 else { throw APIError.badRequest("The request needs a JSON body.", code: "malformed_json") }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer: buffer))
        } catch let error as APIError {
            throw error
        } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
            throw APIError.badRequest("The body is not valid JSON.", code: "malformed_json")
        } catch DecodingError.keyNotFound(let key, let context) {
            throw APIError.badRequest("The field '\(Self.path(context.codingPath + [key]))' is required.", code: "missing_field")
        } catch DecodingError.valueNotFound(let type, let context) {
            throw APIError.badRequest("The field '\(Self.path(context.codingPath))' must be \(Self.describe(type)), not null.", code: "invalid_field")
        } catch DecodingError.typeMismatch(let type, let context) {
            let field = context.codingPath.isEmpty ? "The body" : "The field '\(Self.path(context.codingPath))'"
            throw APIError.badRequest("\(field) must be \(Self.describe(type)).", code: "invalid_field")
        } catch DecodingError.dataCorrupted(let context) {
            throw APIError.badRequest("The field '\(Self.path(context.codingPath))' is invalid: \(context.debugDescription)", code: "invalid_field")
        }
    }

    private static func path(_ codingPath: [any CodingKey]) -> String {
        codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type, is Int64.Type: "a whole number"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        case is String.Type: "a string"
        case is [String].Type: "a list of strings"
        default: "an object"
        }
    }
}

extension Request {
    /// An integer query parameter within a range, or the default when absent.
    func queryInteger(_ name: String, default defaultValue: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let text = uri.queryParameters[name[...]] else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            throw APIError.badRequest(
                "The query parameter '\(name)' must be a whole number from \(range.lowerBound) to \(range.upperBound).",
                code: "invalid_parameter")
        }
        return value
    }
}

extension Request {
    /// `limit` (1 to `PageRequest.maximumLimit`) and `cursor` of a list; a cursor that is not this list's is a 400.
    func pageRequest(for list: PageCursor.List) throws -> PageRequest {
        let limit = try queryInteger("limit", default: PageRequest.defaultLimit, in: 1...PageRequest.maximumLimit)
        guard let text = uri.queryParameters["cursor"] else { return PageRequest(limit: limit) }
        do {
            return PageRequest(limit: limit, after: try PageCursor(decoding: String(text), for: list))
        } catch {
            throw APIError.invalidCursor
        }
    }

    /// A true/false query parameter, or the default when absent.
    func queryBool(_ name: String, default defaultValue: Bool) throws -> Bool {
        guard let text = uri.queryParameters[name[...]] else { return defaultValue }
        switch text {
        case "true": return true
        case "false": return false
        default: throw APIError.badRequest("The query parameter '\(name)' must be true or false.", code: "invalid_parameter")
        }
    }

    /// A text query parameter of at most `maxLength` characters, or `nil` when absent.
    func queryText(_ name: String, maxLength: Int = 200) throws -> String? {
        guard let text = uri.queryParameters[name[...]] else { return nil }
        guard text.count <= maxLength else {
            throw APIError.badRequest("The query parameter '\(name)' is longer than \(maxLength) characters.", code: "invalid_parameter")
        }
        return String(text)
    }
}

/// Decodes a key that may be absent (leave as is), `null` (clear) or a value (set): `String??`.
extension KeyedDecodingContainer {
    func decodeClearable<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T?? {
        guard contains(key) else { return nil }
        if try decodeNil(forKey: key) { return .some(nil) }
        return .some(try decode(T.self, forKey: key))
    }
}
