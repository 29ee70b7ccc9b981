import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A real Matrix user on the test Synapse, driven over the client-server API as their IM client would.
struct MatrixUser: Sendable {
    let userID: String
    let token: String
    let homeserver: String

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Registers (or logs in) a user through `Scripts/synapse.sh register`; `admin` makes them a server admin. `stateDirectory`
    /// names another test Synapse than the usual one (its `SYNAPSE_STATE_DIR`).
    static func register(_ localpart: String, homeserver: String, admin: Bool = false, stateDirectory: String? = nil) throws -> MatrixUser {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        if let stateDirectory {
            var environment = ProcessInfo.processInfo.environment
            environment["SYNAPSE_STATE_DIR"] = stateDirectory
            process.environment = environment
        }
        process.arguments =
            [SynapseEnvironment.projectDirectory + "/Scripts/synapse.sh", "register", localpart, "password-\(localpart)"] + (admin ? ["admin"] : [])
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0, !token.isEmpty else { throw Failure(description: "could not register \(localpart)") }
        return MatrixUser(userID: "@\(localpart):localhost", token: token, homeserver: homeserver)
    }

    /// One request, as a well-behaved client makes it: a 429 is tried again when the homeserver says.
    @discardableResult
    func call(_ method: HTTPMethod, _ path: String, _ body: [String: Any]? = nil) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: homeserver + "/_matrix/client/v3" + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
        }
        while true {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
            let bytes = try await response.body.collect(upTo: 8 * 1024 * 1024)
            let json = (try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView))) as? [String: Any] ?? [:]
            if response.status.code == 429 {
                try await Task.sleep(for: .milliseconds((json["retry_after_ms"] as? Int) ?? 1000))
                continue
            }
            guard (200..<300).contains(response.status.code) else {
                throw Failure(description: "\(method) \(path) → \(response.status.code) \(json)")
            }
            return json
        }
    }

    static func escape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// Opens a direct room with someone (the SkillRelay bot) and returns its id.
    func openDirectRoom(with other: String) async throws -> String {
        let json = try await call(.POST, "/createRoom", ["is_direct": true, "invite": [other], "preset": "trusted_private_chat"])
        guard let room = json["room_id"] as? String else { throw Failure(description: "no room id") }
        return room
    }

    func joinedMembers(_ room: String) async throws -> [String] {
        let json = try await call(.GET, "/rooms/\(Self.escape(room))/joined_members")
        return Array((json["joined"] as? [String: Any] ?? [:]).keys)
    }

    func join(_ room: String) async throws { try await call(.POST, "/join/\(Self.escape(room))", [:]) }

    func setPresence(_ presence: String) async throws {
        try await call(.PUT, "/presence/\(Self.escape(userID))/status", ["presence": presence])
    }

    /// Someone's presence as this user sees it (`online`, `unavailable`, `offline`).
    func presence(of other: String) async throws -> String? {
        try await call(.GET, "/presence/\(Self.escape(other))/status")["presence"] as? String
    }

    /// Sends a text message, optionally as a reply; returns the event id.
    @discardableResult
    func say(_ text: String, in room: String, replyingTo event: String? = nil) async throws -> String {
        var content: [String: Any] = ["msgtype": "m.text", "body": text]
        if let event { content["m.relates_to"] = ["m.in_reply_to": ["event_id": event]] }
        let json = try await call(.PUT, "/rooms/\(Self.escape(room))/send/m.room.message/\(UUID().uuidString)", content)
        return json["event_id"] as? String ?? ""
    }

    /// A room's text messages, oldest first: (event id, sender, body). Read with /messages, not /sync, so reading does
    /// not change the reader's presence.
    func messages(in room: String) async throws -> [(id: String, sender: String, body: String)] {
        let json = try await call(.GET, "/rooms/\(Self.escape(room))/messages?dir=b&limit=100")
        let chunk = json["chunk"] as? [[String: Any]] ?? []
        return chunk.reversed().compactMap { event in
            guard event["type"] as? String == "m.room.message", let content = event["content"] as? [String: Any],
                let body = content["body"] as? String
            else { return nil }
            return (event["event_id"] as? String ?? "", event["sender"] as? String ?? "", body)
        }
    }

    /// What a failed story says of a room: each message's sender and first words, oldest first.
    func transcript(of room: String) async -> String {
        guard let messages = try? await messages(in: room) else { return "\(userID)'s room \(room): could not be read" }
        let lines = messages.map { "  \($0.sender) [\($0.id)]: \($0.body.prefix(70).replacingOccurrences(of: "\n", with: " "))" }
        return (["\(userID)'s room \(room):"] + lines).joined(separator: "\n")
    }

    /// Every text message of a room, oldest first, read back page by page with /messages.
    func allMessages(in room: String) async throws -> [(id: String, sender: String, body: String)] {
        var messages: [(id: String, sender: String, body: String)] = []
        var from: String?
        repeat {
            let json = try await call(.GET, "/rooms/\(Self.escape(room))/messages?dir=b&limit=100" + (from.map { "&from=\(Self.escape($0))" } ?? ""))
            let chunk = json["chunk"] as? [[String: Any]] ?? []
            for event in chunk {
                guard event["type"] as? String == "m.room.message", let content = event["content"] as? [String: Any],
                    let body = content["body"] as? String
                else { continue }
                messages.append((event["event_id"] as? String ?? "", event["sender"] as? String ?? "", body))
            }
            from = chunk.isEmpty ? nil : json["end"] as? String
        } while from != nil
        return messages.reversed()
    }

    /// Rooms this user is invited to.
    func invitedRooms() async throws -> [String] {
        let json = try await call(.GET, "/sync?timeout=0&set_presence=offline&filter=\(Self.escape(#"{"room":{"timeline":{"limit":1}}}"#))")
        return Array(((json["rooms"] as? [String: Any])?["invite"] as? [String: Any] ?? [:]).keys)
    }
}

/// Where the test Synapse is: `.synapse/env`, written by `Scripts/synapse.sh up`.
enum SynapseEnvironment {
    static let projectDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    static var url: String? {
        if let url = ProcessInfo.processInfo.environment["SYNAPSE_URL"] { return url }
        guard let text = try? String(contentsOfFile: projectDirectory + "/.synapse/env", encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first { $0.hasPrefix("SYNAPSE_URL=") }.map { String($0.dropFirst("SYNAPSE_URL=".count)) }
    }

    /// Whether the running Synapse keeps the rate limits Synapse ships (`Scripts/synapse.sh up --stock`).
    static var hasStockRateLimits: Bool {
        guard let text = try? String(contentsOfFile: projectDirectory + "/.synapse/env", encoding: .utf8) else { return false }
        return text.split(separator: "\n").contains("SYNAPSE_RATE_LIMITS=stock")
    }

    /// Whether a Synapse answers at `url`.
    static var isRunning: Bool {
        guard let url, let versions = URL(string: url + "/_matrix/client/versions") else { return false }
        return (try? Data(contentsOf: versions)) != nil
    }
}

/// Polls until `check` returns a value, for at most `seconds`.
func eventually<T>(_ seconds: Double, _ what: String, _ check: () async throws -> T?) async throws -> T {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if let value = try await check() { return value }
        try await Task.sleep(for: .milliseconds(200))
    }
    throw MatrixUser.Failure(description: "timed out waiting for \(what)")
}
