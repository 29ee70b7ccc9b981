import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import SkillRelayDomain

/// POSTs callback bodies to bots' URLs, signed with HMAC-SHA256 so a bot can tell they come from SkillRelay.
///
/// Headers: `X-SkillRelay-Timestamp` (Unix seconds), `X-SkillRelay-Signature: sha256=<hex>` over
/// `"<timestamp>.<body>"`, and `X-SkillRelay-Delivery`, the same on every retry of one message.
public struct HTTPCallbackSender: CallbackSender {
    let client: HTTPClient
    /// The secret's bytes; `SymmetricKey` itself is not `Sendable`, so one is made per signature.
    let secret: [UInt8]
    let timeout: TimeAmount
    let clock: any WallClock

    public init(client: HTTPClient, secret: String, timeout: TimeAmount = .seconds(5), clock: any WallClock = SystemWallClock()) {
        self.client = client
        self.secret = Array(secret.utf8)
        self.timeout = timeout
        self.clock = clock
    }

    /// A non-2xx answer.
    public struct Rejected: Error, CustomStringConvertible {
        public var status: UInt
        public var description: String { "callback answered HTTP \(status)" }
    }

    public func post(_ message: CallbackMessage, key deliveryKey: String) async throws {
        let timestamp = String(Int(clock.now().timeIntervalSince1970))
        var request = HTTPClientRequest(url: message.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "SkillRelay")
        request.headers.add(name: "X-SkillRelay-Timestamp", value: timestamp)
        request.headers.add(
            name: "X-SkillRelay-Signature",
            value: "sha256=" + Self.signature(key: SymmetricKey(data: secret), timestamp: timestamp, body: message.body))
        request.headers.add(name: "X-SkillRelay-Delivery", value: deliveryKey)
        request.body = .bytes(ByteBuffer(string: message.body))
        let response = try await client.execute(request, timeout: timeout)
        // Read (and drop) at most a little of the body, so the connection can be reused.
        _ = try? await response.body.collect(upTo: 16 * 1024)
        guard (200..<300).contains(response.status.code) else { throw Rejected(status: response.status.code) }
    }

    /// The hex HMAC-SHA256 of `"<timestamp>.<body>"`.
    public static func signature(key: SymmetricKey, timestamp: String, body: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Data("\(timestamp).\(body)".utf8), using: key).map { String(format: "%02x", $0) }.joined()
    }
}
