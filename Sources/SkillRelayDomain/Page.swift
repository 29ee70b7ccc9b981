import Foundation

/// Which page of a list to read: at most `limit` items, after the position a cursor names (the first page without one).
public struct PageRequest: Sendable, Equatable {
    /// Items per page when the caller does not say.
    public static let defaultLimit = 50
    /// The most items a page may hold.
    public static let maximumLimit = 200

    public var limit: Int
    public var after: PageCursor?

    public init(limit: Int = PageRequest.defaultLimit, after: PageCursor? = nil) {
        self.limit = limit
        self.after = after
    }
}

/// One page of a list, and where the next one starts (`nil` on the last page).
public struct ListPage<Item: Sendable>: Sendable {
    public var items: [Item]
    public var next: PageCursor?

    public init(items: [Item], next: PageCursor?) {
        self.items = items
        self.next = next
    }

    /// The page made from up to `limit + 1` rows read in order: the extra row only says that another page follows,
    /// which then starts after the last item shown.
    public init(rows: [Item], limit: Int, list: PageCursor.List, key: (Item) -> [String]) {
        items = Array(rows.prefix(limit))
        next = rows.count > limit ? items.last.map { PageCursor(list: list, keys: key($0)) } : nil
    }

    /// The same page with its items changed.
    public func map<T: Sendable>(_ transform: (Item) throws -> T) rethrows -> ListPage<T> {
        ListPage<T>(items: try items.map(transform), next: next)
    }
}

/// A position in one list: the sort key of the last item a page showed (keyset pagination, so a cursor stays valid
/// however many rows are added before or after it). Opaque to clients: base64url of a small JSON object.
public struct PageCursor: Sendable, Equatable {
    /// The lists that page, each with its own keys; a cursor of one list is refused by another.
    public enum List: String, Sendable, CaseIterable {
        /// Employees by name and handle: `[name, handle]`.
        case employees
        /// A manager's direct reports by name and handle: `[name, handle]`.
        case reports
        /// Topics by slug: `[slug]`.
        case topics
        /// Tokens, newest first: `[tokenID]`.
        case tokens
        /// A specialist's inbox, newest first: `[deliveryID]`.
        case inbox
        /// An asker's questions, newest first: `[questionID]`.
        case questions
        /// Open skill suggestions, newest first: `[suggestionID]`.
        case suggestions

        var keyCount: Int {
            switch self {
            case .employees, .reports: 2
            case .topics, .tokens, .inbox, .questions, .suggestions: 1
            }
        }
    }

    public var list: List
    public var keys: [String]

    public init(list: List, keys: [String]) {
        self.list = list
        self.keys = keys
    }

    private struct Wire: Codable {
        var l: String
        var k: [String]
    }

    /// The cursor as clients see it.
    public var encoded: String {
        let json = (try? JSONEncoder().encode(Wire(l: list.rawValue, k: keys))) ?? Data()
        return json.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Reads a cursor a client sent back for `list`; anything else (not ours, another list's, edited) is `InvalidCursor`.
    public init(decoding text: String, for list: List) throws(InvalidCursor) {
        guard text.count <= 2048, text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) else {
            throw InvalidCursor()
        }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let wire = try? JSONDecoder().decode(Wire.self, from: data),
            wire.l == list.rawValue, wire.k.count == list.keyCount, wire.k.allSatisfy({ !$0.isEmpty && $0.count <= 300 })
        else { throw InvalidCursor() }
        self.init(list: list, keys: wire.k)
    }
}

/// A cursor that is not one this list gave out, or names a position that is not the caller's.
public struct InvalidCursor: Error, Sendable, Equatable {
    public init() {}
}
