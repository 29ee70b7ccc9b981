import Foundation

/// The question's life: asking, waves, answers, closing. Coordinates the store, presence and the live event streams;
/// the outbox dispatcher carries the messages the store queued.
public struct QuestionService: Sendable {
    let store: any QuestionStore
    let presence: any PresenceSource
    /// Whether the IM server's presence means anything, as its last probe found.
    let presenceReporting: PresenceReportingState
    let settings: QuestionSettings
    let policy: ContentPolicy
    let clock: any WallClock
    let events: QuestionEvents
    /// Each caller's questions, and separately their follow-ups, per minute (`asksPerMinute`).
    let rateLimiter: any RateLimit
    /// Called after a change queued outbox messages, so the dispatcher sends them now rather than on its next round.
    let outboxChanged: @Sendable () -> Void
    /// How far behind the outbox is (the dispatcher's `OutboxLag`).
    let outboxLag: OutboxLag
    /// What the learned routing's exploration draws on.
    let random: RoutingRandom
    /// How long answers take here, read from the store now and then (`AnswerDelays`).
    let answerDelays = AnswerDelayCache()
    /// Only in a simulation measuring what perfect knowledge would reach: the truth that replaces the learned estimates.
    let oracle: (any RoutingOracle)?

    /// `rateLimit` counts `asksPerMinute` per caller; without one, this process counts alone (`RateLimiter`), which is
    /// right for a single instance. Several instances pass one that counts in their shared database.
    public init(
        store: any QuestionStore, presence: any PresenceSource, settings: QuestionSettings, clock: any WallClock = SystemWallClock(),
        events: QuestionEvents = QuestionEvents(), outboxLag: OutboxLag = OutboxLag(), random: RoutingRandom = RoutingRandom(),
        outboxChanged: @escaping @Sendable () -> Void = {}, presenceReporting: PresenceReportingState = PresenceReportingState(initial: .reported),
        rateLimit: (any RateLimit)? = nil, oracle: (any RoutingOracle)? = nil
    ) throws(DirectoryError) {
        self.oracle = oracle
        self.random = random
        self.presenceReporting = presenceReporting
        self.outboxLag = outboxLag
        self.store = store
        self.presence = presence
        self.settings = try settings.validated()
        self.policy = try ContentPolicy(rules: settings.contentRules)
        self.clock = clock
        self.events = events
        self.rateLimiter = rateLimit ?? RateLimiter(limit: self.settings.asksPerMinute)
        self.outboxChanged = outboxChanged
    }

    /// The live event streams this service publishes to.
    public var eventStreams: QuestionEvents { events }

    /// How far behind the outbox is, in seconds (see `OutboxLag`): what `/metrics` reports, and what refuses new
    /// questions past `maxDeliveryLagSeconds`.
    public var outboxLagSeconds: TimeInterval { outboxLag.current }

    /// Whether the IM server reports presence, as the last probe found (for the admin page and `/v1/stats`).
    public var presenceReportingSnapshot: PresenceReportingState.Snapshot { presenceReporting.snapshot }

    /// Asks the IM adapter whether its server reports presence and records the answer, which the next wave uses.
    /// Returns the answer and, when it changed, what it was before (`.some(nil)` for the first probe).
    public func probePresenceReporting() async -> (reporting: PresenceReporting, previous: PresenceReporting??) {
        let reporting = await presence.probePresenceReporting()
        return (reporting, presenceReporting.record(reporting, at: clock.now()))
    }

    // MARK: - Asking

    /// What the asker learns at once.
    public struct Asked: Sendable, Equatable {
        public var id: String
        public var status: QuestionStatus
        public var topic: TopicReference
        public var deliveredTo: Int
        public var expiresAt: Date
        /// `false` when an idempotency key returned an earlier question.
        public var created: Bool
    }

    /// Asks a question: checks it, finds its topic, stores it and sends the first wave.
    public func ask(_ draft: QuestionDraft) async throws -> Asked {
        let now = clock.now()
        let text = try checkText(draft.text, field: "text")
        if let key = draft.idempotencyKey, key.isEmpty || key.count > 200 {
            throw DirectoryError.invalidField("Idempotency-Key", "must be 1 to 200 characters")
        }
        if let url = draft.callbackURL { try Self.checkCallbackURL(url) }
        let maxAnswers = draft.maxAnswers ?? settings.defaultMaxAnswers
        guard (1...10).contains(maxAnswers) else { throw DirectoryError.invalidField("maxAnswers", "must be from 1 to 10") }
        if let rule = policy.violation(in: text) {
            try await store.logPolicyViolation(sender: Self.name(draft.asker), rule: rule, kind: "question", now: now)
            throw DirectoryError.policyViolation(rule)
        }
        // A retry of a question already stored gets that question back as it stands now: not refused for the rate or
        // the outbox's lag, and no presence asked for a wave that would not be sent. (The transaction checks the key
        // again, for two first tries at once.)
        if let key = draft.idempotencyKey, let existing = try await store.question(askedBy: draft.asker, idempotencyKey: key) {
            return try await alreadyAsked(existing, by: draft.asker)
        }
        // Before the rate limiter, so that a refused question does not count against the caller.
        if outboxLag.current > TimeInterval(settings.maxDeliveryLagSeconds) { throw DirectoryError.overloaded(retryAfterSeconds: 2) }
        try await rateLimiter.acquire(Self.name(draft.asker), now: now)
        let topic = try await resolveTopic(draft.topic, text: text)
        let query = candidateQuery(topic: topic.slug, excluding: draft.asker.handle, alreadyAsked: 0)
        let tagged = try await store.candidates(query, now: now)
        // Nobody tagged at all is an error; everybody busy is not: the question waits for a later wave.
        if tagged.isEmpty, try await !store.hasSpecialists(query) { throw DirectoryError.noSpecialists(topic.slug) }
        let question = NewQuestion(
            id: IdentifierGenerator.make(prefix: "q"), asker: draft.asker, topic: topic, text: text, maxAnswers: maxAnswers,
            idempotencyKey: draft.idempotencyKey, callbackURL: draft.callbackURL, channel: draft.channel, createdAt: now,
            expiresAt: now.addingTimeInterval(TimeInterval(settings.deadlineSeconds)))
        // The first wave is chosen before the question is stored, so that both take one transaction.
        let firstWave = await planWave(
            candidates: tagged, topic: topic.slug, asker: draft.asker, alreadyAsked: [], wave: 1, needed: maxAnswers, now: now)
        let stored = try await store.createQuestion(
            question, firstWave: firstWave, nextActionAt: nextAction(after: now, expiresAt: question.expiresAt))
        guard stored.created else { return try await alreadyAsked(stored.id, by: draft.asker) }
        if stored.deliveredTo > 0 {
            events.publish(.wave(number: 1, deliveredTo: stored.deliveredTo), question: stored.id)
            outboxChanged()
        }
        return Asked(id: stored.id, status: .open, topic: topic, deliveredTo: stored.deliveredTo, expiresAt: question.expiresAt, created: true)
    }

    /// The question an earlier ask with the same idempotency key made, as it stands now.
    private func alreadyAsked(_ id: String, by asker: Asker) async throws -> Asked {
        let view = try await store.questionView(id, for: asker, isAdmin: false)
        return Asked(id: id, status: view.status, topic: view.topic, deliveredTo: view.deliveredTo, expiresAt: view.expiresAt, created: false)
    }

    /// Whom to consider for a wave: enough people for the presence pool beside those already asked.
    private func candidateQuery(topic: String, excluding asker: String?, alreadyAsked: Int) -> CandidateQuery {
        CandidateQuery(
            topic: topic, minimumLevel: settings.minimumLevel, hourlyBudget: settings.hourlyBudget, dailyBudget: settings.dailyBudget,
            excluding: asker,
            limit: 2 * settings.presencePoolSize + alreadyAsked)
    }

    /// Ranks the candidates, asks for the presence of the best not yet asked, and picks the wave; `needed` is how many
    /// more answers the question wants. Where the IM server does not report presence (or that is not known),
    /// availability comes from working hours instead, and people the bot saw recently come first (`Availability`).
    private func planWave(
        candidates: [Candidate], topic: String, asker: Asker, alreadyAsked: Set<String>, wave: Int, needed: Int, now: Date,
        alreadyLikely: Double = 0
    ) async -> [Candidate] {
        var ranked = Matcher.rank(candidates, asker: asker, now: now, settings: settings, random: random)
        if let oracle { ranked = Matcher.rankedByTruth(ranked, topic: topic, now: now, oracle: oracle) }
        let reporting = presenceReporting.current
        if reporting != .reported { ranked = Availability.recentlyActiveFirst(ranked, now: now) }
        let pool = Matcher.presencePool(ranked: ranked, alreadyAsked: alreadyAsked, poolSize: settings.presencePoolSize)
        let said = pool.isEmpty ? [:] : await presence.presence(of: pool)
        let effective = Availability.effective(presence: said, reporting: reporting, candidates: ranked, now: now)
        let planned = Matcher.planWave(ranked: ranked, presence: effective, alreadyAsked: alreadyAsked, wave: wave, settings: settings)
        if let oracle, needed > 0 {
            return Matcher.sizedByTruth(planned, alreadyLikely: alreadyLikely, confidence: settings.waveConfidence)
        }
        return Matcher.sized(planned, needed: needed, now: now, settings: settings, alreadyLikely: alreadyLikely)
    }

    /// When the next wave is due: a wave interval from now, but never after the deadline.
    private func nextAction(after now: Date, expiresAt: Date) -> Date {
        min(now.addingTimeInterval(TimeInterval(settings.waveIntervalSeconds)), expiresAt)
    }

    private func resolveTopic(_ given: String?, text: String) async throws -> TopicReference {
        if let given {
            guard let topic = try await store.resolveTopic(given) else { throw DirectoryError.unknownTopic(given) }
            return topic
        }
        let matches = try await store.topicMatches(forText: text)
        return try TopicResolution.choose(exact: matches.exact, hits: matches.hits)
    }

    // MARK: - Waves and expiry

    /// Sends the next wave of a question if it is due, or expires it at its deadline; returns the wave sent, if any.
    @discardableResult
    func runWave(_ id: String) async throws -> WaveOutcome? {
        guard let context = try await store.waveContext(question: id) else { return nil }
        let now = clock.now()
        if now >= context.expiresAt {
            if try await store.expireQuestion(id, now: now) { closed(id, .expired) }
            return nil
        }
        // Learned routing sends further waves only until a first answer came: whoever already holds the question may
        // still add to it, but nobody more is interrupted for a question that has its answer.
        let wantsMore = settings.routing == .learned ? context.relayed == 0 : context.relayed < context.maxAnswers
        guard wantsMore, context.waves < settings.maxWaves else {
            // Every wave went out: nothing more to do until the deadline.
            _ = try await store.recordWave(question: id, after: context.waves, to: [], nextActionAt: context.expiresAt, now: now)
            return nil
        }
        // Learned routing interrupts nobody more while those already holding the question are likely enough to answer
        // in time, given how long they have been silent; the wave after tops the chance up, no more.
        var alreadyLikely = 0.0
        if settings.routing == .learned {
            alreadyLikely = try await delays(now: now).anyStillAnswering(context.pending, now: now)
            if alreadyLikely >= settings.waveConfidence {
                _ = try await store.recordWave(
                    question: id, after: context.waves, to: [], nextActionAt: nextAction(after: now, expiresAt: context.expiresAt), now: now)
                return nil
            }
        }
        let tagged = try await store.candidates(
            candidateQuery(topic: context.topic.slug, excluding: context.asker.handle, alreadyAsked: context.alreadyAsked.count), now: now)
        let chosen = await planWave(
            candidates: tagged, topic: context.topic.slug, asker: context.asker, alreadyAsked: context.alreadyAsked, wave: context.waves + 1,
            needed: context.maxAnswers - context.relayed, now: now, alreadyLikely: alreadyLikely)
        guard
            let outcome = try await store.recordWave(
                question: id, after: context.waves, to: chosen, nextActionAt: nextAction(after: now, expiresAt: context.expiresAt), now: now),
            outcome.newDeliveries > 0
        else { return nil }
        events.publish(.wave(number: outcome.wave, deliveredTo: outcome.deliveredTo), question: id)
        outboxChanged()
        return outcome
    }

    /// How long answers take here: the store's newest answers, read again once an hour.
    private func delays(now: Date) async throws -> AnswerDelays {
        if let fresh = answerDelays.fresh(at: now) { return fresh }
        let delays = AnswerDelays(
            window: TimeInterval(settings.timelyAnswerSeconds), delays: try await store.recentAnswerDelays(limit: AnswerDelayCache.sampleSize))
        answerDelays.store(delays, readAt: now)
        return delays
    }

    /// Runs every wave and expiry that is due; returns how many questions it looked at.
    @discardableResult
    public func tick() async throws -> Int {
        let due = try await store.dueQuestions(now: clock.now(), limit: 200)
        for id in due { try await runWave(id) }
        try await relayDueHeldAnswers()
        return due.count
    }

    /// Deletes compliance entries past the retention period; returns how many.
    @discardableResult
    public func purgeExpiredComplianceEntries() async throws -> Int {
        try await store.purgeCompliance(before: clock.now().addingTimeInterval(-Double(settings.retentionDays) * 86_400))
    }

    /// Gives back this instance's claims on outbox messages and due questions it has not finished
    /// (`QuestionStore.releaseClaims`): for a clean stop, once nothing ticks and the outbox pump has stopped.
    public func releaseClaims() async throws {
        try await store.releaseClaims(now: clock.now())
    }

    /// Deletes outbox messages sent or given up more than `outboxKeepDays` ago; returns how many. The outbox is a
    /// queue, not a record: what was sent to whom is in the compliance log.
    @discardableResult
    public func purgeSentOutbox() async throws -> Int {
        try await store.purgeOutbox(before: clock.now().addingTimeInterval(-Double(Self.outboxKeepDays) * 86_400))
    }

    /// Days a sent (or given-up) outbox message is kept, for looking into a delivery problem.
    public static let outboxKeepDays = 7

    // MARK: - The asker

    /// The question for its asker or an admin; anyone else learns nothing, not even that it exists.
    public func question(_ id: String, by caller: Caller) async throws -> QuestionView {
        var view = try await store.questionView(id, for: Asker(caller), isAdmin: caller.isAdmin)
        view.threadOpenUntil = view.closedAt.map { $0.addingTimeInterval(followUpWindow) }
        return view
    }

    /// The caller's own questions, newest first; the CLI operator asks none.
    public func askedQuestions(by caller: Caller, limit: Int = 20) async throws -> [AskedQuestion] {
        try await askedQuestions(by: caller, page: PageRequest(limit: limit)).items
    }

    /// A page of the caller's own questions, newest first.
    public func askedQuestions(by caller: Caller, page: PageRequest) async throws -> ListPage<AskedQuestion> {
        guard let asker = Asker(caller) else { return ListPage(items: [], next: nil) }
        return try await store.questions(askedBy: asker, page: page)
    }

    /// The asker (or an admin) cancels; every specialist holding it is told.
    public func cancel(_ id: String, by caller: Caller) async throws {
        try await store.cancelQuestion(id, by: Asker(caller), isAdmin: caller.isAdmin, now: clock.now())
        closed(id, .cancelled)
    }

    /// The asker rates a relayed answer.
    public func rate(_ id: String, rank: Int, helpful: Bool, by caller: Caller) async throws {
        try await store.rateAnswer(question: id, rank: rank, helpful: helpful, by: Asker(caller), isAdmin: caller.isAdmin, now: clock.now())
    }

    // MARK: - The specialist

    /// What was delivered to the calling employee.
    public func inbox(of caller: Caller, limit: Int = 100) async throws -> [InboxItem] {
        try await inbox(of: caller, page: PageRequest(limit: limit)).items
    }

    /// A page of what was delivered to the calling employee, newest first.
    public func inbox(of caller: Caller, page: PageRequest) async throws -> ListPage<InboxItem> {
        try await store.inbox(of: try Self.employeeHandle(caller), page: page)
    }

    /// A specialist answers: relayed if among the first K, kept either way.
    public func answer(delivery id: String, text: String, by caller: Caller) async throws -> AnswerOutcome {
        let handle = try Self.employeeHandle(caller)
        let now = clock.now()
        let text = try checkText(text, field: "text")
        if let rule = policy.violation(in: text) {
            try await store.logPolicyViolation(sender: "employee:\(handle)", rule: rule, kind: "answer", now: now)
            throw DirectoryError.policyViolation(rule)
        }
        let result = try await store.recordAnswer(delivery: id, by: handle, text: text, labeling: AnswerLabeling(settings), now: now)
        if let relayed = result.relayed { events.publish(.answer(relayed), question: result.questionID) }
        if result.closedQuestion { closed(result.questionID, .answered) }
        outboxChanged()
        await events.handedOn()
        return result.outcome
    }

    /// A specialist passes; when nobody holding the question is still pending, the next wave goes out now.
    public func pass(delivery id: String, by caller: Caller) async throws {
        let (questionID, nonePending) = try await store.recordPass(delivery: id, by: try Self.employeeHandle(caller), now: clock.now())
        if nonePending { try await runWave(questionID) }
    }

    /// Sets the caller's presence in the embedded `local` IM.
    public func setPresence(_ presence: Presence, by caller: Caller) async throws {
        guard presence != .unknown else { throw DirectoryError.invalidField("status", "must be available, away, busy or offline") }
        try await store.setLocalPresence(presence, of: try Self.employeeHandle(caller), now: clock.now())
    }

    /// Pauses the caller until a time in the future, or resumes them with `nil`.
    public func setPause(until: Date?, by caller: Caller) async throws {
        let now = clock.now()
        if let until, until <= now { throw DirectoryError.invalidField("until", "must be in the future") }
        try await store.setPause(of: try Self.employeeHandle(caller), until: until, now: now)
    }

    // MARK: - Helpers

    func closed(_ id: String, _ reason: CloseReason) {
        events.publish(.closed(reason), question: id)
        outboxChanged()
    }

    func checkText(_ text: String, field: String) throws(DirectoryError) -> String {
        let trimmed = text.trimmingWhitespace()
        guard !trimmed.isEmpty else { throw .invalidField(field, "must not be empty") }
        guard trimmed.count <= settings.maxTextLength else { throw .invalidField(field, "must be at most \(settings.maxTextLength) characters") }
        return trimmed
    }

    static func employeeHandle(_ caller: Caller) throws(DirectoryError) -> String {
        guard let handle = caller.handle else { throw .forbidden("Only employees receive and answer questions.") }
        return handle
    }

    static func name(_ asker: Asker) -> String {
        switch asker {
        case .employee(let handle): "employee:\(handle)"
        case .bot(let name): "bot:\(name)"
        }
    }

    static func checkCallbackURL(_ url: String) throws(DirectoryError) {
        let lower = url.lowercased()
        guard url.count <= 2000, lower.hasPrefix("http://") || lower.hasPrefix("https://"),
            url.dropFirst(lower.hasPrefix("https") ? 8 : 7).first.map({ $0 != "/" }) == true,
            !url.contains(where: \.isWhitespace)
        else { throw .invalidCallbackURL(url) }
    }
}
