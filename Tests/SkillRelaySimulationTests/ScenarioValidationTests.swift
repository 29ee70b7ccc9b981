import Foundation
import SkillRelaySimulation
import Testing

@Suite struct ScenarioValidationTests {
    /// The small scenario with one piece of text replaced.
    static func broken(_ old: String, _ new: String) -> String {
        let json = ScenarioFixtures.small()
        precondition(json.contains(old), "the fixture has no \(old)")
        return json.replacingOccurrences(of: old, with: new)
    }

    static func error(_ json: String) -> SimulationError? {
        do {
            _ = try Scenario.decode(Data(json.utf8))
            return nil
        } catch {
            return error
        }
    }

    @Test func aMissingFieldIsNamedByItsPath() {
        let error = Self.error(Self.broken("\"passProbability\": 0.4, ", ""))
        #expect(error == .scenario(field: "behaviour.passProbability", "is missing"))
    }

    @Test func aShareOutsideZeroToOneIsNamed() {
        #expect(Self.error(Self.broken("\"staleShare\": 0.1", "\"staleShare\": 1.5")) == .scenario(field: "tags.staleShare", "must be from 0 to 1"))
        #expect(
            Self.error(Self.broken("[0.02, 0.15, 0.35, 0.6, 0.8, 0.9]", "[0.02, 0.15, 0.35, 0.6, 0.8, -0.9]"))
                == .scenario(field: "behaviour.answerProbabilityBySkill[5]", "must be from 0 to 1"))
    }

    @Test func aListOfTheWrongLengthIsNamed() {
        #expect(
            Self.error(Self.broken("[0.1, 0.25, 0.3, 0.2, 0.15]", "[0.5, 0.5]")) == .scenario(field: "tags.levelShares", "must hold 5 numbers"))
    }

    @Test func anUnknownPresenceModeIsNamed() {
        let error = Self.error(Self.broken("\"presence\": \"reported\"", "\"presence\": \"sometimes\""))
        guard case .scenario(let field?, _) = error else {
            Issue.record("expected a scenario error, got \(String(describing: error))")
            return
        }
        #expect(field == "presence")
    }

    @Test func aWrongTypeIsNamed() {
        #expect(Self.error(Self.broken("\"people\": 40", "\"people\": \"many\"")) == .scenario(field: "people", "must be a whole number"))
    }

    @Test func schedulesMustAddUpAndHoldRealTimes() {
        #expect(Self.error(Self.broken("\"share\": 0.3", "\"share\": 0.2")) == .scenario(field: "schedules", "shares must add up to 1"))
        #expect(
            Self.error(Self.broken("\"start\": \"09:00\", \"end\": \"17:30\"}\n", "\"start\": \"18:00\", \"end\": \"17:30\"}\n"))
                == .scenario(field: "schedules[1].end", "must be after start"))
        #expect(Self.error(Self.broken("\"end\": \"17:30\"},", "\"end\": \"5pm\"},")) == .scenario(field: "schedules[0].end", "must be HH:MM"))
    }

    @Test func topicSlugsMustBeValidAndUnique() {
        #expect(
            Self.error(Self.broken("{\"slug\": \"tax\"", "{\"slug\": \"swift\""))
                == .scenario(field: "topics[1].children[0].slug", "'swift' appears twice"))
        #expect(
            Self.error(Self.broken("{\"slug\": \"tax\"", "{\"slug\": \"Tax Law\""))
                == .scenario(field: "topics[1].children[0].slug", "'Tax Law' must be lowercase letters, digits and hyphens"))
    }

    @Test func notJSONIsSaidSo() {
        #expect(Self.error("{ nope") == .scenario(field: nil, "is not valid JSON"))
    }
}
