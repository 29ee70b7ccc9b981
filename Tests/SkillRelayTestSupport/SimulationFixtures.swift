/// Scenario files shared by the simulation's tests and the CLI's.
public enum SimulationFixtures {
    /// Two people, both tagged at level 5 with the one topic and truly expert in it, always at their desks, who always
    /// answer helpfully exactly 60 seconds after a question arrives: each one's questions can go only to the other.
    public static let twoExperts = """
        {
          "name": "two experts", "people": 2, "managerSpan": 5,
          "topics": [{"slug": "kubernetes", "name": "Kubernetes"}],
          "topicPopularityZipf": 0,
          "schedules": [{"share": 1, "utcOffsetHours": 0, "start": "09:00", "end": "17:00"}],
          "meetingBusyShare": 0, "awayShare": 0, "presence": "reported",
          "tags": {"specialistShare": 1, "tagsPerSpecialistMin": 1, "tagsPerSpecialistMax": 1, "tagPopularityFollow": 0,
            "levelShares": [0, 0, 0, 0, 1], "overTaggedShare": 0, "staleShare": 0, "untaggedExpertShare": 0,
            "selfDeclaredNoiseShare": 0, "skillNoise": 0},
          "behaviour": {"answerProbabilityBySkill": [1, 1, 1, 1, 1, 1], "loadPenaltyPerDelivery": 0,
            "recentInterruptionMinutes": 0, "recentInterruptionPenalty": 0, "answerDelayMedianSeconds": 60, "answerDelaySpread": 0,
            "meetingDelayFactor": 1, "passProbability": 0, "passDelayMedianSeconds": 60,
            "helpfulProbabilityBySkill": [1, 1, 1, 1, 1, 1], "ratingProbability": 1, "questionsPerPersonPerDay": 3}
        }
        """
}
