import Foundation

/// When simulated people work and what their presence is at a moment: working hours Monday to Friday in their time
/// zone, meetings (busy) and short absences (away) drawn per half hour and quarter hour from the seed alone.
struct SimulatedCalendar: Sendable {
    /// Monday 5 January 2026, 00:00 UTC: the simulated week starts here.
    static let monday: Double = 1_767_571_200

    let company: SimulatedCompany
    let seed: UInt64
    let busyShare: Double
    /// The chance to be away in a quarter hour not spent in a meeting.
    let awayShareOutsideMeetings: Double

    init(company: SimulatedCompany, scenario: Scenario, seed: UInt64) {
        self.company = company
        self.seed = seed
        busyShare = scenario.meetingBusyShare
        awayShareOutsideMeetings = scenario.meetingBusyShare >= 1 ? 0 : scenario.awayShare / (1 - scenario.meetingBusyShare)
    }

    /// Local calendar day (0 = the first Monday) and second of that day.
    func localDay(of person: Int, at time: Double) -> (day: Int, second: Double) {
        let local = time - Self.monday + Double(company.people[person].utcOffsetSeconds)
        let day = Int((local / 86_400).rounded(.down))
        return (day, local - Double(day) * 86_400)
    }

    /// Whether the person is within their working hours.
    func isWorking(_ person: Int, at time: Double) -> Bool {
        let (day, second) = localDay(of: person, at: time)
        let info = company.people[person]
        return Self.isWorkingDay(day) && second >= Double(info.workStart) && second < Double(info.workEnd)
    }

    static func isWorkingDay(_ day: Int) -> Bool { ((day % 7) + 7) % 7 < 5 }

    /// The person's real state: offline outside working hours, busy in a meeting, sometimes away, else available.
    func truePresence(of person: Int, at time: Double) -> SimulatedState {
        guard isWorking(person, at: time) else { return .offline }
        let local = time + Double(company.people[person].utcOffsetSeconds)
        let halfHour = UInt64(max(0, local / 1800))
        if SimulationRandom.hash(seed, UInt64(person), halfHour) < busyShare { return .inMeeting }
        let quarter = UInt64(max(0, local / 900))
        if SimulationRandom.hash(seed ^ 0xA4A1, UInt64(person), quarter) < awayShareOutsideMeetings { return .away }
        return .available
    }

    /// When the person next starts work at or after `time` (`time` itself while working).
    func nextWorkingMoment(of person: Int, after time: Double) -> Double {
        if isWorking(person, at: time) { return time }
        let (day, second) = localDay(of: person, at: time)
        let info = company.people[person]
        for offset in 0...8 {
            let candidate = day + offset
            guard Self.isWorkingDay(candidate), offset > 0 || second < Double(info.workStart) else { continue }
            return time + Double(offset) * 86_400 - second + Double(info.workStart)
        }
        return time
    }

    /// Calendar days (0 = the first Monday) of the first `count` working days.
    static func workingDays(_ count: Int) -> [Int] {
        var days: [Int] = []
        var day = 0
        while days.count < count {
            if isWorkingDay(day) { days.append(day) }
            day += 1
        }
        return days
    }
}

/// A simulated person's real state at a moment.
enum SimulatedState: Sendable, Equatable {
    case available, away, inMeeting, offline
}
