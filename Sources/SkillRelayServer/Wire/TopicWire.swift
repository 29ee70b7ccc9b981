import Foundation
import Hummingbird
import SkillRelayDomain

/// A topic in a listing.
struct TopicResponse: ResponseEncodable {
    var slug: String
    var name: String
    var description: String
    var parent: String?
    var aliases: [String]

    init(_ topic: Topic) {
        slug = topic.slug
        name = topic.name
        description = topic.description
        parent = topic.parentSlug
        aliases = topic.aliases
    }
}

/// A topic's slug and name.
struct TopicReferenceResponse: Encodable {
    var slug: String
    var name: String

    init(_ reference: TopicReference) {
        slug = reference.slug
        name = reference.name
    }
}

/// One topic with its neighbours and its number of specialists.
struct TopicDetailResponse: ResponseEncodable {
    var slug: String
    var name: String
    var description: String
    var aliases: [String]
    var parent: TopicReferenceResponse?
    var children: [TopicReferenceResponse]
    var specialistCount: Int

    init(_ detail: TopicDetail) {
        slug = detail.topic.slug
        name = detail.topic.name
        description = detail.topic.description
        aliases = detail.topic.aliases
        parent = detail.parent.map(TopicReferenceResponse.init)
        children = detail.children.map(TopicReferenceResponse.init)
        specialistCount = detail.specialistCount
    }
}

/// `POST /v1/topics`.
struct CreateTopicRequest: Decodable {
    var slug: String
    var name: String
    var description: String?
    var parent: String?
    var aliases: [String]?

    var topic: Topic {
        Topic(
            slug: slug.lowercased(), name: name, description: description ?? "", parentSlug: parent?.lowercased(),
            aliases: (aliases ?? []).map { $0.lowercased() })
    }
}

/// `PATCH /v1/topics/{topic}`: absent fields stay, `"parent": null` makes the topic a root.
struct UpdateTopicRequest: Decodable {
    var patch: TopicPatch

    enum CodingKeys: String, CodingKey { case name, description, parent }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        patch = TopicPatch(
            name: try container.decodeIfPresent(String.self, forKey: .name),
            description: try container.decodeIfPresent(String.self, forKey: .description),
            parentSlug: try container.decodeClearable(String.self, forKey: .parent))
    }
}

/// `POST /v1/topics/{topic}/aliases`.
struct AddAliasRequest: Decodable {
    var alias: String
}
