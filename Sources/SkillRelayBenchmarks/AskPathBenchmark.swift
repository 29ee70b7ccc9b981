import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Figures 3 and 5: the ask path over HTTP on a real `skillrelay serve --im matrix` process (presence and messages
/// answered by the fake IM server), against the liveness route of the same server, at a number of connections; and
/// the server's peak RSS under that load.
enum AskPathBenchmark {
    struct Load {
        var requests = 0
        var failures = 0
        /// 503 answers: the server refused the request while behind (`overloaded`), not a failure of the request.
        var refused = 0
        var latencies: [Duration] = []
        var elapsed: Duration = .zero
        /// CPU seconds the server process spent during the load.
        var serverCPU: Double?

        var perSecond: Double { Double(requests) / max(Measurement.seconds(elapsed), 1e-9) }
    }

    /// Runs `connections` loops for `seconds`, each sending `request()` and waiting for the answer.
    static func load(connections: Int, seconds: Double, request: @escaping @Sendable (Int) -> HTTPClientRequest) async -> Load {
        let clock = ContinuousClock()
        let start = clock.now
        let end = start.advanced(by: .milliseconds(Int64(seconds * 1000)))
        var total = Load()
        await withTaskGroup(of: Load.self) { group in
            for connection in 0..<connections {
                group.addTask {
                    var load = Load()
                    var sequence = 0
                    while clock.now < end {
                        sequence += 1
                        let began = clock.now
                        do {
                            let response = try await HTTPClient.shared.execute(request(connection * 1_000_000 + sequence), timeout: .seconds(10))
                            _ = try await response.body.collect(upTo: 1 << 20)
                            switch response.status.code {
                            case 200..<300:
                                load.requests += 1
                                load.latencies.append(clock.now - began)
                            case 503:
                                // Refused while the server catches up: wait as told, as a well-behaved bot would.
                                load.refused += 1
                                let seconds = response.headers.first(name: "Retry-After").flatMap { Int($0) } ?? 1
                                try? await Task.sleep(until: min(end, clock.now.advanced(by: .seconds(seconds))), clock: clock)
                            default:
                                load.failures += 1
                                load.latencies.append(clock.now - began)
                            }
                        } catch {
                            load.failures += 1
                            load.latencies.append(clock.now - began)
                        }
                    }
                    return load
                }
            }
            for await load in group {
                total.requests += load.requests
                total.failures += load.failures
                total.refused += load.refused
                total.latencies += load.latencies
            }
        }
        total.elapsed = clock.now - start
        return total
    }
}
