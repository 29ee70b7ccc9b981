import Foundation
import Hummingbird
import SkillRelayOlm
import Synchronization

@testable import SkillRelayMatrix

/// A fake Matrix homeserver's end-to-end encryption endpoints, in process, for unit tests of `MatrixEncryption`: each
/// access token is one user's device; device and one-time keys are kept as uploaded and claimed once each; to-device
/// messages wait in each device's inbox until the test hands them over; rooms' members and encryption are what the
/// test sets; room events sent are kept. It checks nothing a real homeserver would (that is Synapse's job in the
/// integration story, Tests/matrix-e2e); it only carries what the devices say to each other.
final class FakeKeyServer: Sendable {
    struct Device: Sendable {
        var userID: String
        var deviceID: String
    }

    private struct State {
        var tokens: [String: Device] = [:]
        var deviceKeys: [String: [String: JSONValue]] = [:]
        var oneTimeKeys: [String: [(id: String, key: JSONValue)]] = [:]
        var inbox: [String: [SyncResponse.ToDeviceEvent]] = [:]
        var members: [String: [String]] = [:]
        var encrypted: Set<String> = []
        var events: [(room: String, type: String, sender: String, content: JSONValue)] = []
        var claims = 0
    }

    private let state = Mutex(State())

    /// Makes an access token stand for one user's device.
    func addDevice(token: String, userID: String, deviceID: String) {
        state.withLock { $0.tokens[token] = Device(userID: userID, deviceID: deviceID) }
    }

    func setRoom(_ room: String, members: [String], encrypted: Bool = true) {
        state.withLock { state in
            state.members[room] = members
            if encrypted { state.encrypted.insert(room) } else { state.encrypted.remove(room) }
        }
    }

    /// Hands over (and empties) a device's to-device inbox, as its next sync would.
    func takeInbox(of userID: String, device deviceID: String) -> [SyncResponse.ToDeviceEvent] {
        state.withLock { state in
            defer { state.inbox["\(userID)|\(deviceID)"] = nil }
            return state.inbox["\(userID)|\(deviceID)"] ?? []
        }
    }

    /// Room events sent, in order.
    var events: [(room: String, type: String, sender: String, content: JSONValue)] { state.withLock { $0.events } }
    /// One-time keys still held for a device.
    func oneTimeKeyCount(of userID: String, device deviceID: String) -> Int {
        state.withLock { $0.oneTimeKeys["\(userID)|\(deviceID)"]?.count ?? 0 }
    }
    /// `/keys/claim` requests so far.
    var claims: Int { state.withLock { $0.claims } }

    var router: Router<BasicRequestContext> {
        let router = Router()
        let prefix = "/_matrix/client/v3"
        router.get("\(prefix)/account/whoami") { request, _ -> Response in
            let device = try self.device(request)
            return try Self.json(.object(["user_id": .string(device.userID), "device_id": .string(device.deviceID)]))
        }
        router.post("\(prefix)/keys/upload") { request, _ -> Response in
            let device = try self.device(request)
            let body = try await Self.body(request)
            let key = "\(device.userID)|\(device.deviceID)"
            let count = self.state.withLock { state in
                if let keys = body["device_keys"] { state.deviceKeys[device.userID, default: [:]][device.deviceID] = keys }
                if case .object(let keys) = body["one_time_keys"] ?? .null {
                    state.oneTimeKeys[key, default: []] += keys.sorted { $0.key < $1.key }.map { (id: $0.key, key: $0.value) }
                }
                return state.oneTimeKeys[key]?.count ?? 0
            }
            return try Self.json(.object(["one_time_key_counts": .object(["signed_curve25519": .integer(Int64(count))])]))
        }
        router.post("\(prefix)/keys/query") { request, _ -> Response in
            _ = try self.device(request)
            let body = try await Self.body(request)
            guard case .object(let wanted) = body["device_keys"] ?? .null else { return Response(status: .badRequest) }
            let answer = self.state.withLock { state in
                Dictionary(uniqueKeysWithValues: wanted.keys.map { ($0, JSONValue.object(state.deviceKeys[$0] ?? [:])) })
            }
            return try Self.json(.object(["device_keys": .object(answer)]))
        }
        router.post("\(prefix)/keys/claim") { request, _ -> Response in
            _ = try self.device(request)
            let body = try await Self.body(request)
            guard case .object(let wanted) = body["one_time_keys"] ?? .null else { return Response(status: .badRequest) }
            let answer = self.state.withLock { state in
                state.claims += 1
                var answer: [String: JSONValue] = [:]
                for (user, devices) in wanted {
                    guard case .object(let devices) = devices else { continue }
                    var byDevice: [String: JSONValue] = [:]
                    for device in devices.keys {
                        let key = "\(user)|\(device)"
                        guard var held = state.oneTimeKeys[key], !held.isEmpty else { continue }
                        let claimed = held.removeFirst()
                        state.oneTimeKeys[key] = held
                        byDevice[device] = .object([claimed.id: claimed.key])
                    }
                    answer[user] = .object(byDevice)
                }
                return answer
            }
            return try Self.json(.object(["one_time_keys": .object(answer)]))
        }
        router.put("\(prefix)/sendToDevice/:type/:txn") { request, context -> Response in
            let sender = try self.device(request)
            let type = try context.parameters.require("type")
            let body = try await Self.body(request)
            guard case .object(let messages) = body["messages"] ?? .null else { return Response(status: .badRequest) }
            self.state.withLock { state in
                for (user, devices) in messages {
                    guard case .object(let devices) = devices else { continue }
                    for (device, content) in devices {
                        state.inbox["\(user)|\(device)", default: []].append(
                            SyncResponse.ToDeviceEvent(type: type, sender: sender.userID, content: content))
                    }
                }
            }
            return try Self.json(.object([:]))
        }
        router.get("\(prefix)/rooms/:room/members") { request, context -> Response in
            _ = try self.device(request)
            let room = try FakeMatrixHomeserver.decoded(context.parameters.require("room"))
            let members = self.state.withLock { $0.members[room] ?? [] }
            let chunk = members.map { member in
                JSONValue.object([
                    "type": .string("m.room.member"), "event_id": .string("$m-\(member)"), "sender": .string(member), "state_key": .string(member),
                    "content": .object(["membership": .string("join")]),
                ])
            }
            return try Self.json(.object(["chunk": .array(chunk)]))
        }
        router.get("\(prefix)/rooms/:room/state/m.room.encryption/") { request, context -> Response in
            _ = try self.device(request)
            let room = try FakeMatrixHomeserver.decoded(context.parameters.require("room"))
            guard self.state.withLock({ $0.encrypted.contains(room) }) else {
                return FakeMatrixHomeserver.error(404, "M_NOT_FOUND")
            }
            return try Self.json(.object(["algorithm": .string(MatrixEncryption.megolm)]))
        }
        router.put("\(prefix)/rooms/:room/send/:type/:txn") { request, context -> Response in
            let sender = try self.device(request)
            let room = try FakeMatrixHomeserver.decoded(context.parameters.require("room"))
            let type = try context.parameters.require("type")
            let body = try await Self.body(request)
            let number = self.state.withLock { state in
                state.events.append((room, type, sender.userID, body))
                return state.events.count
            }
            return try Self.json(.object(["event_id": .string("$event\(number)")]))
        }
        return router
    }

    private func device(_ request: Request) throws -> Device {
        let token = request.headers[.authorization]?.replacingOccurrences(of: "Bearer ", with: "") ?? ""
        guard let device = state.withLock({ $0.tokens[token] }) else { throw HTTPError(.unauthorized) }
        return device
    }

    static func body(_ request: Request) async throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: try await request.body.collect(upTo: 1_048_576))
    }

    static func json(_ value: JSONValue) throws -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: try JSONEncoder().encode(value))))
    }
}
