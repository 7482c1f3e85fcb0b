#if canImport(Glibc)
import Glibc
#endif

/// Which `Host` values docktail answers to: the defence against DNS rebinding.
///
/// A web page on `evil.example` whose name is re-pointed at 127.0.0.1 makes the browser send
/// requests to docktail that are same-origin *for that page*, with `Host: evil.example`. So the
/// Host decides, before routing: IP literals (v4 and `[v6]`), `localhost`, the hosts of the
/// listen addresses and configured names are allowed; anything else is refused (421). A
/// configured name `*.example.com` allows every subdomain of `example.com` (not the name itself).
public struct HostAllowlist: Sendable, Equatable {
    public let names: [String]

    public init(names: [String]) {
        // `logs.example.com.` is the same name as `logs.example.com` (DNS root dot).
        self.names = names.map { $0.hasSuffix(".") ? String($0.lowercased().dropLast()) : $0.lowercased() }
    }

    /// The host part of a `Host` value (`name`, `name:port`, `[v6]:port`), lowercased; nil when malformed.
    public static func hostPart(_ value: some StringProtocol) -> (host: String, port: Int?)? {
        let v = value.lowercased()
        guard !v.isEmpty, v.utf8.count <= 255 else { return nil }
        if v.hasPrefix("[") {
            guard let close = v.firstIndex(of: "]") else { return nil }
            let host = String(v[v.index(after: v.startIndex)..<close])
            let rest = v[v.index(after: close)...]
            if rest.isEmpty { return (host, nil) }
            guard rest.hasPrefix(":"), let port = parsePort(rest.dropFirst()) else { return nil }
            return (host, port)
        }
        let parts = v.split(separator: ":", omittingEmptySubsequences: false)
        switch parts.count {
        case 1: return (v, nil)
        case 2:
            guard let port = parsePort(parts[1]) else { return nil }
            return (String(parts[0]), port)
        default: return nil
        }
    }

    static func parsePort(_ s: Substring) -> Int? {
        guard !s.isEmpty, s.count <= 5, s.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let p = Int(s), p <= 65535 else { return nil }
        return p
    }

    public static func isIPLiteral(_ host: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    /// Whether a bare host name (no port) is one docktail answers to.
    public func allowsHostName(_ host: String) -> Bool {
        let h = host.hasSuffix(".") ? String(host.dropLast()) : host
        if h.isEmpty { return false }
        if Self.isIPLiteral(h) || h == "localhost" { return true }
        for name in names {
            if name.hasPrefix("*.") {
                if h.hasSuffix(name.dropFirst()) && h.count > name.count - 1 { return true }
            } else if name == h {
                return true
            }
        }
        return false
    }

    /// Whether a `Host` header value is allowed.
    public func allows(hostHeader: String) -> Bool {
        guard let (host, _) = Self.hostPart(hostHeader) else { return false }
        return allowsHostName(host)
    }
}
