import Hummingbird
import SkillRelayDomain

/// Every list's shape: `{"items": [...], "next": "…"}`, `next` null on the last page.
struct PageResponse<Item: Encodable & Sendable>: ResponseEncodable {
    var items: [Item]
    var next: String?

    init<Source>(_ page: ListPage<Source>, _ transform: (Source) -> Item) {
        items = page.items.map(transform)
        next = page.next?.encoded
    }

    enum CodingKeys: String, CodingKey { case items, next }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        // Written even when absent, so a client sees the key and knows it reached the end.
        try container.encode(next, forKey: .next)
    }
}
