import Foundation
import Hummingbird
import Synchronization

/// A fake Matrix homeserver, in process, for unit tests of the adapter: presence as the test sets it (or an error
/// status, or a delay), rooms made on request, and counts of what it was asked. Not a stand-in for Synapse in
/// integration tests.
final class FakeMatrixHomeserver: Sendable {
    enum Answer: Sendable {
        case presence(String)
        case status(Int)
        case slow(String, Duration)
    }

    private struct State {
        var answers: [String: Answer] = [:]
        var fallback: Answer = .status(404)
        var presenceRequests = 0
        var inFlight = 0
        var maxInFlight = 0
        var roomsCreated = 0
    }

    private let state = Mutex(State())

    func set(_ userID: String, _ answer: Answer) { state.withLock { $0.answers[userID] = answer } }
    func setFallback(_ answer: Answer) { state.withLock { $0.fallback = answer } }
    var presenceRequests: Int { state.withLock { $0.presenceRequests } }
    var maxInFlight: Int { state.withLock { $0.maxInFlight } }
    var roomsCreated: Int { state.withLock { $0.roomsCreated } }

    var router: Router<BasicRequestContext> {
        let router = Router()
        router.get("/_matrix/client/v3/presence/:user/status") { _, context -> Response in
            let raw = try context.parameters.require("user")
            let user = raw.removingPercentEncoding ?? raw
            let answer = self.state.withLock { state in
                state.presenceRequests += 1
                state.inFlight += 1
                state.maxInFlight = max(state.maxInFlight, state.inFlight)
                return state.answers[user] ?? state.fallback
            }
            defer { self.state.withLock { $0.inFlight -= 1 } }
            switch answer {
            case .presence(let presence):
                return Self.json(#"{"presence":"\#(presence)","currently_active":true}"#)
            case .slow(let presence, let delay):
                try await Task.sleep(for: delay)
                return Self.json(#"{"presence":"\#(presence)"}"#)
            case .status(let code):
                return Response(
                    status: .init(code: code), headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: #"{"errcode":"M_FORBIDDEN","error":"no"}"#)))
            }
        }
        router.post("/_matrix/client/v3/createRoom") { _, _ -> Response in
            let number = self.state.withLock { state in
                state.roomsCreated += 1
                return state.roomsCreated
            }
            return Self.json(#"{"room_id":"!room\#(number):fake"}"#)
        }
        return router
    }

    static func json(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
