import Foundation
import Synchronization

/// A port on 127.0.0.1 that nothing listens on now, for a server a test starts.
///
/// Taken below the kernel's range of ephemeral ports (32768 to 60999 on Linux), from which every outgoing connection
/// takes its local port. A port the system picks (bound to port 0) comes from that range: free when picked, it could be
/// taken by an outgoing connection of a suite running beside before the server binds it (`skillrelay serve` binds only
/// once it has migrated and loaded its data), and the server then fails with "address already in use". Ports are
/// handed out in turn from a random start, so that two servers of one test run are never given the same one;
/// `Scripts/free-port` picks the scripts' ports the same way.
public func freeLoopbackPort() -> Int {
    LoopbackPorts.shared.next()
}

final class LoopbackPorts: Sendable {
    static let shared = LoopbackPorts()

    /// Below the ephemeral range, or nothing where it leaves no room (the system's pick is then the best there is).
    private let range: Range<Int>
    private let following = Mutex(0)

    init() {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        let low = text.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 32768
        range = low > 11000 ? 10000..<low : 0..<0
        following.withLock { $0 = range.isEmpty ? 0 : Int.random(in: range) }
    }

    func next() -> Int {
        for _ in 0..<min(range.count, 2000) {
            let port = following.withLock { port in
                defer { port = port + 1 < range.upperBound ? port + 1 : range.lowerBound }
                return port
            }
            if let bound = Self.bind(port: port) { return bound }
        }
        guard let picked = Self.bind(port: 0) else { preconditionFailure("cannot bind a socket on 127.0.0.1 to find a free port") }
        return picked
    }

    /// Binds a socket to `port` on 127.0.0.1 (0: the system picks) and lets it go: the port bound, or `nil` if it is taken.
    private static func bind(port: Int) -> Int? {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        precondition(descriptor >= 0, "cannot open a socket to find a free port")
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                Foundation.bind(descriptor, socketAddress, length) == 0 && getsockname(descriptor, socketAddress, &length) == 0
            }
        }
        return bound ? Int(UInt16(bigEndian: address.sin_port)) : nil
    }
}
