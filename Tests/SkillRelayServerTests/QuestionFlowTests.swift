import Foundation
import Hummingbird
import HummingbirdTesting
import SkillRelayDomain
import SkillRelayLocalIM
import SkillRelayStore
import SkillRelayTestSupport
import Testing

/// The question's life through the service, on the embedded `local` IM, with the clock in the test's hands.
@Suite struct QuestionFlowTests {
    static func settings(waveSize: Int = 5, maxWaves: Int = 3, allowAway: Bool = false) -> QuestionSettings {
        var settings = Fixture.settings
        settings.waveSize = waveSize
        settings.maxWaves = maxWaves
        settings.allowAwayInLaterWaves = allowAway
        // The waves' mechanics, with the order and the wave size fixed by the tags; the learned routing is tested in
        // RoutingEstimatorTests and RoutingStatsTests.
        settings.routing = .static
        return settings
    }

    func ask(_ fixture: Fixture, as handle: String = "boss", text: String = "How do I drain a node safely?", maxAnswers: Int? = nil)
        async throws -> QuestionService.Asked
    {
        try await fixture.questions.ask(QuestionDraft(asker: .employee(handle), topic: "k8s", text: text, maxAnswers: maxAnswers))
    }

    func inbox(_ fixture: Fixture, _ handle: String) async throws -> [InboxItem] {
        try await fixture.questions.inbox(of: try await fixture.caller(handle))
    }

    @Test func theFirstWaveGoesOnlyToAvailableSpecialists() async throws {
        let fixture = try await Fixture.make()
        _ = try await fixture.addSpecialists(7, presence: .offline)
        let presence: [Presence] = [.available, .available, .available, .away, .busy, .offline]
        for (index, status) in presence.enumerated() {
            try await fixture.questionStore.setLocalPresence(status, of: String(format: "kube.specialist.%02d", index + 1), now: fixture.clock.now())
        }
        let asked = try await ask(fixture)
        #expect(asked.deliveredTo == 3)
        for index in 1...3 { #expect(try await inbox(fixture, String(format: "kube.specialist.%02d", index)).count == 1) }
        // away, busy, offline, and the one who never set a presence (offline in the local IM) got nothing
        for index in 4...7 { #expect(try await inbox(fixture, String(format: "kube.specialist.%02d", index)).isEmpty) }
    }

    @Test func wavesFollowTheIntervalUntilTheyRunOutAndTheQuestionExpiresAtItsDeadline() async throws {
        let fixture = try await Fixture.make(settings: Self.settings(waveSize: 2, maxWaves: 3))
        _ = try await fixture.addSpecialists(8)
        let asked = try await ask(fixture, maxAnswers: 3)
        let caller = try await fixture.caller("boss")
        #expect(asked.deliveredTo == 2)
        fixture.clock.advance(by: 119)
        try await fixture.questions.tick()
        #expect(try await fixture.questions.question(asked.id, by: caller).deliveredTo == 2)
        fixture.clock.advance(by: 1)
        try await fixture.questions.tick()
        #expect(try await fixture.questions.question(asked.id, by: caller).deliveredTo == 4)
        fixture.clock.advance(by: 120)
        try await fixture.questions.tick()
        #expect(try await fixture.questions.question(asked.id, by: caller).deliveredTo == 6)
        fixture.clock.advance(by: 120)
        try await fixture.questions.tick()
        let afterWaves = try await fixture.questions.question(asked.id, by: caller)
        #expect(afterWaves.deliveredTo == 6 && afterWaves.waves == 3 && afterWaves.status == .open)
        fixture.clock.advance(by: 1800 - 360)
        try await fixture.questions.tick()
        #expect(try await fixture.questions.question(asked.id, by: caller).status == .expired)
        #expect(try await inbox(fixture, "kube.specialist.01").first?.state == .closed)
    }

    @Test func withNobodyAvailableTheQuestionStaysOpenAndIsRetriedEachInterval() async throws {
        let fixture = try await Fixture.make()
        _ = try await fixture.addSpecialists(2, presence: .offline)
        let asked = try await ask(fixture)
        #expect(asked.deliveredTo == 0 && asked.status == .open)
        try await fixture.questionStore.setLocalPresence(.available, of: "kube.specialist.02", now: fixture.clock.now())
        fixture.clock.advance(by: 120)
        try await fixture.questions.tick()
        let view = try await fixture.questions.question(asked.id, by: try await fixture.caller("boss"))
        #expect(view.deliveredTo == 1 && view.waves == 1)
    }

    @Test func awayPeopleGetLaterWavesOnlyWhenThePolicySaysSo() async throws {
        for allowAway in [false, true] {
            let fixture = try await Fixture.make(settings: Self.settings(waveSize: 1, allowAway: allowAway))
            _ = try await fixture.addSpecialists(2)
            try await fixture.questionStore.setLocalPresence(.away, of: "kube.specialist.02", now: fixture.clock.now())
            let asked = try await ask(fixture)
            fixture.clock.advance(by: 120)
            try await fixture.questions.tick()
            let view = try await fixture.questions.question(asked.id, by: try await fixture.caller("boss"))
            #expect(view.deliveredTo == (allowAway ? 2 : 1))
        }
    }

    @Test func theFirstKAnswersAreRelayedInArrivalOrderAndLaterOnesKept() async throws {
        let fixture = try await Fixture.make()
        _ = try await fixture.addSpecialists(3)
        let asked = try await ask(fixture, maxAnswers: 2)
        var outcomes: [AnswerOutcome] = []
        for index in [2, 1, 3] {
            let handle = String(format: "kube.specialist.%02d", index)
            let delivery = try #require(try await inbox(fixture, handle).first)
            outcomes.append(
                try await fixture.questions.answer(delivery: delivery.id, text: "answer from \(index)", by: try await fixture.caller(handle)))
        }
        #expect(outcomes == [.relayed(rank: 1), .relayed(rank: 2), .alreadyAnswered])
        let view = try await fixture.questions.question(asked.id, by: try await fixture.caller("boss"))
        #expect(view.status == .answered)
        #expect(view.answers.map(\.text) == ["answer from 2", "answer from 1"])
        #expect(view.answers.map(\.rank) == [1, 2])
        // Three people could have answered, fewer than k (5): the label tells nothing about which.
        #expect(view.answers.allSatisfy { $0.alias.hasPrefix("specialist ") && $0.label == .specialist }, "\(view.answers.map(\.label))")
        let kept = try await fixture.questionStore.complianceEntries(since: .distantPast, until: nil).filter { $0.kind == "answer" }
        #expect(kept.count == 3)
    }

    @Test func exactlyKOfTwentySimultaneousAnswersAreRelayed() async throws {
        let file = ScratchSQLiteFile("skillrelay-race")
        defer { file.remove() }
        let path = file.path
        let fixture = try await Fixture.make(settings: Self.settings(waveSize: 20), path: path)
        _ = try await fixture.addSpecialists(20)
        let asked = try await ask(fixture, maxAnswers: 3)
        #expect(asked.deliveredTo == 20)
        var answerers: [(Caller, String)] = []
        for index in 1...20 {
            let handle = String(format: "kube.specialist.%02d", index)
            answerers.append((try await fixture.caller(handle), try #require(try await inbox(fixture, handle).first).id))
        }
        let outcomes = try await withThrowingTaskGroup(of: AnswerOutcome.self) { group in
            for (caller, delivery) in answerers {
                group.addTask { try await fixture.questions.answer(delivery: delivery, text: "mine", by: caller) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let ranks = outcomes.compactMap { if case .relayed(let rank) = $0 { rank } else { nil } }
        #expect(ranks.sorted() == [1, 2, 3])
        #expect(outcomes.filter { $0 == .alreadyAnswered }.count == 17)
        let view = try await fixture.questions.question(asked.id, by: try await fixture.caller("boss"))
        #expect(view.answers.map(\.rank) == [1, 2, 3] && view.status == .answered)
        // Every holder who had not answered first is told it closed; nobody is left pending.
        for (caller, _) in answerers {
            #expect(try await fixture.questions.inbox(of: caller).allSatisfy { $0.state == .answered })
        }
    }

    @Test func cancellingClosesAndTellsEveryHolder() async throws {
        let fixture = try await Fixture.make()
        _ = try await fixture.addSpecialists(2)
        let live = fixture.questions.eventStreams.inboxEvents(handle: "kube.specialist.01")
        let asked = try await ask(fixture)
        try await fixture.questions.cancel(asked.id, by: try await fixture.caller("boss"))
        await fixture.pump.flush()
        var events: [InboxEvent] = []
        for await event in live {
            events.append(event)
            if events.count == 2 { break }
        }
        guard case .delivered(let item) = events.first, case .closed(let closedID, .cancelled) = events.last else {
            Issue.record("unexpected inbox events \(events)")
            return
        }
        #expect(item.id == closedID)
        #expect(try await inbox(fixture, "kube.specialist.02").first?.state == .closed)
        await #expect(throws: DirectoryError.questionClosed(asked.id)) {
            try await fixture.questions.cancel(asked.id, by: try await fixture.caller("boss"))
        }
    }

    @Test func passingLetsTheNextWaveGoOutAtOnce() async throws {
        let fixture = try await Fixture.make(settings: Self.settings(waveSize: 1))
        _ = try await fixture.addSpecialists(2)
        let asked = try await ask(fixture)
        let first = try #require(try await inbox(fixture, "kube.specialist.01").first)
        try await fixture.questions.pass(delivery: first.id, by: try await fixture.caller("kube.specialist.01"))
        #expect(try await inbox(fixture, "kube.specialist.02").count == 1)
        #expect(try await fixture.questions.question(asked.id, by: try await fixture.caller("boss")).waves == 2)
    }

    @Test func pausedSpecialistsAndThoseOverTheirHourlyBudgetAreSkipped() async throws {
        var settings = Self.settings(waveSize: 1)
        settings.hourlyBudget = 1
        let fixture = try await Fixture.make(settings: settings)
        _ = try await fixture.addSpecialists(3)
        let first = try await fixture.caller("kube.specialist.01")
        try await fixture.questions.setPause(until: fixture.clock.now().addingTimeInterval(3600), by: first)
        _ = try await ask(fixture, text: "first question")
        #expect(try await inbox(fixture, "kube.specialist.01").isEmpty)
        #expect(try await inbox(fixture, "kube.specialist.02").count == 1)
        // kube.specialist.02 used their budget: the next question goes to 03.
        _ = try await ask(fixture, text: "second question")
        #expect(try await inbox(fixture, "kube.specialist.02").count == 1)
        #expect(try await inbox(fixture, "kube.specialist.03").count == 1)
        try await fixture.questions.setPause(until: nil, by: first)
        _ = try await ask(fixture, text: "third question")
        #expect(try await inbox(fixture, "kube.specialist.01").count == 1)
    }

    @Test func ratingsFeedTheSpecialistsRecord() async throws {
        let fixture = try await Fixture.make()
        _ = try await fixture.addSpecialists(1)
        let asked = try await ask(fixture, maxAnswers: 1)
        let delivery = try #require(try await inbox(fixture, "kube.specialist.01").first)
        _ = try await fixture.questions.answer(delivery: delivery.id, text: "yes", by: try await fixture.caller("kube.specialist.01"))
        try await fixture.questions.rate(asked.id, rank: 1, helpful: true, by: try await fixture.caller("boss"))
        let record = try #require(
            try await fixture.questionStore.candidates(CandidateQuery(topic: "kubernetes"), now: fixture.clock.now()).first {
                $0.handle == "kube.specialist.01"
            }?
            .record)
        #expect(record == AnswerRecord(delivered: 1, answered: 1, helpful: 1, unhelpful: 0))
        try await fixture.questions.rate(asked.id, rank: 1, helpful: false, by: try await fixture.caller("boss"))
        let changed = try #require(
            try await fixture.questionStore.candidates(CandidateQuery(topic: "kubernetes"), now: fixture.clock.now()).first {
                $0.handle == "kube.specialist.01"
            }?
            .record)
        #expect(changed == AnswerRecord(delivered: 1, answered: 1, helpful: 0, unhelpful: 1))
        await #expect(throws: DirectoryError.answerNotFound(2)) {
            try await fixture.questions.rate(asked.id, rank: 2, helpful: true, by: try await fixture.caller("boss"))
        }
        await #expect(throws: DirectoryError.questionNotFound(asked.id)) {
            try await fixture.questions.rate(asked.id, rank: 1, helpful: true, by: try await fixture.caller("p"))
        }
    }

    @Test func aRestartedServiceResumesWavesAndExpiryFromTheDatabase() async throws {
        let file = ScratchSQLiteFile("skillrelay-restart")
        defer { file.remove() }
        let path = file.path
        let before = try await Fixture.make(settings: Self.settings(waveSize: 1), path: path)
        _ = try await before.addSpecialists(2)
        let asked = try await ask(before)
        // A new service on the same file, as after a restart, two minutes later.
        let clock = before.clock
        clock.advance(by: 120)
        let database = try AppDatabase.open(path: path)
        let store = SQLiteQuestionStore(database: database, clock: clock)
        let after = try QuestionService(store: store, presence: LocalPresenceSource(store: store), settings: Self.settings(waveSize: 1), clock: clock)
        try await after.tick()
        let caller = try await before.caller("boss")
        #expect(try await after.question(asked.id, by: caller).deliveredTo == 2)
        clock.advance(by: 1800)
        try await after.tick()
        #expect(try await after.question(asked.id, by: caller).status == .expired)
    }
}
