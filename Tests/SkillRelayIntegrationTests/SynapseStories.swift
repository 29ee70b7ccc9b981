import Testing

/// Every story on the test Synapse, one after another: they share its users, and a user's presence is the same for
/// every SkillRelay that asks, so two stories side by side would set each other's specialists online or offline.
@Suite(.serialized, .enabled(if: SynapseEnvironment.isRunning, "needs a running test Synapse: Scripts/synapse.sh up --stock"))
enum SynapseStories {}
