import Foundation
import GRDB
import SkillRelayDomain

extension SQLiteDirectoryStore: TopicTreeStore {
    public func topicBranch(under slugOrAlias: String?, matching query: String?, limit: Int, offset: Int) async throws -> TopicBranch {
        let limit = max(1, min(limit, 100))
        let offset = max(0, offset)
        return try await database.read { db in
            if let query, !query.trimmingWhitespace().isEmpty {
                guard let match = Self.ftsQuery(query) else { return TopicBranch(path: [], topics: [], total: 0) }
                let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM topicSearch WHERE topicSearch MATCH ?", arguments: [match]) ?? 0
                let ids = try Int64.fetchAll(
                    db,
                    sql: """
                        SELECT rowid FROM topicSearch WHERE topicSearch MATCH ?
                        ORDER BY bm25(topicSearch, 10.0, 10.0, 8.0, 1.0), slug LIMIT ? OFFSET ?
                        """, arguments: [match, limit, offset])
                return TopicBranch(path: [], topics: try Self.topicNodes(db, ids: ids), total: total)
            }
            let parent = try slugOrAlias.map { try Self.topicRecord(db, slugOrAlias: $0) }
            let path = try Self.topicAncestry(db, startingAt: parent?.id).reversed().compactMap { id in
                try TopicRecord.fetchOne(db, key: id).map { TopicReference(slug: $0.slug, name: $0.name) }
            }
            let children = TopicRecord.filter(TopicRecord.Columns.parentId == parent?.id)
            let total = try children.fetchCount(db)
            let ids = try Int64.fetchAll(
                db, sql: "SELECT id FROM topic WHERE parentId IS ? ORDER BY name, slug LIMIT ? OFFSET ?", arguments: [parent?.id, limit, offset])
            return TopicBranch(path: path, topics: try Self.topicNodes(db, ids: ids), total: total)
        }
    }

    /// Topics in the order of `ids`, each with how many children it has.
    static func topicNodes(_ db: Database, ids: [Int64]) throws -> [TopicNode] {
        let topics = try Self.topics(db, ids: ids)
        let count = try db.cachedStatement(sql: "SELECT count(*) FROM topic WHERE parentId = ?")
        return try zip(ids, topics).map { id, topic in
            TopicNode(topic: topic, childCount: try Int.fetchOne(count, arguments: [id]) ?? 0)
        }
    }
}
