import Foundation
import PostgresNIO
import SkillRelayDomain

extension PostgresDirectoryStore {
    public func topics(matching query: String?, limit: Int, offset: Int) async throws -> TopicPage {
        try await database.reading { db in
            guard let query, !query.trimmingWhitespace().isEmpty else {
                let total = try await db.value("SELECT count(*) FROM topic", Int.self) ?? 0
                let ids = try await db.values("SELECT id FROM topic ORDER BY slug COLLATE \"C\" LIMIT \(limit) OFFSET \(offset)", Int64.self)
                return TopicPage(topics: try await Self.topics(db, ids: ids), total: total)
            }
            guard let words = Self.searchWords(query) else { return TopicPage(topics: [], total: 0) }
            let (ids, total) = try await Self.searchPage(db, words: words, limit: limit, offset: offset)
            return TopicPage(topics: try await Self.topics(db, ids: ids), total: total)
        }
    }

    public func topicPage(matching query: String?, page: PageRequest) async throws -> ListPage<Topic> {
        try await database.reading { db in
            let after = page.after?.keys[0] ?? ""
            let found: [(id: Int64, slug: String)]
            if let query, !query.trimmingWhitespace().isEmpty {
                guard let words = Self.searchWords(query) else { return ListPage(items: [], next: nil) }
                var sql = DynamicSQL()
                let match = Self.searchQuery(&sql, words: words)
                let afterSlug = sql.bind(after)
                let count = sql.bind(page.limit + 1)
                sql.append(
                    """
                    SELECT id, slug FROM topic WHERE slug COLLATE "C" > \(afterSlug) AND search @@ \(match)
                    ORDER BY slug COLLATE "C" LIMIT \(count)
                    """)
                found = try await db.rows(sql.query) { try $0.decode((Int64, String).self) }
            } else {
                found = try await db.rows(
                    "SELECT id, slug FROM topic WHERE slug COLLATE \"C\" > \(after) ORDER BY slug COLLATE \"C\" LIMIT \(page.limit + 1)"
                ) { try $0.decode((Int64, String).self) }
            }
            let shown = ListPage(rows: found, limit: page.limit, list: .topics) { [$0.slug] }
            return ListPage(items: try await Self.topics(db, ids: shown.items.map { $0.id }), next: shown.next)
        }
    }

    public func topic(_ slugOrAlias: String) async throws -> TopicDetail {
        try await database.reading { db in
            try await Self.topicDetail(db, record: try await Self.topicRow(db, slugOrAlias: slugOrAlias))
        }
    }

    public func createTopic(_ topic: Topic, by caller: Caller) async throws -> TopicDetail {
        try DirectoryPolicy.authorize(caller, to: .editTopics)
        let topic = try topic.validated()
        return try await database.writing { db in
            if try await Self.isTopicNameTaken(db, topic.slug) { throw DirectoryError.slugTaken(topic.slug) }
            var parentID: Int64?
            if let parentSlug = topic.parentSlug { parentID = try await Self.parentRow(db, slug: parentSlug).id }
            let now = clock.now()
            guard
                let id = try await db.value(
                    """
                    INSERT INTO topic (slug, name, description, parentId, createdAt, updatedAt)
                    VALUES (\(topic.slug), \(topic.name), \(topic.description), \(parentID), \(now), \(now))
                    RETURNING id
                    """, Int64.self)
            else { throw DirectoryError.topicNotFound(topic.slug) }
            for alias in topic.aliases {
                if try await Self.isTopicNameTaken(db, alias) { throw DirectoryError.aliasTaken(alias) }
                try await db.execute("INSERT INTO topicAlias (alias, topicId) VALUES (\(alias), \(id))")
            }
            guard let record = try await Self.topicRow(db, id: id) else { throw DirectoryError.topicNotFound(topic.slug) }
            let detail = try await Self.topicDetail(db, record: record)
            try await audit(db, by: caller, entity: "topic", key: topic.slug, action: "create", before: nil, after: Self.snapshot(detail.topic))
            return detail
        }
    }

    public func updateTopic(_ slugOrAlias: String, with patch: TopicPatch, by caller: Caller) async throws -> TopicDetail {
        try DirectoryPolicy.authorize(caller, to: .editTopics)
        return try await database.writing { db in
            var record = try await Self.topicRow(db, slugOrAlias: slugOrAlias)
            let before = try await Self.topicDetail(db, record: record).topic
            let updated = try before.applying(patch).validated()
            if let newParent = patch.parentSlug {
                if let slug = newParent {
                    let parent = try await Self.parentRow(db, slug: slug)
                    if try await Self.topicAncestry(db, startingAt: parent.id).contains(record.id) { throw DirectoryError.topicCycle(record.slug) }
                    record.parentId = parent.id
                } else {
                    record.parentId = nil
                }
            }
            record.name = updated.name
            record.description = updated.description
            try await db.execute(
                """
                UPDATE topic SET name = \(record.name), description = \(record.description), parentId = \(record.parentId), updatedAt = \(clock.now())
                WHERE id = \(record.id)
                """)
            let detail = try await Self.topicDetail(db, record: record)
            try await audit(
                db, by: caller, entity: "topic", key: record.slug, action: "update", before: Self.snapshot(before), after: Self.snapshot(detail.topic)
            )
            return detail
        }
    }

    public func addAlias(_ alias: String, to slugOrAlias: String, by caller: Caller) async throws -> TopicDetail {
        try DirectoryPolicy.authorize(caller, to: .editTopics)
        let alias = alias.lowercased()
        try DirectoryValidation.checkAlias(alias)
        return try await database.writing { db in
            let record = try await Self.topicRow(db, slugOrAlias: slugOrAlias)
            if try await Self.isTopicNameTaken(db, alias) { throw DirectoryError.aliasTaken(alias) }
            try await db.execute("INSERT INTO topicAlias (alias, topicId) VALUES (\(alias), \(record.id))")
            try await audit(db, by: caller, entity: "topic", key: record.slug, action: "add-alias", before: nil, after: ["alias": alias])
            return try await Self.topicDetail(db, record: record)
        }
    }

    public func removeAlias(_ alias: String, from slugOrAlias: String, by caller: Caller) async throws -> TopicDetail {
        try DirectoryPolicy.authorize(caller, to: .editTopics)
        let alias = alias.lowercased()
        return try await database.writing { db in
            let record = try await Self.topicRow(db, slugOrAlias: slugOrAlias)
            let removed = try await db.changes("DELETE FROM topicAlias WHERE alias = \(alias) AND topicId = \(record.id) RETURNING 1")
            guard removed == 1 else { throw DirectoryError.aliasNotFound(alias: alias, topic: record.slug) }
            try await audit(db, by: caller, entity: "topic", key: record.slug, action: "remove-alias", before: ["alias": alias], after: nil)
            return try await Self.topicDetail(db, record: record)
        }
    }

    public func specialists(for slugOrAlias: String, minimumLevel: Int, limit: Int) async throws -> [Specialist] {
        let query = SpecialistsStatement(slugOrAlias: slugOrAlias.lowercased(), minimumLevel: minimumLevel, limit: limit)
        let specialists = try await database.readingOneStatement { db in
            var found: [Specialist] = []
            for try await specialist in try await db.connection.execute(query, logger: db.logger) { found.append(specialist) }
            return found
        }
        // Nobody found: an unknown topic is an error, not an empty list.
        if specialists.isEmpty { _ = try await database.readingOneStatement { db in try await Self.topicRow(db, slugOrAlias: slugOrAlias) } }
        return specialists
    }

    // MARK: - Reading topics

    /// The topic to become a parent, or `unknownParent`.
    static func parentRow(_ db: PostgresStatements, slug: String) async throws -> TopicRow {
        do {
            return try await topicRow(db, slugOrAlias: slug)
        } catch DirectoryError.topicNotFound {
            throw DirectoryError.unknownParent(slug)
        }
    }

    /// Topics by id, in the order given, with their parents' slugs and their aliases.
    static func topics(_ db: PostgresStatements, ids: [Int64]) async throws -> [Topic] {
        guard !ids.isEmpty else { return [] }
        let rows = try await db.rows(
            """
            SELECT topic.id, topic.slug, topic.name, topic.description, parent.slug
            FROM topic LEFT JOIN topic AS parent ON parent.id = topic.parentId
            WHERE topic.id = ANY(\(ids)::bigint[])
            """
        ) { try $0.decode((Int64, String, String, String, String?).self) }
        let aliasRows = try await db.rows(
            "SELECT topicId, alias FROM topicAlias WHERE topicId = ANY(\(ids)::bigint[]) ORDER BY alias COLLATE \"C\""
        ) { try $0.decode((Int64, String).self) }
        let aliases = Dictionary(grouping: aliasRows, by: { $0.0 })
        var byID: [Int64: Topic] = [:]
        for (id, slug, name, description, parentSlug) in rows {
            byID[id] = Topic(
                slug: slug, name: name, description: description, parentSlug: parentSlug, aliases: aliases[id, default: []].map { $0.1 })
        }
        return ids.compactMap { byID[$0] }
    }

    /// A topic with its parent, children and specialist count.
    static func topicDetail(_ db: PostgresStatements, record: TopicRow) async throws -> TopicDetail {
        let id = record.id
        guard let topic = try await topics(db, ids: [id]).first else { throw DirectoryError.topicNotFound(record.slug) }
        var parent: TopicReference?
        if let parentID = record.parentId, let row = try await topicRow(db, id: parentID) { parent = TopicReference(slug: row.slug, name: row.name) }
        let children = try await db.rows("SELECT slug, name FROM topic WHERE parentId = \(id) ORDER BY slug COLLATE \"C\"") { row in
            let (slug, name) = try row.decode((String, String).self)
            return TopicReference(slug: slug, name: name)
        }
        let count =
            try await db.value(
                """
                WITH RECURSIVE subtree(id) AS (
                    SELECT \(id)::bigint UNION SELECT topic.id FROM topic JOIN subtree ON topic.parentId = subtree.id
                )
                SELECT count(DISTINCT skill.employeeId) FROM skill JOIN employee ON employee.id = skill.employeeId
                WHERE skill.topicId IN (SELECT id FROM subtree) AND employee.isActive
                """, Int.self) ?? 0
        return TopicDetail(topic: topic, parent: parent, children: children, specialistCount: count)
    }

    static func snapshot(_ topic: Topic) -> [String: String] {
        [
            "slug": topic.slug, "name": topic.name, "description": topic.description, "parent": topic.parentSlug ?? "",
            "aliases": topic.aliases.joined(separator: ";"),
        ]
    }
}

/// The directory's specialists (figure 2): `topicSpecialists`, SQLite's `specialistsSQL` shaped for PostgreSQL's planner
/// (migration "pg v9"), which plans it once a session. Prepared once per connection, so a query is a bind and an
/// execute, not a parse. The function returns its rows in the order it found them, which `SpecialistQueryTests` pins.
struct SpecialistsStatement: PostgresPreparedStatement {
    typealias Row = Specialist
    static let name = "skillrelay_specialists_v4"
    static let sql = "SELECT foundHandle, foundLevel FROM topicSpecialists($1, $2, $3)"
    static let bindingDataTypes: [PostgresDataType] = [.text, .int4, .int8]

    var slugOrAlias: String
    var minimumLevel: Int
    var limit: Int

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(slugOrAlias)
        bindings.append(Int32(clamping: minimumLevel))
        bindings.append(Int64(limit))
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Specialist {
        let (handle, level) = try row.decode((String, Int).self)
        return Specialist(handle: handle, level: level)
    }
}
