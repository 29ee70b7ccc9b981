import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SkillRelayOlm

/// The slice of the Matrix client-server API SkillRelay uses, over one shared AsyncHTTPClient. Every request has a
/// deadline and every body is read with an upper bound. The access token goes in a header and is never logged.
public struct MatrixClient: Sendable {
    let http: HTTPClient
    let homeserver: String
    let accessToken: String
    /// How long one call may wait, in all, for the homeserver's rate limits before it gives the wait back to its
    /// caller as `RateLimited`.
    let rateLimitWait: TimeInterval

    public init(http: HTTPClient, homeserver: String, accessToken: String, rateLimitWait: TimeInterval = 30) {
        self.http = http
        self.homeserver = homeserver.hasSuffix("/") ? String(homeserver.dropLast()) : homeserver
        self.accessToken = accessToken
        self.rateLimitWait = rateLimitWait
    }

    /// An HTTP client for one homeserver that keeps up to `connections` connections open to it. AsyncHTTPClient's
    /// default is 8 per host, which turns a presence pool of 50 asked at once into seven rounds. Shut it down when done.
    public static func makeHTTPClient(connections: Int) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(8, connections))
        // SkillRelay bootstraps no tracer, so AsyncHTTPClient would open a no-op span per request and still work out
        // its attributes, parsing the URL again with Foundation: ~2 % of the server's CPU under figure 3's load.
        configuration.tracing.tracer = nil
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }

    /// An error answer from the homeserver.
    public struct Failure: Error, CustomStringConvertible {
        public var status: UInt
        public var errcode: String?
        public var message: String?
        public var description: String { "Matrix answered HTTP \(status) \(errcode ?? "") \(message ?? "")" }

        /// Whether the homeserver refused the request for good: a 4xx other than a timeout (408) or a rate limit (429),
        /// which say to try again. The same request sent again would be refused again.
        public var isRefusal: Bool { (400..<500).contains(status) && status != 408 && status != 429 }
    }

    // MARK: - Calls

    /// `GET /account/whoami`: the bot's own user id.
    public func whoAmI() async throws -> String {
        try await identity().userID
    }

    /// `GET /account/whoami`: the bot's user id and the device its access token belongs to (`nil` for a token made
    /// without a device, which cannot take part in end-to-end encryption).
    public func identity() async throws -> (userID: String, deviceID: String?) {
        let me = try await call(.GET, "/account/whoami", as: WhoAmI.self, timeout: .seconds(10))
        return (me.user_id, me.device_id)
    }

    /// `GET /presence/{userId}/status`.
    public func presence(of userID: String, timeout: TimeAmount) async throws -> PresenceStatus {
        // On the ask path: a rate limit answers at once (as a failure) rather than holding the question up.
        try await call(.GET, "/presence/\(Self.escape(userID))/status", as: PresenceStatus.self, timeout: timeout, maxWait: 0)
    }

    /// `PUT /presence/{userId}/status`: sets the bot's own presence (`online`, `unavailable`, `offline`). Never waits for
    /// the homeserver's rate limits: a limited call fails as `RateLimited`.
    public func setPresence(of userID: String, to presence: String) async throws {
        _ = try await call(
            .PUT, "/presence/\(Self.escape(userID))/status", body: PresenceStatus(presence: presence), as: NoContent.self, timeout: .seconds(10),
            maxWait: 0)
    }

    /// `POST /createRoom`: a direct, trusted private chat with one person invited; `encrypted`, with Megolm end-to-end
    /// encryption from its first event, as Element makes direct chats.
    public func createDirectRoom(inviting userID: String, encrypted: Bool = false) async throws -> String {
        var body = CreateRoom(is_direct: true, invite: [userID], preset: "trusted_private_chat")
        if encrypted { body.initial_state = [.init(type: "m.room.encryption", state_key: "", content: .init(algorithm: MatrixEncryption.megolm))] }
        return try await call(.POST, "/createRoom", body: body, as: RoomID.self, timeout: .seconds(10)).room_id
    }

    /// `POST /createRoom`: a direct, trusted private chat for people the bot introduces to each other, named and with
    /// the introduction as its topic, everyone in `userIDs` invited; `encrypted` as `createDirectRoom`.
    public func createIntroductionRoom(inviting userIDs: [String], name: String, topic: String, encrypted: Bool = false) async throws -> String {
        var body = CreateRoom(is_direct: true, invite: userIDs, preset: "trusted_private_chat", name: name, topic: topic)
        if encrypted { body.initial_state = [.init(type: "m.room.encryption", state_key: "", content: .init(algorithm: MatrixEncryption.megolm))] }
        return try await call(.POST, "/createRoom", body: body, as: RoomID.self, timeout: .seconds(10)).room_id
    }

    /// `POST /join/{roomId}`.
    public func join(_ roomID: String) async throws {
        // In the sync loop, where an invitation is seen once: wait out the rate limits rather than miss it.
        _ = try await call(.POST, "/join/\(Self.escape(roomID))", body: Empty(), as: RoomID.self, timeout: .seconds(10), maxWait: 600)
    }

    /// `POST /rooms/{roomId}/leave`, then `POST /rooms/{roomId}/forget`: the bot leaves a room nobody else is in any
    /// more and drops it from its own room list.
    public func leaveAndForget(_ roomID: String) async throws {
        _ = try await call(.POST, "/rooms/\(Self.escape(roomID))/leave", body: Empty(), as: NoContent.self, timeout: .seconds(10))
        _ = try await call(.POST, "/rooms/\(Self.escape(roomID))/forget", body: Empty(), as: NoContent.self, timeout: .seconds(10))
    }

    /// `GET /rooms/{roomId}/state/m.room.member/{userId}`: a person's membership of a room (`join`, `invite`, `leave`,
    /// `ban`…).
    public func membership(of userID: String, in roomID: String) async throws -> String {
        let path = "/rooms/\(Self.escape(roomID))/state/m.room.member/\(Self.escape(userID))"
        return try await call(.GET, path, as: MemberContent.self, timeout: .seconds(10)).membership
    }

    /// `PUT /rooms/{roomId}/send/m.room.message/{txnId}`: the same transaction id never sends twice.
    /// `maxWait` is how long it may wait for rate limits in all (default: the client's `rateLimitWait`).
    public func send(_ message: TextMessage, to roomID: String, transactionID: String, maxWait: TimeInterval? = nil) async throws -> String {
        let path = "/rooms/\(Self.escape(roomID))/send/m.room.message/\(Self.escape(transactionID))"
        return try await call(.PUT, path, body: message, as: EventID.self, timeout: .seconds(10), maxWait: maxWait).event_id
    }

    /// `PUT /rooms/{roomId}/send/{eventType}/{txnId}` with any content (an `m.room.encrypted` one, say).
    public func send(event type: String, content: JSONValue, to roomID: String, transactionID: String, maxWait: TimeInterval? = nil) async throws
        -> String
    {
        let path = "/rooms/\(Self.escape(roomID))/send/\(Self.escape(type))/\(Self.escape(transactionID))"
        return try await call(.PUT, path, body: content, as: EventID.self, timeout: .seconds(10), maxWait: maxWait).event_id
    }

    /// `GET /rooms/{roomId}/state/m.room.encryption/`: the room's encryption settings, or `nil` if it is not encrypted.
    public func encryptionState(of roomID: String) async throws -> JSONValue? {
        do {
            return try await call(.GET, "/rooms/\(Self.escape(roomID))/state/m.room.encryption/", as: JSONValue.self, timeout: .seconds(10))
        } catch let failure as Failure where failure.status == 404 {
            return nil
        }
    }

    /// `GET /rooms/{roomId}/members?not_membership=leave`: who is in a room or invited to it.
    public func members(of roomID: String) async throws -> [String] {
        let path = "/rooms/\(Self.escape(roomID))/members?not_membership=leave"
        let chunk = try await call(.GET, path, as: MemberList.self, timeout: .seconds(10), maxBytes: 8 * 1024 * 1024).chunk
        return chunk.compactMap { event in
            guard let member = event.state_key, ["join", "invite"].contains(event.content?.membership) else { return nil }
            return member
        }
    }

    /// `POST /keys/upload`: device keys and one-time keys; answers how many one-time keys the server holds, by algorithm.
    public func uploadKeys(_ body: JSONValue) async throws -> [String: Int] {
        try await call(.POST, "/keys/upload", body: body, as: KeyCounts.self, timeout: .seconds(10)).one_time_key_counts ?? [:]
    }

    /// `POST /keys/query`: every device of these users, with its signed keys.
    public func queryKeys(of userIDs: [String]) async throws -> JSONValue {
        let body: JSONValue = .object([
            "device_keys": .object(Dictionary(userIDs.map { ($0, JSONValue.array([])) }, uniquingKeysWith: { first, _ in first }))
        ])
        return try await call(.POST, "/keys/query", body: body, as: JSONValue.self, timeout: .seconds(20), maxBytes: 8 * 1024 * 1024)
    }

    /// `POST /keys/claim`: one signed one-time key for each of these devices (user id → device ids).
    public func claimKeys(_ devices: [String: [String]]) async throws -> JSONValue {
        let wanted = devices.mapValues { ids in
            JSONValue.object(Dictionary(ids.map { ($0, JSONValue.string("signed_curve25519")) }, uniquingKeysWith: { first, _ in first }))
        }
        return try await call(
            .POST, "/keys/claim", body: JSONValue.object(["one_time_keys": .object(wanted)]), as: JSONValue.self, timeout: .seconds(20))
    }

    /// `PUT /sendToDevice/{eventType}/{txnId}`: messages to devices (user id → device id → content).
    public func sendToDevice(type: String, messages: [String: [String: JSONValue]], transactionID: String) async throws {
        let body: JSONValue = .object(["messages": .object(messages.mapValues { JSONValue.object($0) })])
        let path = "/sendToDevice/\(Self.escape(type))/\(Self.escape(transactionID))"
        _ = try await call(.PUT, path, body: body, as: NoContent.self, timeout: .seconds(20), maxWait: 120)
    }

    /// `POST /user/{userId}/filter`.
    public func createFilter(for userID: String, filter: SyncFilter) async throws -> String {
        try await call(.POST, "/user/\(Self.escape(userID))/filter", body: filter, as: FilterID.self, timeout: .seconds(10)).filter_id
    }

    /// `GET /sync`, long-polling up to `timeoutMilliseconds`.
    public func sync(since: String?, filter: String?, timeoutMilliseconds: Int) async throws -> SyncResponse {
        var query = ["timeout=\(timeoutMilliseconds)"]
        if let since { query.append("since=\(Self.escape(since))") }
        if let filter { query.append("filter=\(Self.escape(filter))") }
        return try await call(
            .GET, "/sync?" + query.joined(separator: "&"), as: SyncResponse.self, timeout: .milliseconds(Int64(timeoutMilliseconds) + 15_000),
            maxBytes: 16 * 1024 * 1024)
    }

    /// `POST /_synapse/admin/v1/users/{userId}/override_ratelimit` with zeros: Synapse's admin API for lifting a
    /// user's message rate limit. Only a server admin may call it; anyone else gets 403.
    public func exemptFromRateLimits(_ userID: String) async throws {
        _ = try await call(
            .POST, "/users/\(Self.escape(userID))/override_ratelimit", api: Self.synapseAdmin, body: RateLimitOverride.none,
            as: RateLimitOverride.self, timeout: .seconds(10))
    }

    // MARK: - Plumbing

    private struct Empty: Encodable {}

    static let clientServer = "/_matrix/client/v3"
    static let synapseAdmin = "/_synapse/admin/v1"

    /// The homeserver asked to wait (429 `M_LIMIT_EXCEEDED`) for longer than the call may wait.
    public struct RateLimited: Error, CustomStringConvertible {
        /// Seconds until the homeserver will take the request.
        public var retryAfter: TimeInterval
        public var description: String { "Matrix rate limit: retry after \(retryAfter) s" }
    }

    private func call<Response: Decodable>(
        _ method: HTTPMethod, _ path: String, as type: Response.Type, timeout: TimeAmount, maxBytes: Int = 1024 * 1024,
        maxWait: TimeInterval? = nil
    ) async throws -> Response {
        try await call(method, path, body: Optional<Empty>.none, as: type, timeout: timeout, maxBytes: maxBytes, maxWait: maxWait)
    }

    /// One request, with `timeout` for each try. A 429 is retried when the homeserver says (its `retry_after_ms`, or
    /// `Retry-After`), as often as it says, while the waiting adds up to no more than `maxWait`; past that the call
    /// throws `RateLimited` for its caller to come back later. Either way a rate limit is never a failure.
    private func call<Body: Encodable, Response: Decodable>(
        _ method: HTTPMethod, _ path: String, api: String = Self.clientServer, body: Body?, as type: Response.Type, timeout: TimeAmount,
        maxBytes: Int = 1024 * 1024, maxWait: TimeInterval? = nil
    ) async throws -> Response {
        var request = HTTPClientRequest(url: homeserver + api + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(accessToken)")
        request.headers.add(name: "User-Agent", value: "SkillRelay")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(body)))
        }
        var waited: TimeInterval = 0
        while true {
            let response = try await http.execute(request, timeout: timeout)
            let buffer = try await response.body.collect(upTo: maxBytes)
            if (200..<300).contains(response.status.code) {
                return try JSONDecoder().decode(Response.self, from: Data(buffer.readableBytesView))
            }
            let error = try? JSONDecoder().decode(ErrorBody.self, from: Data(buffer.readableBytesView))
            guard response.status.code == 429 || error?.errcode == "M_LIMIT_EXCEEDED" else {
                throw Failure(status: response.status.code, errcode: error?.errcode, message: error?.error)
            }
            let retryAfter = Self.retryAfter(milliseconds: error?.retry_after_ms, header: response.headers.first(name: "Retry-After"))
            guard waited + retryAfter <= maxWait ?? rateLimitWait else { throw RateLimited(retryAfter: retryAfter) }
            waited += retryAfter
            try await Task.sleep(for: .milliseconds(Int64((retryAfter * 1000).rounded(.up))))
        }
    }

    /// How long a 429 asks to wait: `retry_after_ms` from the body, else the `Retry-After` header's seconds, else a
    /// second (the spec lets a server leave both out).
    static func retryAfter(milliseconds: Int?, header: String?) -> TimeInterval {
        if let milliseconds { return max(0, Double(milliseconds) / 1000) }
        if let header, let seconds = Double(header.trimmingCharacters(in: .whitespaces)) { return max(0, seconds) }
        return 1
    }

    /// Percent-encodes one path segment or query value (`@`, `:`, `!`, `/` and the rest).
    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    /// RFC 3986's unreserved characters, made once (not per request).
    private static let unreserved: CharacterSet = {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return allowed
    }()
}

// The access token must never reach a log: ServiceLifecycle logs each service with String(describing:), and the
// default description of a struct prints every stored property.
extension MatrixClient: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String { "MatrixClient(\(homeserver))" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["homeserver": homeserver]) }
}
