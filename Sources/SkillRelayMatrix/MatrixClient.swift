import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The slice of the Matrix client-server API SkillRelay uses, over one shared AsyncHTTPClient. Every request has a
/// deadline and every body is read with an upper bound. The access token goes in a header and is never logged.
public struct MatrixClient: Sendable {
    let http: HTTPClient
    let homeserver: String
    let accessToken: String

    public init(http: HTTPClient, homeserver: String, accessToken: String) {
        self.http = http
        self.homeserver = homeserver.hasSuffix("/") ? String(homeserver.dropLast()) : homeserver
        self.accessToken = accessToken
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
    }

    // MARK: - Calls

    /// `GET /account/whoami`: the bot's own user id.
    public func whoAmI() async throws -> String {
        try await call(.GET, "/account/whoami", as: WhoAmI.self, timeout: .seconds(10)).user_id
    }

    /// `GET /presence/{userId}/status`.
    public func presence(of userID: String, timeout: TimeAmount) async throws -> PresenceStatus {
        try await call(.GET, "/presence/\(Self.escape(userID))/status", as: PresenceStatus.self, timeout: timeout)
    }

    /// `POST /createRoom`: a direct, trusted private chat with one person invited.
    public func createDirectRoom(inviting userID: String) async throws -> String {
        let body = CreateRoom(is_direct: true, invite: [userID], preset: "trusted_private_chat")
        return try await call(.POST, "/createRoom", body: body, as: RoomID.self, timeout: .seconds(10)).room_id
    }

    /// `POST /join/{roomId}`.
    public func join(_ roomID: String) async throws {
        _ = try await call(.POST, "/join/\(Self.escape(roomID))", body: Empty(), as: RoomID.self, timeout: .seconds(10))
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
    public func send(_ message: TextMessage, to roomID: String, transactionID: String) async throws -> String {
        let path = "/rooms/\(Self.escape(roomID))/send/m.room.message/\(Self.escape(transactionID))"
        return try await call(.PUT, path, body: message, as: EventID.self, timeout: .seconds(10)).event_id
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

    // MARK: - Plumbing

    private struct Empty: Encodable {}

    private func call<Response: Decodable>(
        _ method: HTTPMethod, _ path: String, as type: Response.Type, timeout: TimeAmount, maxBytes: Int = 1024 * 1024
    ) async throws -> Response {
        try await call(method, path, body: Optional<Empty>.none, as: type, timeout: timeout, maxBytes: maxBytes)
    }

    private func call<Body: Encodable, Response: Decodable>(
        _ method: HTTPMethod, _ path: String, body: Body?, as type: Response.Type, timeout: TimeAmount, maxBytes: Int = 1024 * 1024
    ) async throws -> Response {
        var request = HTTPClientRequest(url: homeserver + "/_matrix/client/v3" + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(accessToken)")
        request.headers.add(name: "User-Agent", value: "SkillRelay")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(body)))
        }
        let response = try await http.execute(request, timeout: timeout)
        let buffer = try await response.body.collect(upTo: maxBytes)
        guard (200..<300).contains(response.status.code) else {
            let error = try? JSONDecoder().decode(ErrorBody.self, from: Data(buffer.readableBytesView))
            throw Failure(status: response.status.code, errcode: error?.errcode, message: error?.error)
        }
        return try JSONDecoder().decode(Response.self, from: Data(buffer.readableBytesView))
    }

    private struct ErrorBody: Decodable {
        var errcode: String?
        var error: String?
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
