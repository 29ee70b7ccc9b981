import Logging
import PostgresNIO
import Synchronization

/// The pool's keep-alive for the connections it keeps open, done by SkillRelay rather than by postgres-nio.
///
/// postgres-nio's own keep-alive schedules a timer each time a connection goes back into the pool and cancels it when
/// the connection is next taken out: three tasks, a task group and a clock sleep for every statement, some 30-45 µs of
/// a statement's 150-500 µs on this machine (BENCHMARKS.md, "the pool schedules no timers"). So the pool runs without it, with
/// every connection kept open (no idle timers either), and this asks each of them `SELECT 1` every `interval`
/// instead: what keeps a quiet connection alive through firewalls, and finds one that stopped answering (its server
/// gone without a word, a network that drops it silently). Such a connection is closed, which ends whatever was
/// waiting on it, and the pool opens another in its place; without the check, the first request to take it out in the
/// morning would wait until TCP gave up, a quarter of an hour.
///
/// A round takes every connection the pool keeps out at once, so that each is a different one (the pool hands out the
/// first free one, and those it keeps open come first), and holds each only until the others are out too, and for no
/// longer than `gathering` from the round's start: a connection in use is not asked (it is answering, or its request
/// will see), and a request never waits on the heartbeat for longer than that, once a round.
public struct PoolHeartbeat: Sendable {
    public struct Timing: Sendable {
        /// Between two rounds of asking every connection.
        var interval: Duration
        /// How long a connection may take to answer before it is closed.
        var answerWithin: Duration

        public static let standard = Timing(interval: .seconds(30), answerWithin: .seconds(10))

        public init(interval: Duration, answerWithin: Duration) {
            self.interval = interval
            self.answerWithin = answerWithin
        }
    }

    let client: PostgresClient
    let connections: Int
    let timing: Timing
    let logger: Logger
    /// How long after a round starts its connections are taken out and held: a free connection is handed out at once,
    /// so one not out by then was in use.
    static let gathering: Duration = .milliseconds(50)

    /// Asks every connection, every `timing.interval`, until cancelled.
    func run() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: timing.interval)
            } catch {
                return
            }
            await beat()
        }
    }

    /// One round: each connection free within `gathering` asked once, and put back.
    func beat() async {
        let round = Round(expected: connections, until: ContinuousClock.now + Self.gathering)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<connections {
                group.addTask {
                    try? await client.withConnection { connection in
                        // Handed out late, it was in use, and may be one this round asked already.
                        guard round.take() else { return }
                        if await !connection.answers(within: timing.answerWithin, logger: logger) {
                            logger.warning(
                                "a PostgreSQL connection did not answer within \(timing.answerWithin); closed it, the pool opens another",
                                metadata: ["skillrelay.connection": "\(connection.id)"])
                        }
                        await round.waitForTheOthers()
                    }
                }
            }
        }
    }
}

/// One heartbeat round: how many connections it has taken out, until when.
private final class Round: Sendable {
    private let taken = Mutex(0)
    private let expected: Int
    private let deadline: ContinuousClock.Instant

    init(expected: Int, until deadline: ContinuousClock.Instant) {
        self.expected = expected
        self.deadline = deadline
    }

    /// Counts a connection taken out, if the round is still gathering them.
    func take() -> Bool {
        guard ContinuousClock.now < deadline else { return false }
        taken.withLock { $0 += 1 }
        return true
    }

    /// Returns once every connection is out, or the gathering is over.
    func waitForTheOthers() async {
        while taken.withLock({ $0 }) < expected, ContinuousClock.now < deadline, !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(2))
        }
    }
}

extension PostgresConnection {
    /// Whether the connection answers `SELECT 1` within `limit`; one that does not is closed (which also ends a query
    /// stuck on a half-open socket). Neither the query nor the timer waits for the other: the answer is whichever comes
    /// first, so a query that never ends cannot hold the caller.
    func answers(within limit: Duration, logger: Logger) async -> Bool {
        if isClosed { return false }
        let (outcomes, outcome) = AsyncStream.makeStream(of: Bool.self, bufferingPolicy: .bufferingOldest(1))
        Task {
            do {
                try await self.query("SELECT 1", logger: logger)
                outcome.yield(true)
            } catch {
                outcome.yield(false)
            }
        }
        let timer = Task {
            try? await Task.sleep(for: limit)
            outcome.yield(false)
        }
        defer { timer.cancel() }
        // Cancelled, the stream ends at once and the answer no longer matters.
        var first = outcomes.makeAsyncIterator()
        let alive = await first.next() ?? true
        if !alive, !Task.isCancelled {
            // Not awaited: closing a channel ends its pending query, and the caller need not wait for either.
            let _: EventLoopFuture<Void> = close()
        }
        return alive
    }
}
