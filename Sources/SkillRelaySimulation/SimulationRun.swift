import Foundation
import SkillRelayDomain
import SkillRelayStore

/// One simulation's state: the event queue, the simulated people's memory and the event log the report is computed
/// from. Used by one task from start to end, strictly sequentially.
final class SimulationRun {
    private let scenario: Scenario
    private let company: SimulatedCompany
    private let calendar: SimulatedCalendar
    private let options: SimulationOptions
    private let settings: QuestionSettings
    /// With `--oracle`: the ground truth that replaces the learned estimates.
    private let oracle: SimulatedTruth?
    private let databasePath: String
    private let clock: SimulationClock
    private var random: SimulationRandom
    private var database: AppDatabase
    private var store: SQLiteQuestionStore
    private var service: QuestionService

    private var events = EventQueue()
    private var questions: [QuestionLog] = []
    private var deliveries: [DeliveryLog] = []
    private var questionNumbers: [String: Int] = [:]
    private var deliveryNumbers: [String: Int] = [:]
    /// Each person's last interruption and their deliveries on their current local day.
    private var lastInterruption: [Double?]
    private var today: [(day: Int, count: Int)]
    /// Deliveries per person and local day (`person * 10_000 + day`).
    private var perSpecialistDay: [Int: Int] = [:]
    private var restarts = 0
    private var refused = 0

    init(scenario: Scenario, company: SimulatedCompany, options: SimulationOptions, databasePath: String) throws {
        self.scenario = scenario
        self.company = company
        self.options = options
        self.databasePath = databasePath
        calendar = SimulatedCalendar(company: company, scenario: scenario, seed: options.seed)
        var settings = scenario.settings ?? QuestionSettings()
        if let routing = options.routing { settings.routing = routing }
        if options.oracle { settings.routing = .learned }
        if let confidence = options.waveConfidence { settings.waveConfidence = confidence }
        self.settings = settings
        oracle =
            options.oracle
            ? SimulatedTruth(company: company, behaviour: scenario.behaviour, timelyAnswerSeconds: settings.timelyAnswerSeconds) : nil
        clock = SimulationClock(Date(timeIntervalSince1970: SimulatedCalendar.monday - 14 * 3600))
        random = SimulationRandom(seed: options.seed)
        lastInterruption = Array(repeating: nil, count: company.people.count)
        today = Array(repeating: (-1, 0), count: company.people.count)
        (database, store, service) = try Self.open(
            try AppDatabase.openScratch(path: databasePath), calendar: calendar, scenario: scenario, settings: settings, clock: clock,
            seed: Self.routingSeed(options.seed, restarts: 0), oracle: oracle)
    }

    /// The routing's seed after `restarts` restarts.
    static func routingSeed(_ seed: UInt64, restarts: Int) -> UInt64 { seed &* 0x2545_F491_4F6C_DD1D &+ UInt64(restarts) }

    /// The store and the service on a database, as `serve` wires them, with the simulation's presence source and the
    /// routing's exploration seeded from the simulation's seed (and how often it restarted, as a new process would
    /// draw anew).
    private static func open(
        _ database: AppDatabase, calendar: SimulatedCalendar, scenario: Scenario, settings: QuestionSettings, clock: SimulationClock,
        seed: UInt64, oracle: SimulatedTruth?
    ) throws -> (AppDatabase, SQLiteQuestionStore, QuestionService) {
        let store = SQLiteQuestionStore(database: database, learning: RoutingLearning(settings: settings))
        let presence = SimulatedPresenceSource(calendar: calendar, reporting: scenario.presence, clock: clock)
        // Unknown until probed, as with a Matrix homeserver: `run` and `restart` probe at once, as `serve` does at start.
        let service = try QuestionService(
            store: store, presence: presence, settings: settings, clock: clock, random: RoutingRandom(seed: seed),
            presenceReporting: PresenceReportingState(initial: .unknown), oracle: oracle)
        return (database, store, service)
    }

    private var now: Double { clock.now().timeIntervalSince1970 }

    // MARK: - The loop

    func run() async throws -> Simulation.Outcome {
        scheduleQuestions()
        _ = await service.probePresenceReporting()
        let start = SimulatedCalendar.monday - 14 * 3600
        let end = max(start + 1, (events.last ?? start) + Double(settings.deadlineSeconds))
        var reported = -1
        var restartDue = options.restartAt.map { SimulatedCalendar.monday + $0 }
        var stuck = 0
        // When the store next has work due: read again after each step, the only thing that changes it.
        var due = try await store.nextDueTime()?.timeIntervalSince1970
        while true {
            let next = events.peek?.time
            guard due != nil || next != nil else { break }
            let time = min(due ?? .infinity, next ?? .infinity)
            if let restart = restartDue, time >= restart {
                clock.move(to: Date(timeIntervalSince1970: restart))
                try await self.restart()
                restartDue = nil
            }
            if let ticked = due, ticked <= (next ?? .infinity) {
                // The store keeps times to the millisecond and compares them as text: a due time read back can sit a
                // fraction of a millisecond before the stored one, so the tick runs a millisecond later.
                clock.move(to: Date(timeIntervalSince1970: ticked + 0.001))
                try await service.tick()
                let delivered = deliveries.count
                try await drainOutbox()
                due = try await store.nextDueTime()?.timeIntervalSince1970
                // Work that stays due after a tick would loop forever: a bug, never a result.
                if deliveries.count == delivered, let again = due, again == ticked {
                    stuck += 1
                    guard stuck < 3 else { throw SimulationError.inconsistent("work due at \(again) stays due after the service's tick") }
                } else {
                    stuck = 0
                }
            } else if let event = events.pop() {
                clock.move(to: Date(timeIntervalSince1970: event.time))
                try await handle(event)
                try await drainOutbox()
                due = try await store.nextDueTime()?.timeIntervalSince1970
            }
            if let progress = options.progress {
                let percent = Int(min(1, max(0, (now - start) / (end - start))) * 100)
                if percent != reported {
                    reported = percent
                    progress(Double(percent) / 100)
                }
            }
        }
        options.progress?(1)
        return Simulation.Outcome(report: try await report(), restarts: restarts, deliveries: deliveries.count)
    }

    /// Closes the store and the service and opens them again from the file, as a restarted server would; the simulated
    /// people keep what they were doing.
    private func restart() async throws {
        try await options.restartObserver?(.beforeClose, database)
        // Replacing the last references closes the old connections before the new ones open.
        (database, store, service) = try Self.open(
            try AppDatabase.inMemory(), calendar: calendar, scenario: scenario, settings: settings, clock: clock, seed: 0, oracle: nil)
        restarts += 1
        (database, store, service) = try Self.open(
            try AppDatabase.openScratch(path: databasePath), calendar: calendar, scenario: scenario, settings: settings, clock: clock,
            seed: Self.routingSeed(options.seed, restarts: restarts), oracle: oracle)
        _ = await service.probePresenceReporting()
        try await options.restartObserver?(.afterReopen, database)
    }

    /// Every question the simulated people will ask: a Poisson number per person and working day, at moments spread
    /// over their working hours, each on a topic drawn by popularity.
    private func scheduleQuestions() {
        let mean = scenario.behaviour.questionsPerPersonPerDay
        for day in SimulatedCalendar.workingDays(options.days) {
            for (index, person) in company.people.enumerated() {
                for _ in 0..<random.poisson(mean: mean) {
                    let second = Double(person.workStart) + random.uniform() * Double(person.workEnd - person.workStart)
                    let time = SimulatedCalendar.monday + Double(day) * 86_400 - Double(person.utcOffsetSeconds) + second
                    let topic = random.pick(cumulative: company.askWeights)
                    events.push(at: time, .ask(person: index, topic: topic))
                }
            }
        }
    }

    // MARK: - Simulated people acting

    private func handle(_ event: EventQueue.Event) async throws {
        switch event.kind {
        case .ask(let person, let topic): try await ask(person: person, topic: topic)
        case .answer(let delivery): try await answer(delivery)
        case .pass(let delivery): try await pass(delivery)
        }
    }

    private func ask(person: Int, topic: Int) async throws {
        let number = questions.count
        questions.append(QuestionLog(asker: person, topic: topic, askedAt: now))
        // Asked through the IM (a direct message to the bot), so answers and the closing notice come back through it.
        let text = "Simulated question #\(number): a question about \(company.topics[topic].name)."
        do {
            let asked = try await service.ask(
                QuestionDraft(asker: .employee(company.people[person].handle), topic: company.topics[topic].slug, text: text, channel: .im))
            questions[number].id = asked.id
            questionNumbers[asked.id] = number
        } catch let error as DirectoryError {
            // Refused at once (nobody tagged with the topic but the asker, or the asker's rate): unanswered.
            questions[number].refusal = error.code
            refused += 1
        }
    }

    /// A question reaches a simulated person: they decide from their scenario alone whether to answer, pass or ignore.
    private func received(_ message: QuestionMessage) {
        guard let person = SimulatedPresenceSource.index(of: message.recipient.handle), person < company.people.count,
            let number = Self.questionNumber(in: message.text), number < questions.count
        else { return }
        let at = now
        let (day, _) = calendar.localDay(of: person, at: at)
        if today[person].day != day { today[person] = (day, 0) }
        let loadToday = today[person].count
        let sinceLast = lastInterruption[person].map { at - $0 }
        today[person].count += 1
        lastInterruption[person] = at
        perSpecialistDay[person * 10_000 + day, default: 0] += 1
        let delivery = deliveries.count
        deliveries.append(DeliveryLog(question: number, person: person))
        deliveryNumbers[message.deliveryID] = delivery
        deliveryIDs.append(message.deliveryID)
        questions[number].deliveries += 1

        let behaviour = scenario.behaviour
        let skill = company.skill(of: person, in: questions[number].topic)
        var chance = behaviour.answerProbabilityBySkill[skill] * max(0, 1 - behaviour.loadPenaltyPerDelivery * Double(loadToday))
        if let sinceLast, sinceLast < behaviour.recentInterruptionMinutes * 60 { chance *= 1 - behaviour.recentInterruptionPenalty }
        // Someone outside their hours (reached without presence) sees it when they start work.
        let seen = calendar.nextWorkingMoment(of: person, after: at)
        let slowed = calendar.truePresence(of: person, at: seen) == .inMeeting ? behaviour.meetingDelayFactor : 1
        if random.chance(chance) {
            let delay = random.logNormal(median: behaviour.answerDelayMedianSeconds, spread: behaviour.answerDelaySpread) * slowed
            events.push(at: seen + max(1, delay.rounded()), .answer(delivery: delivery))
        } else if random.chance(behaviour.passProbability) {
            let delay = random.logNormal(median: behaviour.passDelayMedianSeconds, spread: behaviour.answerDelaySpread) * slowed
            events.push(at: seen + max(1, delay.rounded()), .pass(delivery: delivery))
        }
    }
    private var deliveryIDs: [String] = []

    private func answer(_ delivery: Int) async throws {
        guard !deliveries[delivery].closed else { return }
        let log = deliveries[delivery]
        let handle = company.people[log.person].handle
        let outcome: AnswerOutcome
        do {
            outcome = try await service.answer(
                delivery: deliveryIDs[delivery], text: "A simulated answer.", by: Caller(identity: .employee(handle)))
        } catch let error as DirectoryError where error.code == "question_closed" {
            return
        }
        deliveries[delivery].outcome = .answered
        guard case .relayed(let rank) = outcome else { return }
        // Ground truth: whether the answer helps depends on what the answerer really knows.
        let skill = company.skill(of: log.person, in: questions[log.question].topic)
        let helpful = random.chance(scenario.behaviour.helpfulProbabilityBySkill[skill])
        var question = questions[log.question]
        if question.firstAnswerAt == nil { question.firstAnswerAt = now }
        question.relayed += 1
        if helpful { question.helpful += 1 }
        question.helpfulByRank[rank] = helpful
        questions[log.question] = question
    }

    private func pass(_ delivery: Int) async throws {
        guard !deliveries[delivery].closed else { return }
        let handle = company.people[deliveries[delivery].person].handle
        do {
            try await service.pass(delivery: deliveryIDs[delivery], by: Caller(identity: .employee(handle)))
        } catch let error as DirectoryError where error.code == "question_closed" {
            return
        }
        deliveries[delivery].outcome = .passed
    }

    /// The simulated messenger: hands every queued message to the simulated person it is for, then marks it sent.
    private func drainOutbox() async throws {
        let limit = 500
        while true {
            let items = try await store.pendingOutbox(now: clock.now(), limit: limit)
            guard !items.isEmpty else { return }
            // Sending changes nothing else's turn: another read finds more only after a full batch, or after a rating
            // (the one call back into the service from here).
            var mayHaveMore = items.count == limit
            for item in items {
                switch item.message {
                case .question(let message): received(message)
                case .closed(let message):
                    if let delivery = deliveryNumbers[message.deliveryID] { deliveries[delivery].closed = true }
                case .answer(let message):
                    try await rate(message)
                    mayHaveMore = true
                case .askerNotice(let message):
                    if message.reason == .expired, let number = questionNumbers[message.questionID] { questions[number].expired = true }
                // Simulated people never follow up or reveal themselves: nothing is queued for these.
                case .callback, .reveal, .introduction, .followUp: break
                }
            }
            try await store.markOutboxSent(items.map(\.id), references: [:], now: clock.now())
            guard mayHaveMore else { return }
        }
    }

    /// An asker reads a relayed answer and sometimes rates it, by whether it really helped.
    private func rate(_ message: AnswerMessage) async throws {
        guard let number = questionNumbers[message.questionID], let helpful = questions[number].helpfulByRank[message.answer.rank],
            random.chance(scenario.behaviour.ratingProbability)
        else { return }
        let asker = company.people[questions[number].asker].handle
        try await service.rate(message.questionID, rank: message.answer.rank, helpful: helpful, by: Caller(identity: .employee(asker)))
    }

    static func questionNumber(in text: String) -> Int? {
        guard let hash = text.firstIndex(of: "#"), let colon = text[hash...].firstIndex(of: ":") else { return nil }
        return Int(text[text.index(after: hash)..<colon])
    }

    // MARK: - The report

    private func report() async throws -> SimulationReport {
        let deadline = Double(settings.deadlineSeconds)
        let firstAnswers = questions.compactMap { question in question.firstAnswerAt.map { $0 - question.askedAt } }.sorted()
        let relayed = questions.reduce(0) { $0 + $1.relayed }
        let helpful = questions.reduce(0) { $0 + $1.helpful }
        let expired = questions.filter(\.expired)
        try await crossCheck(answered: firstAnswers.count, relayed: relayed, expired: expired.count)

        var perPerson = [Int](repeating: 0, count: company.people.count)
        for delivery in deliveries { perPerson[delivery.person] += 1 }
        let specialistLoads = company.specialists.map { perPerson[$0] }
        let toSpecialists = specialistLoads.reduce(0, +)
        let wasted = deliveries.filter { $0.outcome == .none }.count
        let unavailable = expired.filter { question in
            !isAnyoneAvailable(for: question, until: question.askedAt + deadline)
        }.count
        let count = questions.count
        func share(_ part: Int, _ whole: Int) -> Double { whole == 0 ? 0 : SimulationStatistics.rounded(Double(part) / Double(whole)) }
        return SimulationReport(
            questions: count, answeredRatio: share(firstAnswers.count, count),
            answeredWithin10MinRatio: share(firstAnswers.filter { $0 <= 600 }.count, count),
            firstAnswerMedianSeconds: SimulationStatistics.median(firstAnswers).map { SimulationStatistics.rounded($0, 1) },
            firstAnswerP90Seconds: SimulationStatistics.percentile(firstAnswers, 0.9).map { SimulationStatistics.rounded($0, 1) },
            helpfulRatio: relayed == 0 ? nil : share(helpful, relayed),
            interruptionsPerSpecialistDayMean: share(toSpecialists, company.specialists.count * options.days),
            interruptionsPerSpecialistDayMax: perSpecialistDay.values.max() ?? 0, wastedRatio: share(wasted, deliveries.count),
            loadGini: SimulationStatistics.rounded(SimulationStatistics.gini(specialistLoads)), expiredUnavailableRatio: share(unavailable, count),
            routing: oracle == nil ? settings.routing.rawValue : "oracle", seed: options.seed, days: options.days)
    }

    /// Whether any candidate for the question (tagged with its topic or below, not the asker) was really available at
    /// some minute of its life.
    private func isAnyoneAvailable(for question: QuestionLog, until end: Double) -> Bool {
        let candidates = company.taggedByTopic[question.topic].filter { $0 != question.asker }
        var time = question.askedAt
        while time < end {
            if candidates.contains(where: { calendar.truePresence(of: $0, at: time) == .available }) { return true }
            time += 60
        }
        return false
    }

    /// The simulation's own counts must be the store's.
    private func crossCheck(answered: Int, relayed: Int, expired: Int) async throws {
        let stats = try await store.questionStats(since: nil, top: 1)
        let stored = questions.count - refused
        let pairs = [
            ("questions stored", stored, stats.asked), ("answered", answered, stats.withAnswers), ("relayed", relayed, stats.relayedAnswers),
        ]
        for (name, mine, theirs) in pairs where mine != theirs {
            throw SimulationError.inconsistent("\(name): \(mine) simulated, \(theirs) stored")
        }
        guard stats.open == 0, stats.expired == expired else {
            throw SimulationError.inconsistent("expired: \(expired) simulated, \(stats.expired) stored, \(stats.open) still open")
        }
    }
}

/// A question in the simulation's event log.
struct QuestionLog {
    var asker: Int
    var topic: Int
    var askedAt: Double
    var id: String?
    var refusal: String?
    var firstAnswerAt: Double?
    var relayed = 0
    var helpful = 0
    /// Ground truth of each relayed answer, by rank.
    var helpfulByRank: [Int: Bool] = [:]
    var expired = false
    var deliveries = 0

    init(asker: Int, topic: Int, askedAt: Double) {
        self.asker = asker
        self.topic = topic
        self.askedAt = askedAt
    }
}

/// A delivery in the simulation's event log.
struct DeliveryLog {
    enum Outcome { case none, answered, passed }
    var question: Int
    var person: Int
    var outcome = Outcome.none
    /// The person was told the question closed: whatever they meant to do, they drop it.
    var closed = false
}
