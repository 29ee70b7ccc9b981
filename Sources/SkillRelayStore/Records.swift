import Foundation
import GRDB

// One record type per table, each mirroring its columns. Domain models are built from them in the store.

/// A row of `employee`.
struct EmployeeRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "employee"
    var id: Int64?
    var handle: String
    var name: String
    var email: String
    var imId: String?
    var managerId: Int64?
    var isAdmin: Bool
    var isActive: Bool
    var timeZone: String?
    var workingHours: String?
    var createdAt: Date
    var updatedAt: Date

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let handle = Column(CodingKeys.handle)
        static let imId = Column(CodingKeys.imId)
        static let managerId = Column(CodingKeys.managerId)
        static let isAdmin = Column(CodingKeys.isAdmin)
        static let isActive = Column(CodingKeys.isActive)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A row of `topic`.
struct TopicRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "topic"
    var id: Int64?
    var slug: String
    var name: String
    var description: String
    var parentId: Int64?
    var createdAt: Date
    var updatedAt: Date

    enum Columns {
        static let id = Column(CodingKeys.id)
        static let slug = Column(CodingKeys.slug)
        static let parentId = Column(CodingKeys.parentId)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A row of `topicAlias`.
struct TopicAliasRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "topicAlias"
    var alias: String
    var topicId: Int64

    enum Columns {
        static let alias = Column(CodingKeys.alias)
        static let topicId = Column(CodingKeys.topicId)
    }
}

/// A row of `skill`.
struct SkillRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "skill"
    var employeeId: Int64
    var topicId: Int64
    var level: Int
    var source: String
    var taggedById: Int64?
    var taggedAt: Date

    enum Columns {
        static let employeeId = Column(CodingKeys.employeeId)
        static let topicId = Column(CodingKeys.topicId)
    }
}

/// A row of `apiToken`.
struct APITokenRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "apiToken"
    var id: Int64?
    var publicId: String
    var secretHash: Data
    var employeeId: Int64?
    var botName: String?
    var createdAt: Date
    var revokedAt: Date?
    var lastUsedAt: Date?

    enum Columns {
        static let publicId = Column(CodingKeys.publicId)
        static let createdAt = Column(CodingKeys.createdAt)
    }

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}

/// A row of `auditEntry`: who changed what, from what to what.
struct AuditRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "auditEntry"
    var id: Int64?
    var at: Date
    var actor: String
    var entity: String
    var entityKey: String
    var action: String
    var before: String?
    var after: String?

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
