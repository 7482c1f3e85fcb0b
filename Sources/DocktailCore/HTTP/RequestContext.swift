/// One request being answered. Exactly one of `respond`, `respondStreaming` or `upgrade` must be
/// called, on the connection's loop (or hop there first with `loop.execute`).
public final class RequestContext: @unchecked Sendable {
    // Invariant: used on `loop` only; `respond`/`respondStreaming`/`upgrade` may be called once.
    public let request: HTTPRequest
    public let parameters: [String: String]
    public let segments: [String]
    public let loop: EventLoop
    public let peer: String
    private var onRespond: ((HTTPResponse) -> Void)?
    private var onUpgrade: ((WebSocketHandler, HTTPHeaders) -> Void)?
    private var onStream: ((HTTPResponse) -> HTTPResponseStream?)?

    init(request: HTTPRequest, parameters: [String: String], segments: [String], loop: EventLoop, peer: String,
         onRespond: @escaping (HTTPResponse) -> Void, onUpgrade: @escaping (WebSocketHandler, HTTPHeaders) -> Void,
         onStream: ((HTTPResponse) -> HTTPResponseStream?)? = nil) {
        self.request = request
        self.parameters = parameters
        self.segments = segments
        self.loop = loop
        self.peer = peer
        self.onRespond = onRespond
        self.onUpgrade = onUpgrade
        self.onStream = onStream
    }

    public var query: [String: String] { request.query }

    public func respond(_ response: HTTPResponse) {
        loop.assertInLoop()
        guard let r = onRespond else { return }
        onRespond = nil
        onUpgrade = nil
        onStream = nil
        r(response)
    }

    /// Sends `head` (its status and headers; its body is ignored) and returns the stream that
    /// carries the body chunk by chunk (see `HTTPResponseStream`). Nil when the request was
    /// already answered or the client is gone. For a HEAD request the returned stream is
    /// already finished.
    public func respondStreaming(head: HTTPResponse) -> HTTPResponseStream? {
        loop.assertInLoop()
        guard let s = onStream else { return nil }
        onRespond = nil
        onUpgrade = nil
        onStream = nil
        return s(head)
    }

    /// Completes the WebSocket handshake and hands the connection to `handler`.
    public func upgrade(to handler: WebSocketHandler, extraHeaders: HTTPHeaders = HTTPHeaders()) {
        loop.assertInLoop()
        guard let u = onUpgrade else { return }
        onRespond = nil
        onUpgrade = nil
        onStream = nil
        u(handler, extraHeaders)
    }
}
