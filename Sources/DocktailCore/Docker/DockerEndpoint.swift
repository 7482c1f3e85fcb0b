/// Where an engine listens: `unix:///var/run/docker.sock` or `tcp://host:port` (plain HTTP).
public struct DockerEndpoint: Sendable, Equatable {
    public let url: String
    public let address: SocketAddress
    /// The Host header to send (RFC 9112 §3.2 requires one).
    public let hostHeader: String

    public init?(url: String) {
        self.url = url
        if url.hasPrefix("unix://") {
            let path = String(url.dropFirst("unix://".count))
            // sockaddr_un holds 107 bytes and a NUL: a longer path would be cut silently.
            guard path.hasPrefix("/"), path.utf8.count <= 107, !path.utf8.contains(0) else { return nil }
            address = .unix(path: path)
            hostHeader = "docker"
        } else if url.hasPrefix("tcp://") || url.hasPrefix("http://") {
            var rest = String(url.drop { $0 != "/" }.dropFirst(2))
            if rest.hasSuffix("/") { rest.removeLast() }
            guard !rest.isEmpty, let addr = SocketAddress.parse(rest.contains(":") ? rest : rest + ":2375") else { return nil }
            address = addr
            hostHeader = rest
        } else {
            return nil
        }
    }
}
