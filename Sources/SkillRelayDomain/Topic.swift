/// A subject people can be skilled in, placed in a tree (`infrastructure` > `kubernetes`).
public struct Topic: Sendable, Equatable {
    public var slug: String
    public var name: String
    public var description: String
    public var parentSlug: String?
    /// Other names that find the topic (`k8s` for `kubernetes`), sorted.
    public var aliases: [String]

    public init(slug: String, name: String, description: String = "", parentSlug: String? = nil, aliases: [String] = []) {
        self.slug = slug
        self.name = name
        self.description = description
        self.parentSlug = parentSlug
        self.aliases = aliases
    }
}

/// A topic's slug and name, as shown for parents and children.
public struct TopicReference: Sendable, Equatable, Hashable, Codable {
    public var slug: String
    public var name: String

    public init(slug: String, name: String) {
        self.slug = slug
        self.name = name
    }
}

/// A topic with its neighbours in the tree and how many specialists it has.
public struct TopicDetail: Sendable, Equatable {
    public var topic: Topic
    public var parent: TopicReference?
    public var children: [TopicReference]
    /// Active employees tagged with the topic or one of its subtopics: a count, never names.
    public var specialistCount: Int

    public init(topic: Topic, parent: TopicReference?, children: [TopicReference], specialistCount: Int) {
        self.topic = topic
        self.parent = parent
        self.children = children
        self.specialistCount = specialistCount
    }
}

/// One page of a topic listing.
public struct TopicPage: Sendable, Equatable {
    public var topics: [Topic]
    /// How many topics match in all.
    public var total: Int

    public init(topics: [Topic], total: Int) {
        self.topics = topics
        self.total = total
    }
}

/// The fields of a topic that an update may change; `nil` leaves a field as it is.
public struct TopicPatch: Sendable, Equatable {
    public var name: String?
    public var description: String?
    /// `.some(nil)` makes the topic a root.
    public var parentSlug: String??

    public init(name: String? = nil, description: String? = nil, parentSlug: String?? = nil) {
        self.name = name
        self.description = description
        self.parentSlug = parentSlug
    }
}

extension Topic {
    /// Checks every field's format, returning the topic with its text trimmed and aliases sorted.
    public func validated() throws(DirectoryError) -> Topic {
        var clean = self
        try DirectoryValidation.checkSlug(slug)
        clean.name = try DirectoryValidation.cleanText(name, field: "name", maxLength: 120)
        clean.description = try DirectoryValidation.cleanText(description, field: "description", maxLength: 300, allowEmpty: true)
        if let parent = parentSlug {
            if parent == slug { throw .topicCycle(slug) }
        }
        for alias in aliases {
            try DirectoryValidation.checkAlias(alias)
            if alias == slug { throw .aliasTaken(alias) }
        }
        guard Set(aliases).count == aliases.count else { throw .invalidField("aliases", "lists an alias twice") }
        clean.aliases = aliases.sorted()
        return clean
    }

    /// The topic with a patch applied.
    public func applying(_ patch: TopicPatch) -> Topic {
        var updated = self
        if let name = patch.name { updated.name = name }
        if let description = patch.description { updated.description = description }
        if let parent = patch.parentSlug { updated.parentSlug = parent }
        return updated
    }
}
