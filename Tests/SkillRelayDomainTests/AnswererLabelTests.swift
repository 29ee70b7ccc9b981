import Foundation
import SkillRelayDomain
import Testing

/// How precisely an answerer's level is shown, by how many people could have answered at each level.
@Suite struct AnswererLabelTests {
    /// Every label given, over every level someone holds, fits at least `k` people, unless fewer than `k` exist at all.
    func expectEveryGroupHoldsK(_ people: [Int: Int], k: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        let groups = AnswererLabel.groups(people: people, k: k)
        var sizes: [AnswererLabel.Precision: Int] = [:]
        for (level, count) in people where count > 0 {
            let precision: AnswererLabel.Precision = groups[level] ?? .none
            sizes[precision, default: 0] += count
        }
        let total = people.values.reduce(0, +)
        for (precision, size) in sizes {
            #expect(size >= min(k, total), "\(precision) holds \(size)", sourceLocation: sourceLocation)
            if precision != .none { #expect(size >= k, sourceLocation: sourceLocation) }
        }
    }

    @Test func aLevelHeldByAtLeastKPeopleIsShownExactly() {
        let label = AnswererLabel.choose(topic: "kubernetes", level: 4, people: [4: 5, 5: 6], k: 5)
        #expect(label == AnswererLabel(topic: "kubernetes", level: 4, band: nil))
        #expect(label.text == "kubernetes, level 4")
    }

    @Test func kOfOneShowsEveryLevelExactly() {
        for level in 1...5 {
            #expect(AnswererLabel.precision(for: level, people: [level: 1], k: 1) == .level(level))
        }
    }

    @Test func twoThinLevelsShareTheirBand() {
        // Three at level 4 and three at level 5: neither alone hides anyone, together they are six.
        let people = [4: 3, 5: 3]
        #expect(AnswererLabel.precision(for: 4, people: people, k: 5) == .band(.expert))
        #expect(AnswererLabel.precision(for: 5, people: people, k: 5) == .band(.expert))
        #expect(AnswererLabel.choose(topic: "go", level: 5, people: people, k: 5).text == "go, expert (level 4–5)")
    }

    @Test func aThinLevelBesideAFullOneDoesNotGetABandOfItsOwn() {
        // Ten at level 4, three at level 5: "expert" said only of the three would name one of three. Level 4 gives up
        // its exact label so that expert holds all thirteen.
        let people = [4: 10, 5: 3]
        #expect(AnswererLabel.precision(for: 5, people: people, k: 5) == .band(.expert))
        #expect(AnswererLabel.precision(for: 4, people: people, k: 5) == .band(.expert))
        expectEveryGroupHoldsK(people, k: 5)
    }

    @Test func levelThreeJoinsTheExpertsAsExperienced() {
        // Two at level 3, two at 4, two at 5: only "experienced" (3–5) holds five.
        let people = [3: 2, 4: 2, 5: 2]
        for level in 3...5 { #expect(AnswererLabel.precision(for: level, people: people, k: 5) == .band(.experienced)) }
        #expect(AnswererLabel.choose(topic: "go", level: 3, people: people, k: 5).text == "go, experienced (level 3–5)")
    }

    @Test func tooFewPeopleInAllSayOnlyASpecialist() {
        let label = AnswererLabel.choose(topic: "cobol", level: 5, people: [5: 1, 2: 2], k: 5)
        #expect(label == .specialist)
        #expect(label.text == "a specialist")
        #expect(!label.isDetailed)
    }

    @Test func aLowLevelLeftOverPullsTheSmallestGroupIn() {
        // Six at level 5 form a group; the two at level 1 fit nowhere, so the smallest group joins them at the top.
        let people = [1: 2, 5: 6, 3: 7]
        let groups = AnswererLabel.groups(people: people, k: 5)
        #expect(groups[1] == AnswererLabel.Precision.none)
        #expect(groups[5] == AnswererLabel.Precision.none)
        #expect(groups[3] == .level(3))
        expectEveryGroupHoldsK(people, k: 5)
    }

    @Test func everyDistributionOfUpToTwelvePeopleKeepsKTogether() {
        // Every way of putting up to 12 people on five levels (counts 0…4 each, bounded), for k from 1 to 6.
        for k in 1...6 {
            for code in 0..<3125 {
                var rest = code
                var people: [Int: Int] = [:]
                for level in 1...5 {
                    people[level] = rest % 5
                    rest /= 5
                }
                expectEveryGroupHoldsK(people, k: k)
            }
        }
    }

    @Test func labelsOfAnswersQueuedBeforeLabelsStillDecode() throws {
        let old = #"{"rank":1,"alias":"specialist 2","topic":"kubernetes","level":4,"text":"Drain it.","receivedAt":0}"#
        let answer = try JSONDecoder().decode(RelayedAnswer.self, from: Data(old.utf8))
        #expect(answer.label == AnswererLabel(topic: "kubernetes", level: 4, band: nil))
        let again = try JSONDecoder().decode(RelayedAnswer.self, from: JSONEncoder().encode(answer))
        #expect(again == answer)
    }
}
