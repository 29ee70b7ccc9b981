import Logging
import ServiceLifecycle
import SkillRelayDomain

/// Finds out, at start and every `interval`, whether the IM server really reports presence, and says so loudly when it
/// does not: some homeservers switch presence off (Synapse's `presence.enabled: false`) and then call everyone offline,
/// so that routing by presence would reach nobody. Where the answer is `unknown` (the server could not be asked), it asks
/// again after `retryInterval`.
public struct PresenceProbeService: Service {
    let questions: QuestionService
    let interval: Duration
    let retryInterval: Duration
    let logger: Logger

    public init(questions: QuestionService, interval: Duration = .seconds(300), retryInterval: Duration = .seconds(30), logger: Logger) {
        self.questions = questions
        self.interval = interval
        self.retryInterval = retryInterval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await loop() }
    }

    private func loop() async {
        while !Task.isCancelled {
            let (reporting, previous) = await questions.probePresenceReporting()
            if Task.isCancelled { return }
            if let previous { log(reporting, previous: previous) }
            try? await Task.sleep(for: reporting == .unknown ? retryInterval : interval)
        }
    }

    /// Once per change: a warning while presence is missing or unknown, a notice when it is back.
    private func log(_ reporting: PresenceReporting, previous: PresenceReporting?) {
        let metadata: Logger.Metadata = [
            "skillrelay.presence.reporting": "\(reporting)", "skillrelay.presence.previous": "\(previous.map { "\($0)" } ?? "none")",
        ]
        switch reporting {
        case .reported:
            logger.notice("the IM server reports presence: questions go to people it shows as available", metadata: metadata)
        case .notReported:
            logger.warning(
                """
                THE IM SERVER DOES NOT REPORT PRESENCE (it calls everyone offline; on Synapse, presence.enabled is false): \
                availability is decided by each person's working hours and their recent activity in the bot's rooms instead
                """, metadata: metadata)
        case .unknown:
            logger.warning(
                """
                could not find out whether the IM server reports presence (it did not answer): until it does, availability is \
                decided by working hours and recent activity in the IM, as if it did not
                """, metadata: metadata)
        }
    }
}
