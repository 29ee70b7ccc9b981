import Logging
import ServiceLifecycle
import SkillRelayDomain

/// The question flow's clock: every `interval` it sends due waves, expires questions past their deadline, drains the
/// outbox and, once an hour, purges the compliance log past its retention and the outbox of messages sent a week ago.
/// Everything it acts on is in the database, so after a restart it picks up exactly where the last process stopped.
public struct QuestionWorker: Service {
    let questions: QuestionService
    let pump: OutboxPump
    let interval: Duration
    let logger: Logger

    public init(questions: QuestionService, pump: OutboxPump, interval: Duration = .milliseconds(500), logger: Logger) {
        self.questions = questions
        self.pump = pump
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await loop() }
        // Open event streams would keep their responses (and so the server) alive: end them.
        questions.eventStreams.finishAll()
    }

    private func loop() async {
        let clock = ContinuousClock()
        var lastPurge: ContinuousClock.Instant?
        while !Task.isCancelled {
            do {
                try await questions.tick()
            } catch is CancellationError {
                // Stopping: the database call was cancelled, nothing failed.
            } catch {
                logger.error("question tick failed", metadata: ["skillrelay.error": "\(error)"])
            }
            await pump.kick()
            if let error = await pump.takeLastError(), !(error is CancellationError) {
                logger.warning("outbox drain failed", metadata: ["skillrelay.error": "\(error)"])
            }
            if lastPurge.map({ $0.duration(to: clock.now) >= .seconds(3600) }) ?? true {
                do {
                    let purged = try await questions.purgeExpiredComplianceEntries()
                    if purged > 0 { logger.info("compliance log purged", metadata: ["skillrelay.purged": "\(purged)"]) }
                    let sent = try await questions.purgeSentOutbox()
                    if sent > 0 { logger.info("sent outbox messages purged", metadata: ["skillrelay.purged": "\(sent)"]) }
                } catch is CancellationError {
                    // Stopping.
                } catch {
                    logger.error("compliance or outbox purge failed", metadata: ["skillrelay.error": "\(error)"])
                }
                lastPurge = clock.now
            }
            try? await Task.sleep(for: interval)
        }
    }
}

extension QuestionWorker: CustomStringConvertible {
    /// How logs name the service.
    public var description: String { "QuestionWorker" }
}
