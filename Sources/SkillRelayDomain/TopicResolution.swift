/// A topic the full-text search found for a question's text, with its bm25 score (more negative is better).
public struct TopicHit: Sendable, Equatable {
    public var topic: TopicReference
    public var score: Double

    public init(topic: TopicReference, score: Double) {
        self.topic = topic
        self.score = score
    }
}

/// Picks the topic of a question asked without one, or refuses to guess.
public enum TopicResolution {
    /// A best hit wins only when the runner-up scores less than this share of it.
    static let clearLead = 0.6

    /// `exact`: topics whose slug or alias is a word of the text; `hits`: full-text hits, best first.
    public static func choose(exact: [TopicReference], hits: [TopicHit]) throws(DirectoryError) -> TopicReference {
        if exact.count == 1 { return exact[0] }
        if exact.count > 1 { throw .ambiguousTopic(exact) }
        guard let best = hits.first else { throw .unknownTopic(nil) }
        let close = hits.filter { $0.score <= best.score * clearLead }
        if close.count == 1 { return best.topic }
        throw .ambiguousTopic(Array(close.prefix(5).map(\.topic)))
    }
}
