import Foundation

/// What a simulation measured: ratios from 0 to 1, times in seconds. Encoded as JSON with exactly these keys.
public struct SimulationReport: Sendable, Equatable, Codable {
    /// Questions the simulated people asked (those refused at once, e.g. for a topic nobody is tagged with, included).
    public var questions: Int
    /// Share of questions with at least one answer relayed.
    public var answeredRatio: Double
    /// Share of questions whose first answer was relayed within 10 minutes.
    public var answeredWithin10MinRatio: Double
    /// Median seconds from asking to the first relayed answer, over answered questions (`nil` when none was).
    public var firstAnswerMedianSeconds: Double?
    /// 90th percentile of the same.
    public var firstAnswerP90Seconds: Double?
    /// Share of relayed answers that were helpful by the simulation's ground truth (`nil` when none was relayed).
    public var helpfulRatio: Double?
    /// Deliveries per specialist (everyone tagged) per working day.
    public var interruptionsPerSpecialistDayMean: Double
    /// The most deliveries one specialist received on one (local) day.
    public var interruptionsPerSpecialistDayMax: Int
    /// Share of deliveries neither answered nor passed.
    public var wastedRatio: Double
    /// Gini coefficient of deliveries per person, over everyone tagged.
    public var loadGini: Double
    /// Share of questions that expired while no candidate was ever available during their life.
    public var expiredUnavailableRatio: Double
    /// The routing policy the service ran with.
    public var routing: String
    public var seed: UInt64
    /// Working days simulated.
    public var days: Int

    enum CodingKeys: String, CodingKey {
        case questions, answeredRatio, answeredWithin10MinRatio, firstAnswerMedianSeconds, firstAnswerP90Seconds, helpfulRatio
        case interruptionsPerSpecialistDayMean, interruptionsPerSpecialistDayMax, wastedRatio, loadGini, expiredUnavailableRatio
        case routing, seed, days
    }

    /// Every key, `null` where there is nothing to measure.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(questions, forKey: .questions)
        try container.encode(answeredRatio, forKey: .answeredRatio)
        try container.encode(answeredWithin10MinRatio, forKey: .answeredWithin10MinRatio)
        try container.encode(firstAnswerMedianSeconds, forKey: .firstAnswerMedianSeconds)
        try container.encode(firstAnswerP90Seconds, forKey: .firstAnswerP90Seconds)
        try container.encode(helpfulRatio, forKey: .helpfulRatio)
        try container.encode(interruptionsPerSpecialistDayMean, forKey: .interruptionsPerSpecialistDayMean)
        try container.encode(interruptionsPerSpecialistDayMax, forKey: .interruptionsPerSpecialistDayMax)
        try container.encode(wastedRatio, forKey: .wastedRatio)
        try container.encode(loadGini, forKey: .loadGini)
        try container.encode(expiredUnavailableRatio, forKey: .expiredUnavailableRatio)
        try container.encode(routing, forKey: .routing)
        try container.encode(seed, forKey: .seed)
        try container.encode(days, forKey: .days)
    }

    /// One JSON object, keys sorted: the same report gives the same bytes.
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding plain numbers and strings cannot fail.
        let data = (try? encoder.encode(self)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// A table for people.
    public func table() -> String {
        func ratio(_ value: Double?) -> String { value.map { String(format: "%.3f", $0) } ?? "-" }
        func seconds(_ value: Double?) -> String { value.map { String(format: "%.0f s", $0) } ?? "-" }
        let rows: [(String, String)] = [
            ("questions", "\(questions)"),
            ("answeredRatio", ratio(answeredRatio)),
            ("answeredWithin10MinRatio", ratio(answeredWithin10MinRatio)),
            ("firstAnswerMedianSeconds", seconds(firstAnswerMedianSeconds)),
            ("firstAnswerP90Seconds", seconds(firstAnswerP90Seconds)),
            ("helpfulRatio", ratio(helpfulRatio)),
            ("interruptionsPerSpecialistDayMean", ratio(interruptionsPerSpecialistDayMean)),
            ("interruptionsPerSpecialistDayMax", "\(interruptionsPerSpecialistDayMax)"),
            ("wastedRatio", ratio(wastedRatio)),
            ("loadGini", ratio(loadGini)),
            ("expiredUnavailableRatio", ratio(expiredUnavailableRatio)),
            ("routing", routing),
            ("seed", "\(seed)"),
            ("days", "\(days)"),
        ]
        let width = rows.map(\.0.count).max() ?? 0
        let lines = rows.map { name, value in name + String(repeating: " ", count: width - name.count) + "  " + value }
        return lines.joined(separator: "\n") + "\n"
    }
}

// MARK: - Statistics

enum SimulationStatistics {
    /// The nearest-rank percentile (0 < p ≤ 1) of sorted values.
    static func percentile(_ sorted: [Double], _ p: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((p * Double(sorted.count)).rounded(.up))
        return sorted[min(sorted.count, max(1, rank)) - 1]
    }

    /// The median of sorted values (the mean of the middle two for an even count).
    static func median(_ sorted: [Double]) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// The Gini coefficient of non-negative counts (0: all equal; towards 1: one takes all).
    static func gini(_ values: [Int]) -> Double {
        let sorted = values.sorted()
        let total = sorted.reduce(0, +)
        guard sorted.count > 1, total > 0 else { return 0 }
        var weighted = 0.0
        for (index, value) in sorted.enumerated() { weighted += Double(index + 1) * Double(value) }
        let n = Double(sorted.count)
        return (2 * weighted) / (n * Double(total)) - (n + 1) / n
    }

    /// Rounded to `places` decimals, so that the report reads well and compares exactly.
    static func rounded(_ value: Double, _ places: Int = 4) -> Double {
        let scale = pow(10, Double(places))
        return (value * scale).rounded() / scale
    }
}
