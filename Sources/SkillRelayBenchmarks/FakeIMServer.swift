import Foundation
import Hummingbird
import Logging
import Synchronization

/// A fake Matrix homeserver for benchmarks (in process, named a fake): every presence request answers `online`
/// after `latency`, and requests are counted.
final class FakeIMServer: Sendable {
    let latency: Duration
    private let requests = Mutex(0)

    init(latency: Duration) { self.latency = latency }

    var requestCount: Int { requests.withLock { $0 } }

    func application(port: Int) -> some ApplicationProtocol {
        let router = Router()
        router.get("/_matrix/client/v3/presence/:user/status") { _, _ -> Response in
            self.requests.withLock { $0 += 1 }
            try await Task.sleep(for: self.latency)
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: #"{"presence":"online","currently_active":true}"#)))
        }
        var logger = Logger(label: "fake-im")
        logger.logLevel = .critical
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
    }
}
