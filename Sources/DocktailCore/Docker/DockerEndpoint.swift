/// Where an engine listens: `unix:///var/run/docker.sock` or `tcp://host:port` (`http://` and
/// `https://` are accepted too; whether TLS is spoken is the engine's `tls` setting, as for the
/// Docker CLI). A `tcp://` host may be an IPv4 or `[IPv6]` literal or a DNS name (resolved at
/// each connect, off the loop); the port defaults to 2375 (2376 for `https://`).
public struct DockerEndpoint: Sendable, Equatable {
    public enum Target: Sendable, Equatable {
        case address(SocketAddress)
        case name(host: String, port: Int)
    }

    public let url: String
    public let target: Target
    /// The Host header to send (RFC 9112 §3.2 requires one).
    public let hostHeader: String
    /// The host an engine certificate must name (nil for unix sockets).
    public let hostName: String?

    public init?(url: String) {
        self.url = url
        if url.hasPrefix("unix://") {
            let path = String(url.dropFirst("unix://".count))
            // sockaddr_un holds 107 bytes and a NUL: a longer path would be cut silently.
            guard path.hasPrefix("/"), path.utf8.count <= 107, !path.utf8.contains(0) else { return nil }
            target = .address(.unix(path: path))
            hostHeader = "docker"
            hostName = nil
        } else if url.hasPrefix("tcp://") || url.hasPrefix("http://") || url.hasPrefix("https://") {
            var rest = String(url.drop { $0 != "/" }.dropFirst(2))
            if rest.hasSuffix("/") { rest.removeLast() }
            guard !rest.isEmpty, let (host, port) = HostAllowlist.hostPart(rest) else { return nil }
            let p = port ?? (url.hasPrefix("https://") ? 2376 : 2375)
            guard p > 0 else { return nil }
            if HostAllowlist.isIPLiteral(host) {
                guard let addr = SocketAddress.parse(host.contains(":") ? "[\(host)]:\(p)" : "\(host):\(p)") else { return nil }
                target = .address(addr)
            } else {
                // RFC 1123 host names: letters, digits, hyphens and dots.
                let ok = host.utf8.count <= 253 && host.utf8.allSatisfy { b in
                    (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x2E
                } && !host.hasPrefix("-") && !host.hasPrefix(".")
                guard ok else { return nil }
                target = .name(host: host, port: p)
            }
            hostHeader = rest
            hostName = host
        } else {
            return nil
        }
    }

    /// Whether the engine is on this machine (a unix socket or a loopback address).
    public var isLocal: Bool {
        switch target {
        case .address(let a): return a.isLoopback
        case .name(let host, _): return host == "localhost"
        }
    }
}
