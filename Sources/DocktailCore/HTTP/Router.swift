/// Maps a method and a path to a handler. Patterns are literal segments and `{name}` parameters;
/// a path that matches with another method answers 405 with `Allow` (RFC 9110 §15.5.6).
public final class Router: @unchecked Sendable {
    // Invariant: routes are added before the server starts and never changed afterwards.
    public typealias Handler = (RequestContext) -> Void

    private enum Segment { case literal(String), parameter(String) }
    private struct Route { let method: String; let segments: [Segment]; let handler: Handler }

    public enum Match {
        case found(Handler, parameters: [String: String])
        case methodNotAllowed(allow: [String])
        case notFound
    }

    private var routes: [Route] = []
    /// Handler for paths no route matches (static files).
    public var fallback: Handler?

    public init() {}

    public func add(_ method: String, _ pattern: String, _ handler: @escaping Handler) {
        let segments = pattern.split(separator: "/").map { s -> Segment in
            s.hasPrefix("{") && s.hasSuffix("}") ? .parameter(String(s.dropFirst().dropLast())) : .literal(String(s))
        }
        routes.append(Route(method: method, segments: segments, handler: handler))
    }

    public func get(_ pattern: String, _ handler: @escaping Handler) { add("GET", pattern, handler) }

    /// `segments` are the percent-decoded path segments.
    public func match(method: String, segments: [String]) -> Match {
        var allow: [String] = []
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
                return .found(route.handler, parameters: params)
            }
            allow.append(route.method)
            if route.method == "GET" { allow.append("HEAD") }
        }
        return allow.isEmpty ? .notFound : .methodNotAllowed(allow: allow)
    }

    /// Splits a raw path into percent-decoded segments; nil when an escape is malformed or
    /// decodes to a NUL byte, a slash or invalid UTF-8 (→ 400).
    public static func decodeSegments(_ rawPath: Substring) -> [String]? {
        var result: [String] = []
        for raw in rawPath.split(separator: "/", omittingEmptySubsequences: true) {
            guard let bytes = PercentDecoding.decode(raw), !bytes.contains(0), !bytes.contains(UInt8(ascii: "/")),
                  let s = String(validatingUTF8Bytes: bytes) else { return nil }
            result.append(s)
        }
        return result
    }
}

/// One request being answered. Exactly one of `respond` or `upgrade` must be called, on the
/// connection's loop (or hop there first with `loop.execute`).
public final class RequestContext: @unchecked Sendable {
    // Invariant: used on `loop` only; `respond`/`upgrade` may be called once.
    public let request: HTTPRequest
    public let parameters: [String: String]
    public let segments: [String]
    public let loop: EventLoop
    public let peer: String
    private var onRespond: ((HTTPResponse) -> Void)?
    private var onUpgrade: ((WebSocketHandler, HTTPHeaders) -> Void)?

    init(request: HTTPRequest, parameters: [String: String], segments: [String], loop: EventLoop, peer: String,
         onRespond: @escaping (HTTPResponse) -> Void, onUpgrade: @escaping (WebSocketHandler, HTTPHeaders) -> Void) {
        self.request = request
        self.parameters = parameters
        self.segments = segments
        self.loop = loop
        self.peer = peer
        self.onRespond = onRespond
        self.onUpgrade = onUpgrade
    }

    public var query: [String: String] { request.query }

    public func respond(_ response: HTTPResponse) {
        loop.assertInLoop()
        guard let r = onRespond else { return }
        onRespond = nil
        onUpgrade = nil
        r(response)
    }

    /// Completes the WebSocket handshake and hands the connection to `handler`.
    public func upgrade(to handler: WebSocketHandler, extraHeaders: HTTPHeaders = HTTPHeaders()) {
        loop.assertInLoop()
        guard let u = onUpgrade else { return }
        onRespond = nil
        onUpgrade = nil
        u(handler, extraHeaders)
    }
}
