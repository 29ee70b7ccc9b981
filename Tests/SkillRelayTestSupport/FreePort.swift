import Foundation

/// A port on 127.0.0.1 that nothing listens on right now, as the system picks one: bound to port 0, read back and let
/// go. A port picked at random may be one the system is using for an outgoing connection (its ephemeral range, 32768 to
/// 60999 on Linux, holds every client socket of the suites running beside), and a server started on it fails with
/// "address already in use".
public func freeLoopbackPort() -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    precondition(descriptor >= 0, "cannot open a socket to find a free port")
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
            bind(descriptor, socketAddress, length) == 0 && getsockname(descriptor, socketAddress, &length) == 0
        }
    }
    precondition(bound, "cannot bind a socket on 127.0.0.1 to find a free port")
    return Int(UInt16(bigEndian: address.sin_port))
}
