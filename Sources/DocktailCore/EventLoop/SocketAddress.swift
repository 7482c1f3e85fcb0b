import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An address docktail listens on or connects to: IPv4, IPv6 or a unix socket path.
public enum SocketAddress: Sendable, Equatable, CustomStringConvertible {
    case ipv4(host: String, port: Int)
    case ipv6(host: String, port: Int)
    case unix(path: String)

    /// Parses `HOST:PORT`, `[V6]:PORT`, `:PORT` (all IPv4 interfaces) or `unix:///path`.
    public static func parse(_ text: String) -> SocketAddress? {
        if text.hasPrefix("unix://") { return .unix(path: String(text.dropFirst(7))) }
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":"), let port = Int(rest.dropFirst()), (0...65535).contains(port) else { return nil }
            var probe = in6_addr()
            guard inet_pton(AF_INET6, host, &probe) == 1 else { return nil }
            return .ipv6(host: host, port: port)
        }
        guard let colon = text.lastIndex(of: ":") else { return nil }
        var host = String(text[..<colon])
        guard let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        if host.isEmpty { host = "0.0.0.0" }
        if host == "localhost" { host = "127.0.0.1" }
        var probe = in_addr()
        guard inet_pton(AF_INET, host, &probe) == 1 else { return nil }
        return .ipv4(host: host, port: port)
    }

    public var description: String {
        switch self {
        case .ipv4(let h, let p): return "\(h):\(p)"
        case .ipv6(let h, let p): return "[\(h)]:\(p)"
        case .unix(let path): return "unix://\(path)"
        }
    }

    /// 127.0.0.0/8, ::1 and unix sockets: reachable from this machine only.
    public var isLoopback: Bool {
        switch self {
        case .ipv4(let h, _): return h.hasPrefix("127.")
        case .ipv6(let h, _): return h == "::1"
        case .unix: return true
        }
    }

    public var port: Int? {
        switch self {
        case .ipv4(_, let p), .ipv6(_, let p): return p
        case .unix: return nil
        }
    }

    /// Calls `body` with a sockaddr for this address.
    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        switch self {
        case .ipv4(let host, let port):
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET, host, &sin.sin_addr)
            return withUnsafePointer(to: &sin) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        case .ipv6(let host, let port):
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET6, host, &sin6.sin6_addr)
            return withUnsafePointer(to: &sin6) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
        case .unix(let path):
            var sun = sockaddr_un()
            sun.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8.prefix(107))
            withUnsafeMutableBytes(of: &sun.sun_path) { raw in
                for (i, b) in bytes.enumerated() { raw[i] = b }
                raw[bytes.count] = 0
            }
            return withUnsafePointer(to: &sun) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        }
    }

    var family: Int32 {
        switch self {
        case .ipv4: return AF_INET
        case .ipv6: return AF_INET6
        case .unix: return AF_UNIX
        }
    }

    /// The textual peer address of an accepted socket (for per-address limits and logs).
    static func peerName(of fd: Int32) -> String {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &len) } }
        guard ok == 0 else { return "?" }
        return describe(&storage)
    }

    static func localAddress(of fd: Int32) -> SocketAddress? {
        var storage = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        guard ok == 0 else { return nil }
        var buf = [CChar](repeating: 0, count: 64)
        if Int32(storage.ss_family) == AF_INET {
            return withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                var addr = sin.pointee.sin_addr
                inet_ntop(AF_INET, &addr, &buf, 64)
                return .ipv4(host: String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self), port: Int(UInt16(bigEndian: sin.pointee.sin_port)))
            } }
        } else if Int32(storage.ss_family) == AF_INET6 {
            return withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin in
                var addr = sin.pointee.sin6_addr
                inet_ntop(AF_INET6, &addr, &buf, 64)
                return .ipv6(host: String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self), port: Int(UInt16(bigEndian: sin.pointee.sin6_port)))
            } }
        }
        return nil
    }

    private static func describe(_ storage: inout sockaddr_storage) -> String {
        var buf = [CChar](repeating: 0, count: 64)
        if Int32(storage.ss_family) == AF_INET {
            withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                var addr = sin.pointee.sin_addr
                inet_ntop(AF_INET, &addr, &buf, 64)
            } }
        } else if Int32(storage.ss_family) == AF_INET6 {
            withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin in
                var addr = sin.pointee.sin6_addr
                inet_ntop(AF_INET6, &addr, &buf, 64)
            } }
        } else {
            return "unix"
        }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Thin, non-blocking wrappers over the socket calls.
public enum Sockets {
    public struct SystemError: Error, CustomStringConvertible, Sendable {
        public let call: String
        public let errno: Int32
        public var description: String { "\(call): \(String(cString: strerror(errno)))" }
    }

    static func setNonBlocking(_ fd: Int32) {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
    }

    /// A listening, non-blocking socket bound to `address`.
    public static func listen(_ address: SocketAddress, backlog: Int32 = 4096) throws -> Int32 {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError(call: "socket", errno: errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if address.family == AF_INET6 {
            // IPv6 listeners take IPv6 only, so an IPv4 listener on the same port can coexist.
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        let rc = address.withSockAddr { bind(fd, $0, $1) }
        guard rc == 0 else { let e = errno; close(fd); throw SystemError(call: "bind \(address)", errno: e) }
        guard Glibc.listen(fd, backlog) == 0 else { let e = errno; close(fd); throw SystemError(call: "listen", errno: e) }
        return fd
    }

    /// Starts a non-blocking connect. Returns the fd and whether it completed at once.
    public static func connect(_ address: SocketAddress) throws -> (fd: Int32, connected: Bool) {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError(call: "socket", errno: errno) }
        if address.family != AF_UNIX {
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        let rc = address.withSockAddr { Glibc.connect(fd, $0, $1) }
        if rc == 0 { return (fd, true) }
        let e = errno
        if e == EINPROGRESS || e == EAGAIN { return (fd, false) }
        close(fd)
        throw SystemError(call: "connect \(address)", errno: e)
    }

    /// The pending error of a socket (after a non-blocking connect).
    /// Resolves a DNS name (IPv4 and IPv6, in the resolver's order). Blocks: never call it on a loop.
    public static func resolve(host: String, port: Int) -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(first) }
        var out: [SocketAddress] = []
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let n = node {
            var buf = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            if n.pointee.ai_family == AF_INET {
                var sin = n.pointee.ai_addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee }
                if inet_ntop(AF_INET, &sin.sin_addr, &buf, socklen_t(buf.count)) != nil {
                    out.append(.ipv4(host: String(cString: buf), port: port))
                }
            } else if n.pointee.ai_family == AF_INET6 {
                var sin6 = n.pointee.ai_addr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee }
                if inet_ntop(AF_INET6, &sin6.sin6_addr, &buf, socklen_t(buf.count)) != nil {
                    out.append(.ipv6(host: String(cString: buf), port: port))
                }
            }
            node = n.pointee.ai_next
        }
        return out
    }

    static func pendingError(_ fd: Int32) -> Int32 {
        var err: Int32 = 0
        var len = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
        return err
    }

    /// Raises the open-file limit to its hard maximum (10,000+ connections need it).
    @discardableResult
    public static func raiseFileLimit() -> UInt64 {
        var lim = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &lim)
        if lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &lim)
        }
        return UInt64(lim.rlim_cur)
    }
}
