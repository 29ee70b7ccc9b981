import Foundation
import GRDB
import SkillRelayDomain

extension SQLiteDirectoryStore {
    public func topics(matching query: String?, limit: Int, offset: Int) async throws -> TopicPage {
        try await database.read { db in
            guard let query, !query.trimmingWhitespace().isEmpty else {
                let total = try TopicRecord.fetchCount(db)
                let ids = try Int64.fetchAll(db, sql: "SELECT id FROM topic ORDER BY slug LIMIT ? OFFSET ?", arguments: [limit, offset])
                return TopicPage(topics: try Self.topics(db, ids: ids), total: total)
            }
            guard let match = Self.ftsQuery(query) else { return TopicPage(topics: [], total: 0) }
            let total = try Int.fetchOne(db, sql: "SELECT count(*) FROM topicSearch WHERE topicSearch MATCH ?", arguments: [match]) ?? 0
            // Weights: a hit in the slug or name counts most, then aliases, then the description.
            let ids = try Int64.fetchAll(
                db,
                sql: """
                    SELECT rowid FROM topicSearch WHERE topicSearch MATCH ?
                    ORDER BY bm25(topicSearch, 10.0, 10.0, 8.0, 1.0), slug LIMIT ? OFFSET ?
                    """, arguments: [match, limit, offset])
            return TopicPage(topics: try Self.topics(db, ids: ids), total: total)
        }
    }

    public func topicPage(matching query: String?, page: PageRequest) async throws -> ListPage<Topic> {
        try await database.read { db in
            let after = page.after?.keys[0] ?? ""
            let ids: [(id: Int64, slug: String)]
            if let query, !query.trimmingWhitespace().isEmpty {
                guard let match = Self.ftsQuery(query) else { return ListPage(items: [], next: nil) }
                ids = try Row.fetchAll(db, sql: Self.topicPageMatchingSQL, arguments: [after, match, page.limit + 1]).map { ($0[0], $0[1]) }
            } else {
                ids = try Row.fetchAll(db, sql: Self.topicPageSQL, arguments: [after, page.limit + 1]).map { ($0[0], $0[1]) }
            }
            let shown = ListPage(rows: ids, limit: page.limit, list: .topics) { [$0.slug] }
            return ListPage(items: try Self.topics(db, ids: shown.items.map { $0.id }), next: shown.next)
        }
    }

    /// Topics after slug ?1, ?2 at most: a range of the slug's unique index.
    package static let topicPageSQL = "SELECT id, slug FROM topic WHERE slug > ?1 ORDER BY slug LIMIT ?2"
    /// The same, of the topics full-text query ?2 finds: the slug index walked in order, each row checked against the
    /// matches (all topics at worst, a few thousand: the topic tree, not the people). The `+` keeps SQLite from reading
    /// the matches by id and sorting them all instead.
    package static let topicPageMatchingSQL = """
        SELECT id, slug FROM topic
        WHERE slug > ?1 AND +id IN (SELECT rowid FROM topicSearch WHERE topicSearch MATCH ?2)
        ORDER BY slug LIMIT ?3
        """

    public func topic(_ slugOrAlias: String) async throws -> TopicDetail {
        try await database.read { db in
            try Self.topicDetail(db, record: try Self.topicRecord(db, slugOrAlias: slugOrAlias))
        }
    }

    public func createTopic(_ topic: Topic, by caller: Caller) async throws -> TopicDetail {
        try DirectoryPolicy.authorize(caller, to: .editTopics)
        let topic = try topic.validated()
        return try await database.write { db in
            if try Self.isTopicNameTaken(db, topic.slug) { throw DirectoryError.slugTaken(topic.slug) }
            let parentID = try topic.parentSlug.map { try Self.parentRecord(db, slug: $0).id! }
            let now = clock.now()
            var record = TopicRecord(
                slug: topic.slug, name: topic.name, description: topic.description, parentId: parentID, createdAt: now,
                updatedAt: now)
            try record.insert(db)
            for alias in topic.aliases {
                if try Self.isTopicNameTaken(db, alias) { throw DirectoryError.aliasTaken(alias) }
                try TopicAliasRecord(alias: alias, topicId: record.id!).insert(db)
            }
            let detail = try Self.topicDetail(db, record: record)
            try audit(db, by: caller, entity: "topic", key: topic.slug, action: "create", before: nil, after: Self.snapshot(detail.topic))
            return detail
        }
    }

    public func updateTopic(_ slugOrAlias: String, with patch: TopicPatch, by caller: Caller) async throws -> TopicDetail {
        try DirectoryPolicy.authorize(caller, to: .editTopics)
        return try await database.write { db in
            var record = try Self.topicRecord(db, slugOrAlias: slugOrAlias)
            let before = try Self.topicDetail(db, record: record).topic
            let updated = try before.applying(patch).validated()
            if let newParent = patch.parentSlug {
                if let slug = newParent {
                    let parent = try Self.parentRecord(db, slug: slug)
                    if try Self.topicAncestry(db, startingAt: parent.id).contains(record.id!) { throw DirectoryError.topicCycle(record.slug) }
                    record.parentId = parent.id
                } else {
                    record.parentId = nil
                }
            }
            record.name = updated.name
            record.description = updated.description
            record.updatedAt = clock.now()
            try record.update(db)
            let detail = try Self.topicDetail(db, record: record)
            try audit(
                db, by: caller, entity: "topic", key: record.slug, action: "update", before: Self.snapshot(before), after: Self.snapshot(detail.topic)
            )
            return detail
        }
    }

    public func addAlias(_ alias: String, to slugOrAlias: String, by caller: Caller) async throws -> TopicDetail {
        try DirectoryPolicy.authorize(caller, to: .editTopics)
        let alias = alias.lowercased()
        try DirectoryValidation.checkAlias(alias)
        return try await database.write { db in
            let record = try Self.topicRecord(db, slugOrAlias: slugOrAlias)
            if try Self.isTopicNameTaken(db, alias) { throw DirectoryError.aliasTaken(alias) }
            try TopicAliasRecord(alias: alias, topicId: record.id!).insert(db)
            try audit(db, by: caller, entity: "topic", key: record.slug, action: "add-alias", before: nil, after: ["alias": alias])
            return try Self.topicDetail(db, record: record)
        }
    }

    public func removeAlias(_ alias: String, from slugOrAlias: String, by caller: Caller) async throws -> TopicDetail {
        try DirectoryPolicy.authorize(caller, to: .editTopics)
        let alias = alias.lowercased()
        return try await database.write { db in
            let record = try Self.topicRecord(db, slugOrAlias: slugOrAlias)
            let removed =
                try TopicAliasRecord
                .filter(TopicAliasRecord.Columns.alias == alias && TopicAliasRecord.Columns.topicId == record.id!)
                .deleteAll(db)
            guard removed == 1 else { throw DirectoryError.aliasNotFound(alias: alias, topic: record.slug) }
            try audit(db, by: caller, entity: "topic", key: record.slug, action: "remove-alias", before: ["alias": alias], after: nil)
            return try Self.topicDetail(db, record: record)
        }
    }

    public func specialists(for slugOrAlias: String, minimumLevel: Int, limit: Int) async throws -> [Specialist] {
        // One statement through a cached statement, read blocking: GRDB's async read costs more in hand-offs than the
        // query, and a transaction around a single statement adds nothing.
        let specialists = try database.blockingSingleStatementRead { db in
            try Array(
                Row.fetchCursor(db.cachedStatement(sql: Self.specialistsSQL), arguments: [slugOrAlias.lowercased(), minimumLevel, limit]).map {
                    Specialist(handle: $0[0], level: $0[1])
                })
        }
        // Nobody found: an unknown topic is an error, not an empty list.
        if specialists.isEmpty { _ = try database.blockingRead { db in try Self.topicRecord(db, slugOrAlias: slugOrAlias) } }
        return specialists
    }

    /// Who has the topic with slug or alias ?1 (lowercase), or a subtopic, at level ?2 or above, at most ?3: each person
    /// once, at their best level in the subtree, best level first and by handle within a level.
    ///
    /// One arm per level, from the top down. An arm reads only its level's skills from the `skillByTopicLevel` index,
    /// leaves out whoever holds a higher level in the subtree (an earlier arm's people) and sorts what is left by handle.
    /// The statement stops as soon as ?3 rows are out, so a topic with enough people at its top level never reads its
    /// lower levels, nor looks up the people there. (Aggregating every skill at ?2 or above first, then sorting, read and
    /// looked up about three times as many rows on a topic with thousands of people.) There is no ORDER BY over the
    /// whole: the arms' rows come out one arm after another, in the arms' order, which `SpecialistQueryTests` pins.
    package static let specialistsSQL: String = {
        let arms = DirectoryValidation.levels.reversed().map { level in
            """
            SELECT * FROM (
                SELECT employee.handle AS handle, \(level) AS level
                FROM (SELECT DISTINCT employeeId FROM skill WHERE topicId IN subtree AND level = \(level)) AS found
                JOIN employee ON employee.id = found.employeeId
                WHERE \(level) >= ?2 AND employee.isActive
                    AND found.employeeId NOT IN (SELECT employeeId FROM skill WHERE topicId IN subtree AND level > \(level))
                ORDER BY employee.handle
                LIMIT ?3
            )
            """
        }
        return """
            WITH RECURSIVE subtree(id) AS (
                SELECT id FROM topic WHERE slug = ?1
                UNION
                SELECT topicId FROM topicAlias WHERE alias = ?1
                UNION
                SELECT topic.id FROM topic JOIN subtree ON topic.parentId = subtree.id
            )
            \(arms.joined(separator: "\nUNION ALL\n"))
            LIMIT ?3
            """
    }()

    // MARK: - Reading topics

    /// The topic to become a parent, or `unknownParent`.
    static func parentRecord(_ db: Database, slug: String) throws -> TopicRecord {
        do {
            return try topicRecord(db, slugOrAlias: slug)
        } catch DirectoryError.topicNotFound {
            throw DirectoryError.unknownParent(slug)
        }
    }

    /// Topics by id, in the order given, with their parents' slugs and their aliases.
    static func topics(_ db: Database, ids: [Int64]) throws -> [Topic] {
        guard !ids.isEmpty else { return [] }
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT topic.id, topic.slug, topic.name, topic.description, parent.slug AS parentSlug
                FROM topic LEFT JOIN topic AS parent ON parent.id = topic.parentId
                WHERE topic.id IN (\(databaseQuestionMarks(count: ids.count)))
                """, arguments: StatementArguments(ids))
        let aliasRows = try TopicAliasRecord.filter(ids.contains(TopicAliasRecord.Columns.topicId)).order(TopicAliasRecord.Columns.alias)
            .fetchAll(db)
        let aliases = Dictionary(grouping: aliasRows, by: \.topicId)
        var byID: [Int64: Topic] = [:]
        for row in rows {
            let id: Int64 = row["id"]
            byID[id] = Topic(
                slug: row["slug"], name: row["name"], description: row["description"], parentSlug: row["parentSlug"],
                aliases: aliases[id, default: []].map(\.alias))
        }
        return ids.compactMap { byID[$0] }
    }

    /// A topic with its parent, children and specialist count.
    static func topicDetail(_ db: Database, record: TopicRecord) throws -> TopicDetail {
        let id = record.id!
        let topic = try topics(db, ids: [id])[0]
        let parent = try record.parentId.flatMap { try TopicRecord.fetchOne(db, key: $0) }.map { TopicReference(slug: $0.slug, name: $0.name) }
        let children = try TopicRecord.filter(TopicRecord.Columns.parentId == id).order(TopicRecord.Columns.slug).fetchAll(db)
            .map { TopicReference(slug: $0.slug, name: $0.name) }
        let count =
            try Int.fetchOne(
                db,
                sql: """
                    WITH RECURSIVE subtree(id) AS (
                        SELECT ? UNION SELECT topic.id FROM topic JOIN subtree ON topic.parentId = subtree.id
                    )
                    SELECT count(DISTINCT skill.employeeId) FROM skill JOIN employee ON employee.id = skill.employeeId
                    WHERE skill.topicId IN subtree AND employee.isActive
                    """, arguments: [id]) ?? 0
        return TopicDetail(topic: topic, parent: parent, children: children, specialistCount: count)
    }

    /// Turns what a person typed into an FTS5 query: every word must match, as a prefix, so "kube" finds Kubernetes.
    static func ftsQuery(_ text: String) -> String? {
        let words = text.lowercased().split { !($0.isLetter || $0.isNumber) }.prefix(16)
        guard !words.isEmpty else { return nil }
        return words.map { "\"\($0)\"*" }.joined(separator: " ")
    }

    static func snapshot(_ topic: Topic) -> [String: String] {
        [
            "slug": topic.slug, "name": topic.name, "description": topic.description, "parent": topic.parentSlug ?? "",
            "aliases": topic.aliases.joined(separator: ";"),
        ]
    }
}
