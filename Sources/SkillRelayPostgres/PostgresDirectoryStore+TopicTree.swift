import Foundation
import PostgresNIO
import SkillRelayDomain

extension PostgresDirectoryStore: TopicTreeStore {
    public func topicBranch(under slugOrAlias: String?, matching query: String?, limit: Int, offset: Int) async throws -> TopicBranch {
        let limit = max(1, min(limit, 100))
        let offset = max(0, offset)
        return try await database.reading { db in
            if let query, !query.trimmingWhitespace().isEmpty {
                guard let words = Self.searchWords(query) else { return TopicBranch(path: [], topics: [], total: 0) }
                let (ids, total) = try await Self.searchPage(db, words: words, limit: limit, offset: offset)
                return TopicBranch(path: [], topics: try await Self.topicNodes(db, ids: ids), total: total)
            }
            var parent: TopicRow?
            if let slugOrAlias { parent = try await Self.topicRow(db, slugOrAlias: slugOrAlias) }
            var path: [TopicReference] = []
            for id in try await Self.topicAncestry(db, startingAt: parent?.id).reversed() {
                if let row = try await Self.topicRow(db, id: id) { path.append(TopicReference(slug: row.slug, name: row.name)) }
            }
            let parentID = parent?.id
            let total = try await db.value("SELECT count(*) FROM topic WHERE parentId IS NOT DISTINCT FROM \(parentID)", Int.self) ?? 0
            let ids = try await db.values(
                """
                SELECT id FROM topic WHERE parentId IS NOT DISTINCT FROM \(parentID)
                ORDER BY name COLLATE "C", slug COLLATE "C" LIMIT \(limit) OFFSET \(offset)
                """, Int64.self)
            return TopicBranch(path: path, topics: try await Self.topicNodes(db, ids: ids), total: total)
        }
    }

    /// Topics in the order of `ids`, each with how many children it has.
    static func topicNodes(_ db: PostgresStatements, ids: [Int64]) async throws -> [TopicNode] {
        let topics = try await Self.topics(db, ids: ids)
        var children: [Int64: Int] = [:]
        for (id, count) in try await db.rows(
            "SELECT parentId, count(*) FROM topic WHERE parentId = ANY(\(ids)::bigint[]) GROUP BY parentId", { try $0.decode((Int64, Int).self) })
        {
            children[id] = count
        }
        return zip(ids, topics).map { id, topic in TopicNode(topic: topic, childCount: children[id] ?? 0) }
    }
}
