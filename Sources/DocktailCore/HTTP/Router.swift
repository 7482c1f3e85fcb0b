/// Who may use a route. The access gate decides on this, on exactly the route the router
/// dispatches to, never on the raw path a client chose.
public enum RouteAccess: Sendable, Equatable {
    /// Any Host, no token (`/healthz`: load balancers and orchestrators probe it by IP or name).
    case open
    /// Allowed Hosts only, no token: UI code that is the same for everyone and says nothing
    /// about containers (so a page on another origin can load the `<docktail-log>` module).
    case publicAsset
    /// Allowed Hosts only, and a token when tokens are configured.
    case protected
}

/// Maps a method and a path to a handler. Patterns are literal segments and `{name}` parameters;
/// a path that matches with another method answers 405 with `Allow` (RFC 9110 §15.5.6).
public final class Router: @unchecked Sendable {
    // Invariant: routes are added before the server starts and never changed afterwards.
    public typealias Handler = (RequestContext) -> Void

    private enum Segment { case literal(String), parameter(String) }
    private struct Route {
        let method: String
        let segments: [Segment]
        let access: RouteAccess
        let webSocket: Bool
        let handler: Handler
    }

    public enum Match {
        case found(Handler, parameters: [String: String])
        case methodNotAllowed(allow: [String])
        case notFound
    }

    /// Where a request goes and who may send it: computed once, used by the gate and the
    /// dispatcher alike, so every spelling of a path gets the decision of the route it reaches.
    public struct Resolution {
        /// The percent-decoded segments (empty segments from `//` or a trailing `/` dropped).
        public let segments: [String]
        public let match: Match
        /// The fallback (static files) is protected; unmatched paths are too (they get 404 or 401).
        public let access: RouteAccess
        /// Whether the route speaks WebSocket; an upgrade to any other route is refused (400).
        public let acceptsWebSocket: Bool
        public var isFound: Bool { if case .found = match { return true }; return false }
    }

    private var routes: [Route] = []
    /// Handler for paths no route matches (static files).
    public var fallback: Handler?

    public init() {}

    public func add(_ method: String, _ pattern: String, access: RouteAccess = .protected, webSocket: Bool = false,
                    _ handler: @escaping Handler) {
        let segments = pattern.split(separator: "/").map { s -> Segment in
            s.hasPrefix("{") && s.hasSuffix("}") ? .parameter(String(s.dropFirst().dropLast())) : .literal(String(s))
        }
        routes.append(Route(method: method, segments: segments, access: access, webSocket: webSocket, handler: handler))
    }

    public func get(_ pattern: String, access: RouteAccess = .protected, webSocket: Bool = false, _ handler: @escaping Handler) {
        add("GET", pattern, access: access, webSocket: webSocket, handler)
    }

    /// Decodes the path and finds its route. Nil when the path is malformed (→ 400).
    public func resolve(method: String, rawPath: Substring) -> Resolution? {
        guard let segments = Self.decodeSegments(rawPath) else { return nil }
        // `.` and `..` have no place in a canonical path: such a spelling reaches nothing (404).
        if segments.contains(where: { $0 == "." || $0 == ".." }) {
            return Resolution(segments: segments, match: .notFound, access: .protected, acceptsWebSocket: false)
        }
        var allow: [String] = []
        var allowAccess: RouteAccess = .protected
        for route in routes where route.segments.count == segments.count {
            var params: [String: String] = [:]
            var ok = true
            for (seg, value) in zip(route.segments, segments) {
                switch seg {
                case .literal(let l): if l != value { ok = false }
                case .parameter(let name): if value.isEmpty { ok = false } else { params[name] = value }
                }
                if !ok { break }
            }
            guard ok else { continue }
            // HEAD is served by GET handlers (RFC 9110 §9.3.2).
            if route.method == method || (method == "HEAD" && route.method == "GET") {
                return Resolution(segments: segments, match: .found(route.handler, parameters: params),
                                  access: route.access, acceptsWebSocket: route.webSocket)
            }
            allow.append(route.method)
            if route.method == "GET" { allow.append("HEAD") }
            allowAccess = route.access
        }
        if !allow.isEmpty {
            return Resolution(segments: segments, match: .methodNotAllowed(allow: allow), access: allowAccess, acceptsWebSocket: false)
        }
        return Resolution(segments: segments, match: .notFound, access: .protected, acceptsWebSocket: false)
    }

    /// `segments` are the percent-decoded path segments.
    public func match(method: String, segments: [String]) -> Match {
        resolve(method: method, rawPath: Substring("/" + segments.map { $0.addingPercentEscapesForPath() }.joined(separator: "/")))?.match ?? .notFound
    }

    /// Splits a raw path into percent-decoded segments; nil when an escape is malformed or
    /// decodes to a NUL byte, a slash or invalid UTF-8 (→ 400).
    public static func decodeSegments(_ rawPath: Substring) -> [String]? {
        // Origin-form only (RFC 9112 §3.2.1): the target must start with a slash.
        guard rawPath.hasPrefix("/") else { return nil }
        var result: [String] = []
        for raw in rawPath.split(separator: "/", omittingEmptySubsequences: true) {
            guard let bytes = PercentDecoding.decode(raw), !bytes.contains(0), !bytes.contains(UInt8(ascii: "/")),
                  let s = String(validatingUTF8Bytes: bytes) else { return nil }
            result.append(s)
        }
        return result
    }
}

extension String {
    /// Percent-escapes everything but unreserved characters (RFC 3986 §2.3).
    func addingPercentEscapesForPath() -> String {
        var out = ""
        for b in utf8 {
            switch b {
            case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x2D, 0x2E, 0x5F, 0x7E: out.unicodeScalars.append(Unicode.Scalar(b))
            default: out += "%" + String(b, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }

    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
