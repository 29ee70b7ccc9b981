import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SkillRelayMatrix

/// A real account on the benchmark's Synapse, driven over the client-server API with SkillRelay's own `MatrixClient`
/// (so the baseline sends travel the same code as SkillRelay's), plus the one call that client does not have.
struct MatrixAccount: Sendable {
    let userID: String
    let token: String
    let homeserver: String
    let client: MatrixClient

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Registers `localpart` with `Scripts/synapse.sh register` (the admin API and the shared secret the script set up)
    /// and checks that the token works on `homeserver`.
    static func register(_ localpart: String, homeserver: String, script: String) async throws -> MatrixAccount {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script, "register", localpart, "password-\(localpart)"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0, !token.isEmpty else {
            throw Failure(description: "could not register \(localpart) with \(script) register")
        }
        let client = MatrixClient(http: HTTPClient.shared, homeserver: homeserver, accessToken: token)
        guard let userID = try? await client.whoAmI() else {
            throw Failure(description: "\(localpart)'s token is not valid on \(homeserver): is it the Synapse that Scripts/synapse.sh up started?")
        }
        return MatrixAccount(userID: userID, token: token, homeserver: homeserver, client: client)
    }

    /// `PUT /presence/{userId}/status`.
    func setPresence(_ presence: String) async throws {
        var request = HTTPClientRequest(url: homeserver + "/_matrix/client/v3/presence/\(Self.escape(userID))/status")
        request.method = .PUT
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: #"{"presence":"\#(presence)"}"#))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 1 << 16)
        guard response.status == .ok else { throw Failure(description: "PUT presence for \(userID) → \(response.status.code)") }
    }

    /// Long-polls `/sync` until cancelled, as a chat client would, handing every message body to `seen` the moment the
    /// answer arrives.
    func watchMessages(_ seen: @Sendable (_ body: String) -> Void) async throws {
        var since = try await client.sync(since: nil, filter: Self.messagesOnly, timeoutMilliseconds: 0).next_batch
        while !Task.isCancelled {
            let response = try await client.sync(since: since, filter: Self.messagesOnly, timeoutMilliseconds: 10_000)
            for (_, room) in response.rooms?.join ?? [:] {
                for event in room.timeline?.events ?? [] where event.type == "m.room.message" {
                    if let body = event.content?.body { seen(body) }
                }
            }
            since = response.next_batch
        }
    }

    /// An inline `/sync` filter: room messages only.
    static let messagesOnly =
        #"{"presence":{"types":[]},"account_data":{"types":[]},"room":{"timeline":{"types":["m.room.message"],"limit":50},"state":{"types":[]},"ephemeral":{"types":[]},"account_data":{"types":[]}}}"#

    static func escape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
