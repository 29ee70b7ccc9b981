import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import SkillRelayCallbacks
import SkillRelayDomain
import SkillRelayTestSupport
import Synchronization
import Testing

@testable import SkillRelayStore

#if canImport(Glibc)
    import Glibc
#endif

/// Bots' callback URLs that misbehave — one that accepts connections and never answers, one that refuses them, one
/// that answers 500, one whose host does not resolve — over real sockets, through the real callback sender: while
/// each is stuck or failing, people's messages still go out.
@Suite struct CallbackIsolationTests {
    /// Passes posts on to the real sender and records how each one ended, by URL.
    final class ObservedCallbacks: CallbackSender, Sendable {
        let sender: HTTPCallbackSender
        let ended = Mutex<[String: [String]]>([:])
        init(_ sender: HTTPCallbackSender) { self.sender = sender }
        func post(_ message: CallbackMessage, key: String) async throws {
            do {
                try await sender.post(message, key: key)
                ended.withLock { $0[message.url, default: []].append("ok") }
            } catch {
                ended.withLock { $0[message.url, default: []].append("failed") }
                throw error
            }
        }
        func outcomes(_ url: String) -> [String] { ended.withLock { $0[url] ?? [] } }
    }

    /// Records the people's messages it was asked to send.
    final class RecordingMessenger: Messenger, Sendable {
        let sent = Mutex<[String]>([])
        func deliverQuestion(_ message: QuestionMessage, key: String) async throws -> String? {
            sent.withLock { $0.append(message.deliveryID) }
            return nil
        }
        func deliverAnswer(_ message: AnswerMessage, key: String) async throws -> String? { nil }
        func deliverFollowUp(_ message: FollowUpMessage, key: String) async throws -> String? { nil }
        func notifyClosed(_ message: ClosedMessage, key: String) async throws {}
        func notifyAsker(_ message: AskerNotice, key: String) async throws {}
        func deliverReveal(_ message: RevealNotice, key: String) async throws -> String? { nil }
        func introduce(_ introduction: Introduction, key: String) async throws -> String? { nil }
    }

    /// A TCP socket on 127.0.0.1 that listens and never accepts: the kernel completes each connection, the request is
    /// written, and no answer ever comes.
    struct SilentListener {
        let descriptor: Int32
        let port: Int

        init(listening: Bool) throws {
            #if canImport(Glibc)
                let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            #else
                let descriptor = socket(AF_INET, SOCK_STREAM, 0)
            #endif
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                    bind(descriptor, pointer, length) == 0 && getsockname(descriptor, pointer, &length) == 0
                }
            }
            try #require(bound)
            if listening { try #require(listen(descriptor, 16) == 0) }
            self.descriptor = descriptor
            self.port = Int(UInt16(bigEndian: address.sin_port))
        }

        func close() { _ = Glibc.close(descriptor) }
    }

    static func question(_ delivery: String, to handle: String) -> OutboxMessage {
        .question(
            QuestionMessage(
                deliveryID: delivery, recipient: Recipient(handle: handle, imID: nil), topic: TopicReference(slug: "infra", name: "Infrastructure"),
                text: "?", maxAnswers: 1))
    }

    /// Waits for a condition, as long as a loaded machine may need; fails the test past that.
    static func waitFor(_ what: Comment, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(120)
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out waiting for: \(what)")
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test(.timeLimit(.minutes(5)))
    func peoplesMessagesGoOutWhileCallbacksHangRefuseFailOrDoNotResolve() async throws {
        let hung = try SilentListener(listening: true)
        defer { hung.close() }
        let refusing = try SilentListener(listening: false)
        refusing.close()
        let router = Router()
        router.post("/hook") { _, _ -> Response in Response(status: .internalServerError) }
        let failing = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await failing.test(.live) { client in
            let urls = [
                "hung": "http://127.0.0.1:\(hung.port)/hook",
                "refused": "http://127.0.0.1:\(refusing.port)/hook",
                "500": "http://127.0.0.1:\(try #require(client.port))/hook",
                "unresolvable": "http://skillrelay-callback-test.invalid/hook",
            ]
            let clock = TestClock()
            let store = SQLiteQuestionStore(database: try AppDatabase.inMemory(), clock: clock)
            // Each bot asked a minute earlier, so every callback is queued ahead of the people's messages.
            try await store.database.writer.write { db in
                for (name, url) in urls.sorted(by: { $0.key < $1.key }) {
                    try SQLiteQuestionStore.enqueue(db, .callback(CallbackMessage(questionID: name, url: url, body: "{}")), now: clock.now())
                }
            }
            clock.advance(by: 60)
            try await store.database.writer.write { db in
                for message in [Self.question("alice-1", to: "alice"), Self.question("bob-1", to: "bob")] {
                    try SQLiteQuestionStore.enqueue(db, message, now: clock.now())
                }
            }
            // A deadline and timeouts far longer than the test: the hung URL stays stuck for as long as the test looks.
            var configuration = HTTPClient.Configuration()
            configuration.timeout = .init(connect: .seconds(600), read: .seconds(600))
            let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
            let callbacks = ObservedCallbacks(HTTPCallbackSender(client: http, secret: "test", timeout: .seconds(600)))
            let messenger = RecordingMessenger()
            let dispatcher = OutboxDispatcher(store: store, messenger: messenger, callbacks: callbacks, clock: clock)
            let pump = OutboxPump(dispatcher: dispatcher)

            await pump.kick()
            try await Self.waitFor("the people's first messages") { messenger.sent.withLock { $0.count } == 2 }
            // More for the people, while the hung URL still holds its first post: they go out too.
            try await store.database.writer.write { db in
                for message in [Self.question("alice-2", to: "alice"), Self.question("carol-1", to: "carol")] {
                    try SQLiteQuestionStore.enqueue(db, message, now: clock.now())
                }
            }
            await pump.kick()
            try await Self.waitFor("the people's next messages") { messenger.sent.withLock { $0.count } == 4 }
            #expect(callbacks.outcomes(urls["hung"]!).isEmpty, "the hung URL never answered, yet nobody waited for it")
            #expect(messenger.sent.withLock { $0 }.filter { $0.hasPrefix("alice") } == ["alice-1", "alice-2"])
            // The 500 failed at once and waits for its retry; the refused port and the unknown host are still being
            // tried (the pool tries again until the deadline); nobody waited for any of them.
            try await Self.waitFor("the 500 to fail") { callbacks.outcomes(urls["500"]!) == ["failed"] }

            // Connecting and name resolution count inside a callback's deadline: with a 1 s deadline on the same
            // client (whose own connect timeout is ten minutes), both give up.
            let quick = HTTPCallbackSender(client: http, secret: "test", timeout: .seconds(1))
            for name in ["refused", "unresolvable"] {
                await #expect(throws: (any Error).self, "\(name)") {
                    try await quick.post(CallbackMessage(questionID: name, url: urls[name]!, body: "{}"), key: "quick-\(name)")
                }
            }
            try await http.shutdown()
            // Bots' callbacks waiting a minute for their first try never count as SkillRelay falling behind.
            #expect(dispatcher.lag.current == 0)
        }
    }
}
