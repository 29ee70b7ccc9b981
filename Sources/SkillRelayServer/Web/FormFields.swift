import Foundation
import Hummingbird

/// The fields of an `application/x-www-form-urlencoded` body; a repeated name keeps its last value.
public struct FormFields: Sendable, Equatable {
    var values: [String: String] = [:]

    public init() {}

    /// Parses a body; malformed percent escapes make the field unreadable rather than the request fail.
    public init(body: String) {
        for pair in body.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]) else { continue }
            values[name] = parts.count > 1 ? Self.decode(parts[1]) ?? "" : ""
        }
    }

    public subscript(_ name: String) -> String? { values[name] }

    /// The field trimmed, or `nil` when missing or blank.
    public func text(_ name: String) -> String? {
        guard let value = values[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}

extension Request {
    /// A query parameter trimmed and cut to 200 characters, or `nil` when missing or blank.
    func queryText(_ name: String) -> String? {
        guard let value = uri.queryParameters[Substring(name)].map(String.init)?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty
        else {
            return nil
        }
        return String(value.prefix(200))
    }
}
