import Foundation
import GRDB
import SkillRelayDomain

// What an asker is told about who answered (see `AnswererLabel`): decided in the answer's transaction, stored with it.
extension SQLiteQuestionStore {
    /// The label for the answer to `delivery`: the people who could have received the question are everyone active
    /// tagged with its topic or a subtopic at the minimum level or above, but the asker (who knows it was not them),
    /// each at their best level there; the answerer counts at the level they were asked with.
    static func answererLabel(_ db: Database, question: QuestionRow, delivery: DeliveryRow, labeling: AnswerLabeling) throws -> AnswererLabel {
        let people = try peopleByBestLevel(
            db, topic: question.topic.slug, minimumLevel: labeling.minimumLevel, answerer: delivery.specialistId, asker: question.askerEmployeeId)
        var counts = people
        counts[delivery.level, default: 0] += 1
        return AnswererLabel.choose(topic: question.topic.slug, level: delivery.level, people: counts, k: labeling.k)
    }

    /// How many active people hold the topic (or a subtopic) at each best level, at `minimumLevel` or above, leaving
    /// out the answerer and the asker (a bot has no row: `nil`).
    static func peopleByBestLevel(_ db: Database, topic: String, minimumLevel: Int, answerer: Int64, asker: Int64?) throws -> [Int: Int] {
        guard let topics = try subtree(db, of: topic) else { return [:] }
        // Cached: the text differs only by the subtree's size, and the count runs for every relayed answer. A topic
        // without subtopics (most questions) holds each person once, so their level is their best: counted straight off
        // the `skillByTopicLevel` index, without grouping by person first.
        let people = """
            SELECT skill.employeeId AS employeeId, skill.level AS level FROM skill JOIN employee ON employee.id = skill.employeeId
            WHERE skill.topicId IN (\(databaseQuestionMarks(count: topics.count))) AND skill.level >= ? AND employee.isActive
                AND employee.id <> ? AND employee.id IS NOT ?
            """
        let sql =
            topics.count == 1
            ? "SELECT level AS best, count(*) AS people FROM (\(people)) GROUP BY level"
            : "SELECT best, count(*) AS people FROM (SELECT max(level) AS best FROM (\(people)) GROUP BY employeeId) GROUP BY best"
        let rows = try Row.fetchAll(db.cachedStatement(sql: sql), arguments: StatementArguments(topics) + [minimumLevel, answerer, asker])
        return Dictionary(uniqueKeysWithValues: rows.map { ($0["best"] as Int, $0["people"] as Int) })
    }

    /// Keeps a relayed answer's label.
    static func storeLabel(_ db: Database, _ label: AnswererLabel, answer id: Int64) throws {
        let kind = label.level != nil ? "level" : label.band != nil ? "band" : "none"
        try db.executeCached(
            sql: "UPDATE answer SET labelKind = ?, labelLevel = ?, labelBand = ? WHERE id = ?",
            arguments: [kind, label.level, label.band?.rawValue, id])
    }

    /// A stored answer's label: `labelKind`, `labelLevel` and `labelBand`, or for an answer relayed before labels, the
    /// exact level it was told with (the delivery's, in `level`).
    static func storedLabel(_ row: Row, topic: String) -> AnswererLabel {
        switch row["labelKind"] as String? {
        case "level": AnswererLabel(topic: topic, level: row["labelLevel"], band: nil)
        case "band": AnswererLabel(topic: topic, level: nil, band: (row["labelBand"] as String?).flatMap(LevelBand.init(rawValue:)))
        case "none": .specialist
        default: AnswererLabel(topic: topic, level: row["level"], band: nil)
        }
    }
}
