import Foundation
import SkillRelayTestSupport
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A rolling restart on PostgreSQL: `skillrelay serve` stopped with SIGTERM while a bot's callback URL hangs. The
/// instance cuts the send off, records what it came to and gives its claim on the message back on its way out, so
/// whichever instance takes the outbox up next (here the same one, started again) sends it at once, not a lease later.
@Suite(.enabled(if: TestPostgres.serverURL != nil), .serialized)
struct RollingRestartTests {
    @Test func anInstanceStoppedWithSIGTERMGivesBackTheClaimOnAHangingCallback() async throws {
        let url = try await TestPostgres.emptyDatabaseURL()
        let scratch = try CLITests.Scratch()
        let hook = try SilentListener()
        let flags = ["--wave-size", "1", "--max-answers", "1", "--deadline", "3600"]
        let instance = SeveralInstancesTests.Instance(db: url, flags: flags, log: scratch.url.appendingPathComponent("serve.log").path)
        defer {
            instance.kill()
            hook.close()
        }
        try await instance.start()

        // One specialist available; a bot asks with a callback URL that accepts the connection and never answers.
        let specialist = try #require(try SeveralInstancesTests.taggedPeople("python").first)
        let specialistToken = try CLITests.token(db: url, employee: specialist)
        #expect(try await instance.call("PUT", "/v1/me/presence", token: specialistToken, body: #"{"status":"available"}"#).0 == 200)
        let bot = try CLITests.run(["token", "create", "--db", url, "--bot", "deploy-bot"])
        #expect(bot.status == 0, "\(bot.stderr)")
        let botToken = bot.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let (asked, question) = try await instance.call(
            "POST", "/v1/questions", token: botToken,
            body: #"{"topic":"python","text":"How do I pin a dependency?","callbackUrl":"http://127.0.0.1:\#(hook.port)/hook"}"#)
        #expect(asked == 201, "\(question)")

        // The answer is relayed, and its callback hangs.
        var delivery: String?
        for _ in 0..<1200 where delivery == nil {
            delivery = try await instance.inbox(token: specialistToken).first
            if delivery == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        let id = try #require(delivery, "the question reached the specialist")
        let (answered, body) = try await instance.call(
            "POST", "/v1/inbox/\(id)/answer", token: specialistToken, body: #"{"text":"Use a lock file."}"#)
        #expect(answered == 200, "\(body)")
        try await hook.waitForConnections(1, seconds: 120)

        // SIGTERM: the instance stops cleanly, and leaves the message neither sent nor claimed.
        let status = try await instance.terminate(seconds: 120)
        #expect(status == 0)
        let rows = try await TestPostgres.texts(
            url, "SELECT (sentAt IS NULL)::text, (claimedUntil IS NULL)::text FROM outbox WHERE destination LIKE 'callback:%'")
        // The answer's callback, and the closing's behind it.
        #expect(!rows.isEmpty && rows.allSatisfy { $0 == ["true", "true"] }, "the callbacks' outbox rows: not sent, no claim left: \(rows)")

        // The next instance sends it again (the bot sees the same delivery twice, as after any failed try).
        try await instance.start()
        try await hook.waitForConnections(2, seconds: 120)
    }
}

extension SeveralInstancesTests.Instance {
    /// Stops the process with SIGTERM and waits (at most `seconds`) for it to exit; its exit status.
    func terminate(seconds: Double) async throws -> Int32 {
        let process = try #require(process)
        process.terminate()
        for _ in 0..<Int(seconds * 10) where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        #expect(!process.isRunning, "skillrelay serve exits after SIGTERM")
        guard !process.isRunning else { return -1 }
        self.process = nil
        return process.terminationReason == .exit ? process.terminationStatus : -process.terminationStatus
    }
}

/// A TCP listener on 127.0.0.1 that accepts connections and never answers them: a bot's callback URL that hangs.
final class SilentListener: Sendable {
    /// The socket could not be opened, bound or made to listen.
    struct ListenFailed: Error {
        var errno: Int32
    }

    let port: Int
    private let descriptor: Int32
    /// The connections accepted, kept open until `close`.
    private let accepted = Mutex<[Int32]>([])

    init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw ListenFailed(errno: errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(listener, socketAddress, length) == 0 && getsockname(listener, socketAddress, &length) == 0
            }
        }
        guard listening, listen(listener, 16) == 0 else {
            let failure = ListenFailed(errno: errno)
            Glibc.close(listener)
            throw failure
        }
        descriptor = listener
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in
            while true {
                let connection = accept(listener, nil, nil)
                guard connection >= 0 else { return }
                accepted.withLock { $0.append(connection) }
            }
        }
    }

    var connections: Int { accepted.withLock { $0.count } }

    /// Returns once `count` connections have come; fails the test if they have not within `seconds`.
    func waitForConnections(_ count: Int, seconds: Double) async throws {
        for _ in 0..<Int(seconds * 10) where connections < count { try await Task.sleep(for: .milliseconds(100)) }
        try #require(connections >= count, "\(count) connections to the callback URL (had \(connections))")
    }

    func close() {
        shutdown(descriptor, Int32(SHUT_RDWR))
        Glibc.close(descriptor)
        for connection in accepted.withLock({ $0 }) { Glibc.close(connection) }
    }
}
