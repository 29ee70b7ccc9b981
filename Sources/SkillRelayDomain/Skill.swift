import Foundation

/// Who vouched for a skill.
public enum SkillSource: String, Sendable, Equatable, CaseIterable {
    /// Tagged by a manager above the employee, or an admin.
    case manager
    /// Declared by the employee themselves.
    case selfDeclared = "self"
    /// Loaded by an import.
    case imported = "import"
}

/// One employee's level in one topic.
public struct Skill: Sendable, Equatable {
    public var topic: TopicReference
    public var level: Int
    public var source: SkillSource
    /// The handle of whoever tagged it; `nil` for an import.
    public var taggedBy: String?
    public var taggedAt: Date

    public init(topic: TopicReference, level: Int, source: SkillSource, taggedBy: String?, taggedAt: Date) {
        self.topic = topic
        self.level = level
        self.source = source
        self.taggedBy = taggedBy
        self.taggedAt = taggedAt
    }
}

/// A specialist found for a topic: who, and their best level in it or a subtopic.
public struct Specialist: Sendable, Equatable {
    public var handle: String
    public var level: Int

    public init(handle: String, level: Int) {
        self.handle = handle
        self.level = level
    }
}
