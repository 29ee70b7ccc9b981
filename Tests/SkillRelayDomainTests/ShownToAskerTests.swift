import Foundation
import Testing

@testable import SkillRelayDomain

/// What an asker's stream has shown, read against the question read again: only what is new, each once.
@Suite struct ShownToAskerTests {
    static let when = Date(timeIntervalSince1970: 1_800_000_000)

    static func answer(_ rank: Int) -> RelayedAnswer {
        RelayedAnswer(
            rank: rank, alias: "specialist \(rank)", label: AnswererLabel(topic: "kubernetes", level: nil, band: nil), text: "Answer \(rank).",
            receivedAt: when, helpful: nil)
    }

    static func view(status: QuestionStatus = .open, waves: Int, answers: [Int], reveals: [Int: RevealView] = [:]) -> QuestionView {
        QuestionView(
            id: "q-1", status: status, topic: TopicReference(slug: "kubernetes", name: "Kubernetes"), text: "How?", maxAnswers: 3,
            deliveredTo: 2 * waves, waves: waves, createdAt: when, expiresAt: when.addingTimeInterval(3600), closedAt: nil,
            answers: answers.map(answer), reveals: reveals)
    }

    @Test func aQuestionReadAgainShowsWhatIsNewOnceAndAnOfferThatNoLongerStandsAsNone() {
        var shown = ShownToAsker(waves: 1)
        let offered = RevealView(state: .invited)
        let past = shown.news(in: Self.view(waves: 1, answers: [1], reveals: [1: offered]))
        #expect(past == [.answer(Self.answer(1)), .reveal(rank: 1, offered)])
        // Live: the second answer, then the same again (a repeat is not news).
        let second = shown.isNew(.answer(Self.answer(2)))
        let again = shown.isNew(.answer(Self.answer(2)))
        #expect(second && !again)
        // Read again after a gap: a wave, a third answer, the offer withdrawn (no longer among the reveals), the closing.
        let later = Self.view(status: .answered, waves: 2, answers: [1, 2, 3])
        let missed = shown.news(in: later)
        #expect(missed == [.wave(number: 2, deliveredTo: 4), .answer(Self.answer(3)), .reveal(rank: 1, RevealView.none), .closed(.answered)])
        let readOnceMore = shown.news(in: later)
        let closedAgain = shown.isNew(.closed(.answered))
        #expect(readOnceMore.isEmpty && !closedAgain)
    }

    /// A follow-up shown live carries the clock's time; read again from a store, the same message has it to the
    /// millisecond (SQLite) or microsecond (PostgreSQL). It is the same message, not news; another is.
    @Test func aFollowUpShownLiveIsNotNewsWhenReadAgainWithItsTimeAsStored() {
        var shown = ShownToAsker(waves: 1)
        let sent = Self.when.addingTimeInterval(61.000_456_789)
        let live = FollowUp(rank: 1, from: .specialist, alias: "specialist 1", text: "Did that help?", sentAt: sent)
        let first = shown.isNew(.followUp(live))
        #expect(first)
        let stored = Date(timeIntervalSince1970: (sent.timeIntervalSince1970 * 1000).rounded() / 1000)
        #expect(stored != sent)
        var readAgain = Self.view(waves: 1, answers: [])
        let reply = FollowUp(rank: 1, from: .specialist, alias: "specialist 1", text: "Did that help?", sentAt: stored.addingTimeInterval(90))
        readAgain.followUps = [FollowUp(rank: 1, from: .specialist, alias: "specialist 1", text: "Did that help?", sentAt: stored), reply]
        let news = shown.news(in: readAgain)
        #expect(news == [.followUp(reply)])
    }
}
