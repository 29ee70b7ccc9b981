import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

@testable import SkillRelayMatrix

/// A fake Matrix homeserver, in process, for unit tests of the adapter: presence as the test sets it (or an error
/// status, or held back), rooms made on request (or refused for users the test names), rooms left and joined,
/// members' memberships as the test sets them, and counts of what it was asked. Not a stand-in for Synapse in
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
        var createRoomRequests = 0
        var invited: [String] = []
        var createdRooms: [CreatedRoom] = []
        var refusedInvitees: Set<String> = []
        var failingInvitees: [String: Int] = [:]
        var holdRoomCreation = false
        var createRoomInFlight = 0
        var maxCreateRoomInFlight = 0
        var left: [String] = []
        var forgotten: [String] = []
        var joinedByBot: [String] = []
        var memberships: [String: String] = [:]
        var membershipRequests = 0
        var sent: [(room: String, body: String)] = []
        /// The event each sent reply replies to (`m.relates_to.m.in_reply_to`), by the reply's event id.
        var replies: [String: String] = [:]
        /// Off, as Synapse with `presence.enabled: false`: everyone reads as offline, and setting presence changes nothing.
        var presenceEnabled = true
        /// An error status every `PUT /presence` answers with, if set.
        var presenceWriteStatus: Int?
        /// Error statuses the next message sends answer with, one each, in order.
        var messageSendFailures: [Int] = []
    }

    private let state = Mutex(State())

    func set(_ userID: String, _ answer: Answer) { state.withLock { $0.answers[userID] = answer } }
    func setFallback(_ answer: Answer) { state.withLock { $0.fallback = answer } }
    func setPresenceEnabled(_ enabled: Bool) { state.withLock { $0.presenceEnabled = enabled } }
    func failPresenceWrites(with status: Int?) { state.withLock { $0.presenceWriteStatus = status } }
    /// The next message sends fail, one with each of `statuses` in turn, without the message being taken.
    func failMessageSends(with statuses: [Int]) { state.withLock { $0.messageSendFailures = statuses } }
    /// The bot, as `GET /account/whoami` names it.
    static let bot = "@bot:fake"

    /// Serves the fake on a free local port while `body` runs, and hands it a client of it (the bot, token "secret").
    func serve(_ body: @Sendable @escaping (MatrixClient) async throws -> Void) async throws {
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            try await body(MatrixClient(http: HTTPClient.shared, homeserver: "http://127.0.0.1:\(port)", accessToken: "secret"))
        }
    }
    var presenceRequests: Int { state.withLock { $0.presenceRequests } }
    var maxInFlight: Int { state.withLock { $0.maxInFlight } }
    var roomsCreated: Int { state.withLock { $0.roomsCreated } }
    /// `createRoom` requests, refused ones included.
    var createRoomRequests: Int { state.withLock { $0.createRoomRequests } }
    /// A room `createRoom` made: who it invited, whether as a direct chat, its name and topic.
    struct CreatedRoom: Sendable, Equatable {
        var room: String
        var invite: [String]
        var isDirect: Bool
        var name: String?
        var topic: String?
        /// The room's `m.room.encryption` algorithm from `initial_state`, if it was made encrypted.
        var encryption: String? = nil
    }

    /// Every room made, in order.
    var createdRooms: [CreatedRoom] { state.withLock { $0.createdRooms } }
    /// Everyone invited by `createRoom`, in order.
    var invited: [String] { state.withLock { $0.invited } }
    /// Rooms the bot left, and forgot.
    var left: [String] { state.withLock { $0.left } }
    var forgotten: [String] { state.withLock { $0.forgotten } }
    /// Rooms the bot joined.
    var joinedByBot: [String] { state.withLock { $0.joinedByBot } }
    var membershipRequests: Int { state.withLock { $0.membershipRequests } }
    /// Messages sent, in order: the room and the text.
    var sent: [(room: String, body: String)] { state.withLock { $0.sent } }
    /// What each sent reply replied to, by the reply's event id.
    var replies: [String: String] { state.withLock { $0.replies } }
    /// `createRoom` inviting this user fails with 404, as Synapse's does for an unknown user.
    func refuseInvitations(to userID: String) { state.withLock { _ = $0.refusedInvitees.insert(userID) } }
    /// `createRoom` inviting this user fails with `status` (a server error, say), without a room made.
    func failInvitations(to userID: String, status: Int?) { state.withLock { $0.failingInvitees[userID] = status } }
    /// Holds every `createRoom` until `releaseAll()`.
    func holdRoomCreation() { state.withLock { $0.holdRoomCreation = true } }
    /// `createRoom` requests in flight now, and the most there ever were at once.
    var createRoomInFlight: Int { state.withLock { $0.createRoomInFlight } }
    var maxCreateRoomInFlight: Int { state.withLock { $0.maxCreateRoomInFlight } }

    /// A member's membership of a room, as `GET /rooms/{room}/state/m.room.member/{user}` answers it (404 if not set).
    func setMembership(_ membership: String, of userID: String, in room: String) {
        state.withLock { $0.memberships["\(room) \(userID)"] = membership }
    }

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
                return (state.presenceEnabled ? state.answers[user] ?? state.fallback : .presence("offline"), opened)
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
        router.get("/_matrix/client/v3/account/whoami") { _, _ -> Response in
            Self.json(#"{"user_id":"\#(Self.bot)","device_id":"BOTDEVICE"}"#)
        }
        router.put("/_matrix/client/v3/presence/:user/status") { request, context -> Response in
            struct Body: Decodable { var presence: String }
            let user = try Self.decoded(context.parameters.require("user"))
            let body = try JSONDecoder().decode(Body.self, from: try await request.body.collect(upTo: 65_536))
            let failure = self.state.withLock { state -> Int? in
                if state.presenceWriteStatus == nil, state.presenceEnabled { state.answers[user] = .presence(body.presence) }
                return state.presenceWriteStatus
            }
            if let failure { return Self.error(failure, "M_UNKNOWN") }
            return Self.json("{}")
        }
        router.post("/_matrix/client/v3/createRoom") { request, _ -> Response in
            struct Body: Decodable {
                struct State: Decodable {
                    struct Content: Decodable { var algorithm: String? }
                    var type: String
                    var content: Content?
                }
                var invite: [String]?
                var isDirect: Bool?
                var name: String?
                var topic: String?
                var initialState: [State]?

                enum CodingKeys: String, CodingKey {
                    case invite, name, topic
                    case isDirect = "is_direct"
                    case initialState = "initial_state"
                }
            }
            let body = try JSONDecoder().decode(Body.self, from: try await request.body.collect(upTo: 65_536))
            let hold = self.state.withLock { state in
                state.createRoomInFlight += 1
                state.maxCreateRoomInFlight = max(state.maxCreateRoomInFlight, state.createRoomInFlight)
                return state.holdRoomCreation
            }
            defer { self.state.withLock { $0.createRoomInFlight -= 1 } }
            if hold { await self.waitForRelease() }
            if let status = self.state.withLock({ state -> Int? in
                guard let failing = body.invite?.compactMap({ state.failingInvitees[$0] }).first else { return nil }
                state.createRoomRequests += 1
                return failing
            }) {
                return Self.error(status, "M_UNKNOWN")
            }
            let number = self.state.withLock { state -> Int? in
                state.createRoomRequests += 1
                if body.invite?.contains(where: state.refusedInvitees.contains) == true { return nil }
                state.roomsCreated += 1
                state.invited += body.invite ?? []
                state.createdRooms.append(
                    CreatedRoom(
                        room: "!room\(state.roomsCreated):fake", invite: body.invite ?? [], isDirect: body.isDirect ?? false, name: body.name,
                        topic: body.topic, encryption: body.initialState?.first { $0.type == "m.room.encryption" }?.content?.algorithm))
                return state.roomsCreated
            }
            guard let number else { return Self.error(404, "M_NOT_FOUND") }
            return Self.json(#"{"room_id":"!room\#(number):fake"}"#)
        }
        router.put("/_matrix/client/v3/rooms/:room/send/m.room.message/:txn") { request, context -> Response in
            struct Body: Decodable {
                struct Relation: Decodable {
                    struct InReplyTo: Decodable {
                        var eventID: String
                        enum CodingKeys: String, CodingKey { case eventID = "event_id" }
                    }
                    var inReplyTo: InReplyTo?
                    enum CodingKeys: String, CodingKey { case inReplyTo = "m.in_reply_to" }
                }
                var body: String
                var relatesTo: Relation?
                enum CodingKeys: String, CodingKey {
                    case body
                    case relatesTo = "m.relates_to"
                }
            }
            let room = try Self.decoded(context.parameters.require("room"))
            let body = try JSONDecoder().decode(Body.self, from: try await request.body.collect(upTo: 65_536))
            let failure = self.state.withLock { state in state.messageSendFailures.isEmpty ? nil : state.messageSendFailures.removeFirst() }
            if let failure { return Self.error(failure, failure == 403 ? "M_FORBIDDEN" : "M_UNKNOWN") }
            let number = self.state.withLock { state in
                state.sent.append((room, body.body))
                if let replied = body.relatesTo?.inReplyTo?.eventID { state.replies["$sent\(state.sent.count):fake"] = replied }
                return state.sent.count
            }
            return Self.json(#"{"event_id":"$sent\#(number):fake"}"#)
        }
        router.post("/_matrix/client/v3/rooms/:room/leave") { _, context -> Response in
            let room = try Self.decoded(context.parameters.require("room"))
            self.state.withLock { $0.left.append(room) }
            return Self.json("{}")
        }
        router.post("/_matrix/client/v3/rooms/:room/forget") { _, context -> Response in
            let room = try Self.decoded(context.parameters.require("room"))
            self.state.withLock { $0.forgotten.append(room) }
            return Self.json("{}")
        }
        router.post("/_matrix/client/v3/join/:room") { _, context -> Response in
            let room = try Self.decoded(context.parameters.require("room"))
            self.state.withLock { $0.joinedByBot.append(room) }
            return Self.json(#"{"room_id":"\#(room)"}"#)
        }
        router.get("/_matrix/client/v3/rooms/:room/state/m.room.member/:user") { _, context -> Response in
            let key = try "\(Self.decoded(context.parameters.require("room"))) \(Self.decoded(context.parameters.require("user")))"
            let membership = self.state.withLock { state in
                state.membershipRequests += 1
                return state.memberships[key]
            }
            guard let membership else { return Self.error(404, "M_NOT_FOUND") }
            return Self.json(#"{"membership":"\#(membership)"}"#)
        }
        return router
    }

    static func decoded(_ segment: String) -> String { segment.removingPercentEncoding ?? segment }

    static func error(_ status: Int, _ errcode: String) -> Response {
        Response(
            status: .init(code: status), headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: #"{"errcode":"\#(errcode)","error":"no"}"#)))
    }

    static func json(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
