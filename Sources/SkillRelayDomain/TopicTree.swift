/// The topic tree a branch at a time, for the admin page.
public protocol TopicTreeStore: Sendable {
    /// The children of a topic (or the top-level topics), by name, or with a query the topics it finds, best first; a
    /// page of them from `offset`.
    func topicBranch(under slugOrAlias: String?, matching query: String?, limit: Int, offset: Int) async throws -> TopicBranch
}

/// A topic in a branch listing, with how many children it has.
public struct TopicNode: Sendable, Equatable {
    public var topic: Topic
    public var childCount: Int

    public init(topic: Topic, childCount: Int) {
        self.topic = topic
        self.childCount = childCount
    }
}

/// One page of a branch of the topic tree, or of a topic search.
public struct TopicBranch: Sendable, Equatable {
    /// From the top down to the topic whose children are listed; empty for the top level and for a search.
    public var path: [TopicReference]
    public var topics: [TopicNode]
    /// How many topics the listing has in all.
    public var total: Int

    public init(path: [TopicReference], topics: [TopicNode], total: Int) {
        self.path = path
        self.topics = topics
        self.total = total
    }
}
