import Foundation
import SkillRelayTestSupport
import Testing

/// `skillrelay simulate` as a user runs it.
@Suite struct SimulateCommandTests {
    /// Two experts who answer each other's questions in a minute: a day of it runs in well under a second.
    static let scenario = SimulationFixtures.twoExperts

    static func write(_ text: String, in scratch: CLITests.Scratch) throws -> String {
        let path = scratch.url.appendingPathComponent("scenario.json").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func jsonPrintsOneObjectWithTheAgreedKeysAndNothingElse() throws {
        let scratch = try CLITests.Scratch()
        let file = try Self.write(Self.scenario, in: scratch)
        let result = try CLITests.run(["simulate", "--scenario", file, "--days", "1", "--seed", "5", "--routing", "static", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        // Standard error is not a terminal here: no progress bar.
        #expect(result.stderr.isEmpty, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object.count == 14)
        #expect(object["answeredRatio"] as? Double == 1)
        #expect(object["firstAnswerMedianSeconds"] as? Double == 60)
        #expect(object["seed"] as? Int == 5)
        #expect(object["days"] as? Int == 1)
        #expect(object["routing"] as? String == "static")
        // The same flags, the same bytes.
        #expect(
            try CLITests.run(["simulate", "--scenario", file, "--days", "1", "--seed", "5", "--routing", "static", "--json"]).stdout == result.stdout)
    }

    @Test func withoutJSONItPrintsATable() throws {
        let scratch = try CLITests.Scratch()
        let file = try Self.write(Self.scenario, in: scratch)
        let result = try CLITests.run(["simulate", "--scenario", file, "--days", "1", "--routing", "learned"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("answeredRatio"))
        #expect(result.stdout.contains("routing                            learned"), "\(result.stdout)")
    }

    @Test func badFlagsAreRefusedByName() throws {
        let scratch = try CLITests.Scratch()
        let file = try Self.write(Self.scenario, in: scratch)
        let days = try CLITests.run(["simulate", "--scenario", file, "--days", "0"])
        #expect(days.status != 0)
        #expect(days.stderr.contains("--days must be from 1 to 260"), "\(days.stderr)")
        let routing = try CLITests.run(["simulate", "--scenario", file, "--routing", "clever"])
        #expect(routing.status != 0)
        #expect(routing.stderr.contains("--routing must be static or learned"), "\(routing.stderr)")
        let seed = try CLITests.run(["simulate", "--scenario", file, "--seed", "-1"])
        #expect(seed.status != 0)
    }

    @Test func aBadScenarioIsRefusedNamingTheField() throws {
        let scratch = try CLITests.Scratch()
        let file = try Self.write(Self.scenario.replacingOccurrences(of: "\"ratingProbability\": 1", with: "\"ratingProbability\": 2"), in: scratch)
        let result = try CLITests.run(["simulate", "--scenario", file, "--days", "1"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("scenario field 'behaviour.ratingProbability' must be from 0 to 1"), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
        let missing = try CLITests.run(["simulate", "--scenario", scratch.url.appendingPathComponent("nope.json").path])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("cannot read"), "\(missing.stderr)")
    }
}
