import Foundation

/// Someone tagged with a question's topic, with what the ranking needs to know about them.
public struct Candidate: Sendable, Equatable {
    public var handle: String
    public var imID: String?
    /// Their best level in the topic or a subtopic.
    public var level: Int
    /// Who vouched for that level.
    public var source: SkillSource
    public var isActive: Bool
    public var pausedUntil: Date?
    /// When they last received a question.
    public var lastInterruptedAt: Date?
    /// Questions they received in the past hour.
    public var deliveriesLastHour: Int
    /// Questions they received in the past 24 hours (counted up to the daily budget, and at least up to 16).
    public var deliveriesLastDay: Int
    public var record: AnswerRecord
    /// What the learned routing has seen them do.
    public var learned: LearnedRecord
    /// Their time zone; `nil` means UTC.
    public var timeZone: TimeZone?
    /// When they may be interrupted; `nil` means at any time.
    public var workingHours: WorkingHours?
    /// The last time the bot saw them do something in the IM (a message, a read receipt, a membership change).
    public var lastActiveAt: Date?
    /// With `learned` routing, once chosen for a wave: the estimated chance that they answer in time, kept with the
    /// delivery so that later waves can judge whether they are still likely to.
    public var expectedTimely: Double?

    public init(
        handle: String, imID: String? = nil, level: Int, source: SkillSource = .manager, isActive: Bool = true, pausedUntil: Date? = nil,
        lastInterruptedAt: Date? = nil, deliveriesLastHour: Int = 0, deliveriesLastDay: Int? = nil, record: AnswerRecord = AnswerRecord(),
        learned: LearnedRecord = LearnedRecord(),
        timeZone: TimeZone? = nil, workingHours: WorkingHours? = nil, lastActiveAt: Date? = nil
    ) {
        self.learned = learned
        self.timeZone = timeZone
        self.workingHours = workingHours
        self.lastActiveAt = lastActiveAt
        self.handle = handle
        self.imID = imID
        self.level = level
        self.source = source
        self.isActive = isActive
        self.pausedUntil = pausedUntil
        self.lastInterruptedAt = lastInterruptedAt
        self.deliveriesLastHour = deliveriesLastHour
        self.deliveriesLastDay = max(deliveriesLastDay ?? deliveriesLastHour, deliveriesLastHour)
        self.record = record
    }

    /// Whether `now` is within their working hours in their time zone (UTC without one); always, without working hours.
    public func isWithinWorkingHours(at now: Date) -> Bool {
        guard let workingHours else { return true }
        return workingHours.contains(now, in: timeZone ?? TimeZone(identifier: "UTC")!)
    }
}

/// Who gets a question, and in which order: pure rules, no I/O.
public enum Matcher {
    /// The candidates who may be interrupted at all, best first: active, not paused, not the asker, within their hourly
    /// budget, within their working hours (whatever their presence says). With `static` routing, ranked by level,
    /// vouched-for before self-declared, least recently interrupted, then answer rate; with `learned` routing, by a draw
    /// of each one's chance of a good answer in time (`RoutingEstimator`), so that people with little data get a fair
    /// trial.
    public static func rank(
        _ candidates: [Candidate], asker: Asker, now: Date, settings: QuestionSettings, random: RoutingRandom = RoutingRandom()
    ) -> [Candidate] {
        let allowed = candidates.filter { candidate in
            candidate.isActive && candidate.handle != asker.handle && candidate.level >= settings.minimumLevel
                && (candidate.pausedUntil.map { $0 <= now } ?? true) && candidate.deliveriesLastHour < settings.hourlyBudget
                && candidate.deliveriesLastDay < settings.dailyBudget
                && candidate.isWithinWorkingHours(at: now)
        }
        switch settings.routing {
        case .static:
            return allowed.sorted(by: isRankedBefore)
        case .learned:
            let estimator = RoutingEstimator(settings: settings, now: now)
            // Drawn in the static order, so that the same seed gives the same draws whatever order the store returned.
            let ordered = allowed.sorted(by: isRankedBefore)
            let scores = random.withGenerator { generator in
                ordered.map { estimator.sample(estimator.estimate($0), using: &generator) }
            }
            return zip(ordered, scores).enumerated().sorted { a, b in
                a.element.1 != b.element.1 ? a.element.1 > b.element.1 : a.offset < b.offset
            }.map(\.element.0)
        }
    }

    /// Where `learned` routing expects a wave to do without all of it: the wave's first candidates, as many as it takes
    /// for the chance of at least one answer in time, together with `alreadyLikely` (the chance that someone already
    /// holding the question still answers in time), to reach `settings.waveConfidence`; each chosen candidate carries
    /// their estimate in `expectedTimely`. The whole wave with `static`, or when the question wants no more answers
    /// (`needed` 0).
    public static func sized(
        _ wave: [Candidate], needed: Int, now: Date, settings: QuestionSettings, alreadyLikely: Double = 0
    ) -> [Candidate] {
        guard settings.routing == .learned, needed > 0 else { return wave }
        let estimator = RoutingEstimator(settings: settings, now: now)
        return firstReaching(settings.waveConfidence, alreadyLikely: alreadyLikely, of: wave) { estimator.estimate($0).timelyNow }
    }

    /// The first candidates of `wave`, as many as it takes for the chance of at least one answer in time, together with
    /// `alreadyLikely`, to reach `confidence`, each with `chance(candidate)` kept as their `expectedTimely`.
    static func firstReaching(
        _ confidence: Double, alreadyLikely: Double, of wave: [Candidate], chance: (Candidate) -> Double
    ) -> [Candidate] {
        var noneAnswers = 1 - min(1, max(0, alreadyLikely))
        var chosen: [Candidate] = []
        for var candidate in wave {
            guard 1 - noneAnswers < confidence else { break }
            let expected = chance(candidate)
            candidate.expectedTimely = expected
            chosen.append(candidate)
            noneAnswers *= 1 - expected
        }
        return chosen
    }

    /// Whether `a` comes before `b`.
    static func isRankedBefore(_ a: Candidate, _ b: Candidate) -> Bool {
        if a.level != b.level { return a.level > b.level }
        let aVouched = a.source != .selfDeclared
        let bVouched = b.source != .selfDeclared
        if aVouched != bVouched { return aVouched }
        switch (a.lastInterruptedAt, b.lastInterruptedAt) {
        case (nil, .some): return true
        case (.some, nil): return false
        case (let x?, let y?) where x != y: return x < y
        default: break
        }
        if a.record.answerRate != b.record.answerRate { return a.record.answerRate > b.record.answerRate }
        return a.handle < b.handle
    }

    /// The next wave: the best `waveSize` ranked candidates not yet asked whose presence allows it in wave `wave` (1-based).
    public static func planWave(
        ranked: [Candidate], presence: [String: Presence], alreadyAsked: Set<String>, wave: Int, settings: QuestionSettings
    ) -> [Candidate] {
        let fresh = ranked.filter { !alreadyAsked.contains($0.handle) }
        let available = fresh.filter { presence[$0.handle] == .available }
        // Away people come after every available one, each group in rank order.
        let away = wave > 1 && settings.allowAwayInLaterWaves ? fresh.filter { presence[$0.handle] == .away } : []
        return Array((available + away).prefix(settings.waveSize))
    }

    /// The candidates whose presence a wave needs: the best `poolSize` ranked not yet asked.
    public static func presencePool(ranked: [Candidate], alreadyAsked: Set<String>, poolSize: Int) -> [PresenceQuery] {
        ranked.lazy.filter { !alreadyAsked.contains($0.handle) }.prefix(poolSize).map { PresenceQuery(handle: $0.handle, imID: $0.imID) }
    }
}
