import Foundation
import SkillRelayDomain

/// The admin page's day-by-day chart, laid out here and drawn by the template as inline SVG (no script, nothing
/// fetched): questions asked as bars, the share answered as a line (0 to 100 %), the median time to a first answer as
/// dots on a scale of its own. The same numbers follow as a table, for screen readers and for reading exact values.
struct DailyChart {
    struct Bar {
        var day: String
        var x: String
        var y: String
        var width: String
        var height: String
        var label: String
    }

    struct Dot {
        var cx: String
        var cy: String
        var label: String
    }

    struct Row {
        var day: String
        var asked: Int
        var answered: Int
        var share: String
        var median: String
    }

    var days: Int
    var width: Int
    var height: Int
    var plotTop: Int
    var plotBottom: Int
    var plotLeft: Int
    var plotRight: Int
    var bars: [Bar]
    var sharePoints: String
    var medianDots: [Dot]
    var firstDay: String
    var lastDay: String
    var mostAsked: Int
    var longestMedian: String
    var description: String
    var rows: [Row]

    /// Days the chart covers.
    static let dayCount = 28

    init(_ figures: [DailyQuestionStats]) {
        let step = 20.0
        let left = 36.0
        let top = 12.0
        let plot = 140.0
        days = figures.count
        plotLeft = Int(left)
        plotTop = Int(top)
        plotBottom = Int(top + plot)
        plotRight = Int(left + step * Double(figures.count))
        width = plotRight + 36
        height = plotBottom + 24
        let most = max(figures.map(\.asked).max() ?? 0, 1)
        let longest = figures.compactMap(\.medianFirstAnswerSeconds).max() ?? 0
        mostAsked = figures.map(\.asked).max() ?? 0
        longestMedian = AdminPages.duration(longest > 0 ? longest : nil)
        func number(_ value: Double) -> String { String(format: "%.1f", value) }
        let day = AdminPages.day
        var bars: [Bar] = []
        var points: [String] = []
        var dots: [Dot] = []
        var rows: [Row] = []
        for (index, figure) in figures.enumerated() {
            let name = day.string(from: figure.day)
            let x = left + step * Double(index)
            let barHeight = plot * Double(figure.asked) / Double(most)
            let share = String(format: "%.0f%%", figure.shareAnswered * 100)
            let median = AdminPages.duration(figure.medianFirstAnswerSeconds)
            bars.append(
                Bar(
                    day: name, x: number(x + 3), y: number(top + plot - barHeight), width: number(step - 6), height: number(barHeight),
                    label: "\(name): \(figure.asked) asked, \(share) answered, median first answer \(median)"))
            points.append("\(number(x + step / 2)),\(number(top + plot - plot * figure.shareAnswered))")
            if let seconds = figure.medianFirstAnswerSeconds, longest > 0 {
                dots.append(Dot(cx: number(x + step / 2), cy: number(top + plot - plot * seconds / longest), label: "\(name): median \(median)"))
            }
            rows.append(Row(day: name, asked: figure.asked, answered: figure.answered, share: share, median: median))
        }
        self.bars = bars
        sharePoints = points.joined(separator: " ")
        medianDots = dots
        self.rows = rows
        firstDay = rows.first?.day ?? ""
        lastDay = rows.last?.day ?? ""
        description =
            "Bars: questions asked each day, \(mostAsked) at most. Line: the share answered, 0 to 100 %. "
            + "Dots: the median time to a first answer, \(longestMedian) at most."
    }
}
