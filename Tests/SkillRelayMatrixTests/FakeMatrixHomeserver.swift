import Foundation
import Hummingbird
import Synchronization

/// A fake Matrix homeserver, in process, for unit tests of the adapter: presence as the test sets it (or an error
/// status, or held back), rooms made on request, and counts of what it was asked. Not a stand-in for Synapse in
/// integration tests. Nothing in it is timed: a held answer waits for an event (enough requests in flight, or the
/// test's end), never for a delay, so what a test sees cannot depend on the machine's speed.
final class FakeMatrixHomeserver: Sendable {
    enum Answer: Sendable {
        case presence(String)
        case status(Int)
        /// The presence, once the gate opens (see `openGate(whenInFlight:)`).
        case held(String)
        /// No answer at all while the test runs: only the client's deadline ends the request.
        case never
    }

    private struct State {
        var answers: [String: Answer] = [:]
        var fallback: Answer = .status(404)
        var presenceRequests = 0
        var inFlight = 0
        var maxInFlight = 0
        var roomsCreated = 0
        var gateOpen = false
        var gateOpensAt: Int?
        var released = false
        var waitingForGate: [CheckedContinuation<Void, Never>] = []
        var waitingForRelease: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    func set(_ userID: String, _ answer: Answer) { state.withLock { $0.answers[userID] = answer } }
    func setFallback(_ answer: Answer) { state.withLock { $0.fallback = answer } }
    var presenceRequests: Int { state.withLock { $0.presenceRequests } }
    var maxInFlight: Int { state.withLock { $0.maxInFlight } }
    var roomsCreated: Int { state.withLock { $0.roomsCreated } }

    /// Holds `.held` answers until `count` presence requests are in flight at once; from then on they answer at once.
    func openGate(whenInFlight count: Int) { state.withLock { $0.gateOpensAt = count } }

    /// Ends every held or unanswered request (they answer; nobody is listening any more): the test is over.
    func releaseAll() {
        let waiting = state.withLock { state in
            state.gateOpen = true
            state.released = true
            defer {
                state.waitingForGate = []
                state.waitingForRelease = []
            }
            return state.waitingForGate + state.waitingForRelease
        }
        for continuation in waiting { continuation.resume() }
    }

    private func waitForGate() async {
        await withCheckedContinuation { continuation in
            let open = state.withLock { state in
                if !state.gateOpen { state.waitingForGate.append(continuation) }
                return state.gateOpen
            }
            if open { continuation.resume() }
        }
    }

    private func waitForRelease() async {
        await withCheckedContinuation { continuation in
            let released = state.withLock { state in
                if !state.released { state.waitingForRelease.append(continuation) }
                return state.released
            }
            if released { continuation.resume() }
        }
    }

    var router: Router<BasicRequestContext> {
        let router = Router()
        router.get("/_matrix/client/v3/presence/:user/status") { _, context -> Response in
            let raw = try context.parameters.require("user")
            let user = raw.removingPercentEncoding ?? raw
            let (answer, opened) = self.state.withLock { state in
                state.presenceRequests += 1
                state.inFlight += 1
                state.maxInFlight = max(state.maxInFlight, state.inFlight)
                var opened: [CheckedContinuation<Void, Never>] = []
                if let count = state.gateOpensAt, state.inFlight >= count, !state.gateOpen {
                    state.gateOpen = true
                    opened = state.waitingForGate
                    state.waitingForGate = []
                }
                return (state.answers[user] ?? state.fallback, opened)
            }
            for continuation in opened { continuation.resume() }
            defer { self.state.withLock { $0.inFlight -= 1 } }
            switch answer {
            case .presence(let presence):
                return Self.json(#"{"presence":"\#(presence)","currently_active":true}"#)
            case .held(let presence):
                await self.waitForGate()
                return Self.json(#"{"presence":"\#(presence)"}"#)
            case .never:
                await self.waitForRelease()
                return Response(status: .serviceUnavailable)
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
