import Foundation
import Hummingbird
import NIOCore

/// One server-sent event.
struct ServerSentEvent: Sendable {
    var event: String
    var data: String
    var id: String?

    var text: String {
        var text = id.map { "id: \($0)\n" } ?? ""
        text += "event: \(event)\n"
        for line in data.split(separator: "\n", omittingEmptySubsequences: false) { text += "data: \(line)\n" }
        return text + "\n"
    }
}

extension Response {
    /// A `text/event-stream` response: the `past` events first, then each live event, with a comment every
    /// `heartbeat` so proxies keep the connection; ends when `live` ends or after an event `isLast` accepts.
    static func eventStream(
        past: [ServerSentEvent], live: AsyncStream<ServerSentEvent>?, heartbeat: Duration = .seconds(15),
        isLast: @escaping @Sendable (ServerSentEvent) -> Bool
    ) -> Response {
        let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]
        let body = ResponseBody { writer in
            for event in past {
                try await writer.write(ByteBuffer(string: event.text))
                if isLast(event) {
                    try await writer.finish(nil)
                    return
                }
            }
            guard let live else {
                try await writer.finish(nil)
                return
            }
            // Live events and heartbeats merge into one stream, which ends with the live one.
            let (frames, continuation) = AsyncStream.makeStream(of: String.self)
            let forward = Task {
                for await event in live {
                    continuation.yield(event.text)
                    if isLast(event) { break }
                }
                continuation.finish()
            }
            let beat = Task {
                while !Task.isCancelled {
                    try await Task.sleep(for: heartbeat)
                    continuation.yield(": keep-alive\n\n")
                }
            }
            defer {
                forward.cancel()
                beat.cancel()
            }
            try await writer.write(ByteBuffer(string: ": connected\n\n"))
            for await frame in frames { try await writer.write(ByteBuffer(string: frame)) }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }
}
