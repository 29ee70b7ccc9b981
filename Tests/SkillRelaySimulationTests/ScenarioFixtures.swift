import Foundation
import SkillRelaySimulation
import SkillRelayTestSupport

/// Small scenarios for fast tests, as JSON a user would write.
enum ScenarioFixtures {
    /// A company small enough to simulate in well under a second a day.
    static func small(people: Int = 40, presence: String = "reported", questionsPerDay: Double = 1) -> String {
        """
        {
          "name": "small", "people": \(people), "managerSpan": 5,
          "topics": [
            {"slug": "software", "name": "Software", "children": [{"slug": "swift", "name": "Swift"}, {"slug": "python", "name": "Python"}]},
            {"slug": "finance", "name": "Finance", "children": [{"slug": "tax", "name": "Tax"}, {"slug": "payroll", "name": "Payroll"}]}
          ],
          "topicPopularityZipf": 1.0,
          "schedules": [
            {"share": 0.7, "utcOffsetHours": 1, "start": "09:00", "end": "17:30"},
            {"share": 0.3, "utcOffsetHours": -5, "start": "09:00", "end": "17:30"}
          ],
          "meetingBusyShare": 0.2, "awayShare": 0.1, "presence": "\(presence)",
          "tags": {"specialistShare": 0.5, "tagsPerSpecialistMin": 1, "tagsPerSpecialistMax": 3, "tagPopularityFollow": 0.5,
            "levelShares": [0.1, 0.25, 0.3, 0.2, 0.15], "overTaggedShare": 0.15, "staleShare": 0.1, "untaggedExpertShare": 0.15,
            "selfDeclaredNoiseShare": 0.1, "skillNoise": 0.5},
          "behaviour": {"answerProbabilityBySkill": [0.02, 0.15, 0.35, 0.6, 0.8, 0.9], "loadPenaltyPerDelivery": 0.1,
            "recentInterruptionMinutes": 15, "recentInterruptionPenalty": 0.3, "answerDelayMedianSeconds": 180, "answerDelaySpread": 0.8,
            "meetingDelayFactor": 4, "passProbability": 0.4, "passDelayMedianSeconds": 60,
            "helpfulProbabilityBySkill": [0.05, 0.3, 0.5, 0.7, 0.85, 0.92], "ratingProbability": 0.5, "questionsPerPersonPerDay": \(questionsPerDay)}
        }
        """
    }

    /// Two people, both tagged at level 5 with the one topic and truly expert in it, always at their desks, who always
    /// answer helpfully exactly 60 seconds after a question arrives: each one's questions can go only to the other.
    static let twoExperts = SimulationFixtures.twoExperts

    static func scenario(_ json: String) throws -> Scenario { try Scenario.decode(Data(json.utf8)) }
}
