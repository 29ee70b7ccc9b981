import Foundation
import Hummingbird
import Logging
import Synchronization

/// A fake Matrix homeserver for benchmarks (in process, named a fake): every presence request answers `presence`
/// (`online` unless told) after `latency`, rooms are made, messages are accepted after `latency`, `/sync` waits and
/// returns nothing, and presence requests and messages are counted.
final class FakeIMServer: Sendable {
    let latency: Duration
    let presence: String
    private let requests = Mutex(0)
    private let messages = Mutex(0)
    private let rooms = Mutex(0)

    init(latency: Duration, presence: String = "online") {
        self.latency = latency
        self.presence = presence
    }

    var requestCount: Int { requests.withLock { $0 } }
    var messageCount: Int { messages.withLock { $0 } }

    func application(port: Int) -> some ApplicationProtocol {
        let router = Router()
        router.get("/_matrix/client/v3/presence/:user/status") { _, _ -> Response in
            self.requests.withLock { $0 += 1 }
            try await Task.sleep(for: self.latency)
            return Self.json(#"{"presence":"\#(self.presence)","currently_active":true}"#)
        }
        router.get("/_matrix/client/v3/account/whoami") { _, _ in Self.json(#"{"user_id":"@bot:fake","device_id":"BENCH"}"#) }
        // End-to-end encryption as far as the bot's own rooms need it: its keys are taken, and its people have no
        // devices, so each message costs the bot a Megolm encryption and its sealed session's write, and no Olm.
        router.post("/_matrix/client/v3/keys/upload") { _, _ in Self.json(#"{"one_time_key_counts":{"signed_curve25519":50}}"#) }
        router.post("/_matrix/client/v3/keys/query") { _, _ in Self.json(#"{"device_keys":{}}"#) }
        router.get("/_matrix/client/v3/rooms/:room/members") { _, _ in Self.json(#"{"chunk":[]}"#) }
        router.post("/_matrix/client/v3/user/:user/filter") { _, _ in Self.json(#"{"filter_id":"1"}"#) }
        router.post("/_matrix/client/v3/createRoom") { _, _ in
            // A new room each time, as a homeserver makes: SkillRelay keeps one room per person.
            let number = self.rooms.withLock { rooms in
                rooms += 1
                return rooms
            }
            return Self.json(#"{"room_id":"!room\#(number):fake"}"#)
        }
        router.put("/_matrix/client/v3/rooms/:room/send/:type/:txn") { _, context in
            try await Task.sleep(for: self.latency)
            self.messages.withLock { $0 += 1 }
            return Self.json(#"{"event_id":"$\#(try context.parameters.require("txn"))"}"#)
        }
        router.get("/_matrix/client/v3/sync") { request, _ in
            let timeout = request.uri.queryParameters["timeout"].flatMap { Int($0) } ?? 0
            try await Task.sleep(for: .milliseconds(min(timeout, 5_000)))
            return Self.json(#"{"next_batch":"s1"}"#)
        }
        var logger = Logger(label: "fake-im")
        logger.logLevel = .critical
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
    }

    static func json(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
