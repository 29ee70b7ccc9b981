import Foundation
import Hummingbird
import SkillRelayDomain

/// A suggestion about someone's tag, as the API shows it to their managers.
struct SuggestionResponse: ResponseEncodable {
    var id: String
    var kind: String
    var status: String
    var handle: String
    var name: String
    var topic: TopicReferenceResponse
    var evidence: Int
    var deliveries: Int
    var currentLevel: Int?
    var createdAt: Date
    var updatedAt: Date

    init(_ suggestion: SkillSuggestion) {
        id = suggestion.id
        kind = suggestion.kind.rawValue
        status = suggestion.status.rawValue
        handle = suggestion.handle
        name = suggestion.name
        topic = TopicReferenceResponse(suggestion.topic)
        evidence = suggestion.evidence
        deliveries = suggestion.deliveries
        currentLevel = suggestion.currentLevel
        createdAt = suggestion.createdAt
        updatedAt = suggestion.updatedAt
    }

    enum CodingKeys: String, CodingKey { case id, kind, status, handle, name, topic, evidence, deliveries, currentLevel, createdAt, updatedAt }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(kind, forKey: .kind)
        try container.encode(status, forKey: .status)
        try container.encode(handle, forKey: .handle)
        try container.encode(name, forKey: .name)
        try container.encode(topic, forKey: .topic)
        try container.encode(evidence, forKey: .evidence)
        try container.encode(deliveries, forKey: .deliveries)
        // Written even when absent: null says "not tagged".
        try container.encode(currentLevel, forKey: .currentLevel)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
    }
}

/// The body of an acceptance: the level to tag at, for a suggested skill; nothing, for a stale tag.
struct AcceptSuggestionRequest: Decodable {
    var level: Int?
}
