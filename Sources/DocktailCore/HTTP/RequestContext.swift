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
