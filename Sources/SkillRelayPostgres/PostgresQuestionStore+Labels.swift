import Foundation
import PostgresNIO
import SkillRelayDomain

// What an asker is told about who answered (see `AnswererLabel`): decided in the answer's transaction, stored with it.
extension PostgresQuestionStore {
    /// The label for the answer to `delivery`: the people who could have received the question are everyone active
    /// tagged with its topic or a subtopic at the minimum level or above, but the asker (who knows it was not them),
    /// each at their best level there; the answerer counts at the level they were asked with.
    static func answererLabel(_ connection: PostgresConnection, question: QuestionRow, delivery: DeliveryRow, labeling: AnswerLabeling)
        async throws -> AnswererLabel
    {
        var counts = try await peopleByBestLevel(
            connection, topic: question.topic.slug, minimumLevel: labeling.minimumLevel, answerer: delivery.specialistId,
            asker: question.askerEmployeeId)
        counts[delivery.level, default: 0] += 1
        return AnswererLabel.choose(topic: question.topic.slug, level: delivery.level, people: counts, k: labeling.k)
    }

    /// How many active people hold the topic (or a subtopic) at each best level, at `minimumLevel` or above, leaving
    /// out the answerer and the asker (a bot has no row: `nil`).
    static func peopleByBestLevel(_ connection: PostgresConnection, topic: String, minimumLevel: Int, answerer: Int64, asker: Int64?) async throws
        -> [Int: Int]
    {
        guard let topics = try await subtree(connection, of: topic) else { return [:] }
        let found = try await rows(
            connection,
            """
            SELECT best, count(*) FROM (
                SELECT max(skill.level) AS best FROM skill JOIN employee ON employee.id = skill.employeeId
                WHERE skill.topicId = ANY(\(topics)) AND skill.level >= \(minimumLevel) AND employee.isActive
                    AND employee.id <> \(answerer) AND employee.id IS DISTINCT FROM \(asker)::bigint
                GROUP BY skill.employeeId
            ) AS best GROUP BY best
            """)
        var people: [Int: Int] = [:]
        for row in found {
            let (best, count) = try row.decode((Int, Int).self)
            people[best] = count
        }
        return people
    }

    /// Keeps a relayed answer's label.
    static func storeLabel(_ connection: PostgresConnection, _ label: AnswererLabel, answer id: Int64) async throws {
        let kind = label.level != nil ? "level" : label.band != nil ? "band" : "none"
        try await execute(
            connection, "UPDATE answer SET labelKind = \(kind), labelLevel = \(label.level), labelBand = \(label.band?.rawValue) WHERE id = \(id)")
    }

    /// A stored answer's label: its kind, level and band, or for an answer relayed before labels, the exact level it was
    /// told with (the delivery's).
    static func storedLabel(kind: String?, level: Int?, band: String?, deliveryLevel: Int, topic: String) -> AnswererLabel {
        switch kind {
        case "level": AnswererLabel(topic: topic, level: level, band: nil)
        case "band": AnswererLabel(topic: topic, level: nil, band: band.flatMap(LevelBand.init(rawValue:)))
        case "none": .specialist
        default: AnswererLabel(topic: topic, level: deliveryLevel, band: nil)
        }
    }
}
