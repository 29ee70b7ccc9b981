import Logging
import ServiceLifecycle
import SkillRelayDomain

/// The question flow's clock: every `interval` it sends due waves, expires questions past their deadline, drains the
/// outbox and, once an hour, purges the compliance log past its retention and the outbox of messages sent a week ago.
/// Everything it acts on is in the database, so after a restart it picks up exactly where the last process stopped.
///
/// Stopped cleanly (SIGTERM, SIGINT), it leaves nothing half done: the messages being sent go out (or are cut off after
/// `stopGrace`), what was sent is recorded, so that nothing is sent twice by whoever takes the outbox up next, and the
/// claims on the rest go back to the database at once, so that other instances do not wait for their leases to end.
public struct QuestionWorker: Service {
    let questions: QuestionService
    let pump: OutboxPump
    let interval: Duration
    let stopGrace: Duration
    let logger: Logger

    public init(
        questions: QuestionService, pump: OutboxPump, interval: Duration = .milliseconds(500), stopGrace: Duration = .seconds(5),
        logger: Logger
    ) {
        self.questions = questions
        self.pump = pump
        self.interval = interval
        self.stopGrace = stopGrace
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await loop() }
        await stop()
        // Open event streams would keep their responses (and so the server) alive: end them.
        questions.eventStreams.finishAll()
    }

    /// After the last tick: the outbox pump stops, then the claims left go back.
    private func stop() async {
        do {
            try await pump.stop(grace: stopGrace)
            try await questions.releaseClaims()
        } catch {
            logger.warning(
                "stopping: what the outbox sent could not be recorded, or its claims given back; they lapse after their lease",
                metadata: ["skillrelay.error": "\(error)"])
        }
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
                // Each on its own: one failing does not keep the other from running, and the log says which failed.
                await purge("compliance log", questions.purgeExpiredComplianceEntries)
                await purge("sent outbox messages", questions.purgeSentOutbox)
                lastPurge = clock.now
            }
            try? await Task.sleep(for: interval)
        }
    }
}

extension QuestionWorker {
    /// Runs one hourly purge and logs what it deleted, or why it failed.
    fileprivate func purge(_ what: String, _ run: () async throws -> Int) async {
        do {
            let purged = try await run()
            if purged > 0 { logger.info("\(what) purged", metadata: ["skillrelay.purged": "\(purged)"]) }
        } catch is CancellationError {
            // Stopping.
        } catch {
            logger.error("\(what) purge failed", metadata: ["skillrelay.error": "\(error)"])
        }
    }
}

extension QuestionWorker: CustomStringConvertible {
    /// How logs name the service.
    public var description: String { "QuestionWorker" }
}
