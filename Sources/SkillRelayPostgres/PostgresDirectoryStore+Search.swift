import Foundation
import PostgresNIO
import SkillRelayDomain

// Topic search as SQLite's FTS5 does it: every word of the query must begin a word of the topic (its slug, name,
// aliases or description), and the topics found are ranked by BM25 with FTS5's column weights (10, 10, 8, 1), its
// constants (k1 = 1.2, b = 0.75) and its IDF, computed here from the `search` tsvectors of migration "pg v2 directory
// search" so that both stores rank alike and the ambiguity rules (`TopicResolution`) see the same scores.
extension PostgresDirectoryStore {
    /// The words of what a person typed, as SQLite's store splits them for FTS5 (at most 16); `nil` for none.
    static func searchWords(_ text: String) -> [String]? {
        let words = text.lowercased().split { !($0.isLetter || $0.isNumber) }.prefix(16).map(String.init)
        return words.isEmpty ? nil : words
    }

    /// Binds `words` and returns the SQL of a tsquery matching every one as a prefix (FTS5's `"a"* "b"*`), or with
    /// `any`, any one as a whole word (`"a" OR "b"`), folded as `searchFold` folds the indexed text (NULL, which
    /// matches nothing, when no word is left).
    static func searchQuery(_ sql: inout DynamicSQL, words: [String], any: Bool = false) -> String {
        let bound = sql.bind(words)
        let (suffix, joiner) = any ? ("", " | ") : (":*", " & ")
        return """
            (SELECT string_agg(quote_literal(word) || '\(suffix)', '\(joiner)')::tsquery
             FROM (SELECT trim(searchFold(raw)) AS word FROM unnest(\(bound)::text[]) AS raw) AS folded WHERE word <> '')
            """
    }

    /// The topics the words of a question's text find, any of them as a whole word, best first: what
    /// `TopicResolution.choose` weighs, with FTS5's scores (SQLiteQuestionStore's `topicMatches`).
    static func topicHits(_ db: PostgresStatements, words: [String], limit: Int = 8) async throws -> [TopicHit] {
        try await searchTopics(db, words: words, any: true, limit: limit, offset: 0).map {
            TopicHit(topic: TopicReference(slug: $0.slug, name: $0.name), score: $0.score)
        }
    }

    /// How many topics the query finds.
    static func searchCount(_ db: PostgresStatements, words: [String]) async throws -> Int {
        var sql = DynamicSQL()
        let match = searchQuery(&sql, words: words)
        sql.append("SELECT count(*) FROM topic WHERE search @@ \(match)")
        return try await db.value(sql.query, Int.self) ?? 0
    }

    /// A page of the topics the query finds, best first, and how many it finds in all: one statement, and a count of
    /// its own only for a page past the last.
    static func searchPage(_ db: PostgresStatements, words: [String], limit: Int, offset: Int) async throws -> (ids: [Int64], total: Int) {
        let found = try await searchTopics(db, words: words, limit: limit, offset: offset)
        guard let total = found.first?.total else { return ([], offset == 0 ? 0 : try await searchCount(db, words: words)) }
        return (found.map(\.id), total)
    }

    /// The topics the query finds (`searchQuery`), best first (FTS5's `bm25(topicSearch, 10.0, 10.0, 8.0, 1.0)`: more
    /// negative is better), then by slug, each with how many it finds in all (`total`).
    ///
    /// The corpus's size comes from each topic's `searchSize` (migration "pg v12"), and each word's count of topics
    /// from the `search` index; the words are folded once (`phrase` is materialized: inlined, PostgreSQL folded them
    /// again for every topic found).
    static func searchTopics(_ db: PostgresStatements, words: [String], any: Bool = false, limit: Int, offset: Int) async throws -> [(
        id: Int64, slug: String, name: String, score: Double, total: Int
    )] {
        var sql = DynamicSQL()
        let match = searchQuery(&sql, words: words, any: any)
        let wordList = sql.bind(words)
        // A word's hits: the words it begins (a prefix query), or the word itself.
        let phraseQuery = any ? "quote_literal(phrase.word)" : "quote_literal(phrase.word) || ':*'"
        let phraseHit = any ? "lexeme.lexeme = idf.word" : "starts_with(lexeme.lexeme, idf.word)"
        let count = sql.bind(limit)
        let skip = sql.bind(offset)
        sql.append(
            """
            WITH phrase AS MATERIALIZED (
                SELECT ord, trim(searchFold(raw)) AS word FROM unnest(\(wordList)::text[]) WITH ORDINALITY AS given(raw, ord)
            ),
            corpus AS (
                SELECT count(*)::float8 AS rows, coalesce(sum(searchSize), 0) AS tokens FROM topic
            ),
            found AS (
                SELECT id, slug, name, search, searchSize AS size FROM topic WHERE search @@ \(match)
            ),
            idf AS (
                SELECT phrase.ord, phrase.word,
                    CASE WHEN ln((corpus.rows - hits.n + 0.5) / (hits.n + 0.5)) <= 0 THEN 1e-6
                        ELSE ln((corpus.rows - hits.n + 0.5) / (hits.n + 0.5)) END AS idf
                FROM phrase CROSS JOIN corpus
                CROSS JOIN LATERAL (
                    SELECT count(*)::float8 AS n FROM topic
                    WHERE phrase.word <> '' AND topic.search @@ (\(phraseQuery))::tsquery
                ) AS hits
            ),
            scored AS (
                SELECT found.id, found.slug, found.name, -sum(
                    idf.idf * frequency.f * 2.2 / (frequency.f + 1.2 * (0.25 + 0.75 * found.size / (corpus.tokens / corpus.rows)))
                ) AS score
                FROM found CROSS JOIN idf CROSS JOIN corpus
                CROSS JOIN LATERAL (
                    SELECT coalesce(sum(CASE weight WHEN 'A' THEN 10.0 WHEN 'B' THEN 8.0 ELSE 1.0 END), 0)::float8 AS f
                    FROM unnest(found.search) AS lexeme, unnest(lexeme.weights) AS weight
                    WHERE idf.word <> '' AND \(phraseHit)
                ) AS frequency
                GROUP BY found.id, found.slug, found.name
            )
            SELECT id, slug, name, score, count(*) OVER () FROM scored ORDER BY score, slug COLLATE "C" LIMIT \(count) OFFSET \(skip)
            """)
        return try await db.rows(sql.query) { row in
            let (id, slug, name, score, total) = try row.decode((Int64, String, String, Double, Int).self)
            return (id, slug, name, score, total)
        }
    }
}
