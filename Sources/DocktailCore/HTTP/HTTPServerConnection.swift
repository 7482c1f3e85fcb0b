/// One client connection speaking HTTP/1.1 until it upgrades to WebSocket. Requests are answered
/// one at a time and in order: while a handler works (possibly asking an engine), reading pauses
/// and pipelined requests wait in the parser; while the client does not read its answers (the
/// output budget is over its high-water mark), the next request waits too. Every waiting state
/// has a deadline: the request head from its first byte (empty lines included), keep-alive from
/// the last complete request, closing from the channel's `closeTimeout`, a streamed answer from
/// its last write progress (`HTTPResponseStream.stallTimeoutSeconds`).
final class HTTPServerConnection: SocketChannelHandler, EventLoopTickable, HTTPResponseStreamOwner, @unchecked Sendable {
    // Invariant: confined to `channel.loop.queue`.
    private enum State {
        /// Waiting for (more of) a request; `partialSince` is when its first byte arrived.
        case reading(partialSince: Double?)
        /// A handler owns the current request.
        case responding
        /// The answer's head is sent and its body is being streamed (the request is still in
        /// flight: the next one waits until the stream finishes).
        case streaming(HTTPResponseStream)
        /// Handed over to a `WebSocketConnection`.
        case upgraded
        case closed
    }

    let channel: SocketChannel
    private unowned let server: HTTPServer
    private var parser: HTTPRequestParser
    private var state = State.reading(partialSince: nil)
    /// When the last complete request was answered (keep-alive is refreshed by nothing else).
    private var lastActivity = MonotonicClock.now()
    /// A `processBuffered` is scheduled (answers never recurse into the next request).
    private var processScheduled = false
    /// The client finished sending (half-close) while a request was in flight.
    private var peerFinished = false

    init(channel: SocketChannel, server: HTTPServer) {
        self.channel = channel
        self.server = server
        self.parser = HTTPRequestParser(limits: server.limits)
        // Answers are small and undroppable: the budget only bounds a client that never reads.
        channel.budget = OutputBudget(highWater: 256 * 1024, lowWater: 64 * 1024,
                                      hardLimit: 256 * 1024 + server.limits.maxResponseBytes)
        channel.closeTimeout = server.limits.closeTimeoutSeconds
    }

    func start() {
        channel.handler = self
        channel.loop.register(self)
        channel.start()
    }

    func channelRead(_ channel: SocketChannel, _ bytes: UnsafeRawBufferPointer) {
        parser.append(bytes)
        // The head's deadline runs from its first byte (a CRLF before the request line counts).
        if case .reading(nil) = state, !bytes.isEmpty { state = .reading(partialSince: MonotonicClock.now()) }
        processBuffered()
    }

    func channelWritable(_ channel: SocketChannel) {
        switch state {
        case .reading: scheduleProcessing()
        case .streaming(let stream): stream.ownerWritable()
        default: break
        }
    }

    func channelReadEOF(_ channel: SocketChannel) {
        // A half-closed client may still be waiting for its answer: close once it is sent.
        switch state {
        case .responding, .streaming: peerFinished = true; return
        default: break
        }
        channel.closeAfterFlush()
    }

    /// Parses and dispatches requests until one is in flight, bytes run out, or the client has
    /// not read enough of its answers.
    private func processBuffered() {
        while case .reading = state {
            guard channel.isWritable else { return } // resumed by `channelWritable`
            let request: HTTPRequest?
            do {
                request = try parser.next()
            } catch {
                let response = HTTPErrorMapping.response(for: error)
                server.logger.debug("bad request", metadata: ["peer": "\(channel.peer)", "status": "\(response.status)", "error": "\(error)"])
                sendAndClose(response)
                return
            }
            guard var request else {
                if parser.takeContinueRequest() { channel.write(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)) }
                return
            }
            request.isSecure = channel.tls != nil
            state = .responding
            channel.pauseReading()
            server.metrics.request()
            dispatch(request)
        }
    }

    /// Resolves the route once; the gate and the dispatch both use that resolution.
    private func dispatch(_ request: HTTPRequest) {
        guard let resolution = server.router.resolve(method: request.method, rawPath: request.rawPath) else {
            finish(.error(400, "malformed path"), request: request)
            return
        }
        if let denial = server.gate?(request, resolution, channel.peer) {
            finish(denial, request: request)
            return
        }
        var upgradeKey: String?
        if request.isWebSocketUpgrade {
            // Only WebSocket endpoints upgrade; any other route answering its page to an
            // upgrade request would hide a client's mistake.
            guard resolution.acceptsWebSocket else {
                finish(.error(400, "this route is not a WebSocket endpoint"), request: request)
                return
            }
            do {
                upgradeKey = try WebSocketHandshake.validate(request, allowedOrigins: server.allowedOrigins,
                                                             allowedHosts: server.allowedHosts)
            } catch {
                server.logger.debug("handshake refused", metadata: ["peer": "\(channel.peer)", "error": "\(error)"])
                finish(HTTPErrorMapping.response(for: error), request: request)
                return
            }
        }
        let loop = channel.loop
        let segments = resolution.segments
        let finishResponse: (HTTPResponse) -> Void = { [self] response in finish(response, request: request) }
        let startStream: (HTTPResponse) -> HTTPResponseStream? = { [self] head in beginStream(head, request: request) }
        let upgrade: (WebSocketHandler, HTTPHeaders) -> Void = { [self] handler, _ in
            guard let key = upgradeKey else {
                finish(.error(426, "this route needs a WebSocket upgrade"), request: request)
                return
            }
            completeUpgrade(key: key, handler: handler)
        }
        switch resolution.match {
        case .found(let handler, let parameters):
            let context = RequestContext(request: request, parameters: parameters, segments: segments, loop: loop,
                                         peer: channel.peer, onRespond: finishResponse, onUpgrade: upgrade, onStream: startStream)
            handler(context)
        case .methodNotAllowed(let allow):
            var r = HTTPResponse.error(405, "method not allowed")
            r.headers.add("Allow", allow.joined(separator: ", "))
            finish(r, request: request)
        case .notFound:
            if let fallback = server.router.fallback, request.method == "GET" || request.method == "HEAD",
               !segments.contains(where: { $0 == "." || $0 == ".." }) {
                let context = RequestContext(request: request, parameters: [:], segments: segments, loop: loop,
                                             peer: channel.peer, onRespond: finishResponse, onUpgrade: upgrade, onStream: startStream)
                fallback(context)
            } else {
                finish(.error(404, "not found"), request: request)
            }
        }
    }

    private func finish(_ response: HTTPResponse, request: HTTPRequest) {
        guard case .responding = state, channel.isOpen else { return }
        var response = response
        server.decorate?(request, &response)
        let keepAlive = request.keepAlive && response.status < 500 && response.status != 400 && !peerFinished
        channel.write(response.serialized(keepAlive: keepAlive, head: request.method == "HEAD"))
        exchangeDone(keepAlive: keepAlive)
    }

    /// The answer is queued: close after it, or go on with the next request.
    private func exchangeDone(keepAlive: Bool) {
        if !keepAlive {
            state = .closed
            channel.closeAfterFlush()
            return
        }
        lastActivity = MonotonicClock.now()
        state = .reading(partialSince: parser.hasPartialRequest ? lastActivity : nil)
        channel.resumeReading()
        // The next pipelined request is taken on a later turn of the loop: a handler that
        // answers at once never recurses into the next request.
        scheduleProcessing()
    }

    // MARK: streamed answers

    /// Sends the head of a streamed answer; its body follows through the returned stream.
    private func beginStream(_ head: HTTPResponse, request: HTTPRequest) -> HTTPResponseStream? {
        guard case .responding = state, channel.isOpen else { return nil }
        var head = head
        server.decorate?(request, &head)
        let headOnly = request.method == "HEAD"
        // Chunks need an HTTP/1.1 client (RFC 9112 §6.1: no Transfer-Encoding towards 1.0); a
        // 1.0 client's body ends when the connection closes. A HEAD answer has no body at all.
        let chunked = request.versionMinor >= 1
        let keepAlive = request.keepAlive && !peerFinished && head.status < 500 && head.status != 400 && (chunked || headOnly)
        channel.write(HTTPResponseStream.serializedHead(head, chunked: chunked, keepAlive: keepAlive))
        let stream = HTTPResponseStream(loop: channel.loop, chunked: chunked, keepAlive: keepAlive, headOnly: headOnly)
        stream.owner = self
        state = .streaming(stream)
        if headOnly { stream.finish() }
        return stream
    }

    var streamIsWritable: Bool { channel.isOpen && channel.isWritable }

    func streamWrite(_ bytes: [UInt8]) {
        guard case .streaming = state else { return }
        // Undroppable: producers wait for `isWritable`, so the queue stays near its high-water
        // mark and the budget's hard limit only cuts a producer that ignores it.
        channel.write(bytes)
    }

    func streamFinished(_ stream: HTTPResponseStream) {
        guard case .streaming(let current) = state, current === stream, channel.isOpen else { return }
        if stream.chunked && !stream.isHeadOnly { channel.write(HTTPResponseStream.lastChunk) }
        exchangeDone(keepAlive: stream.keepAlive)
    }

    func streamAborted(_ stream: HTTPResponseStream) {
        guard case .streaming(let current) = state, current === stream else { return }
        // What is queued goes out, then the connection closes without the last chunk.
        state = .closed
        channel.closeAfterFlush()
    }

    private func scheduleProcessing() {
        guard !processScheduled else { return }
        processScheduled = true
        channel.loop.execute { [self] in
            processScheduled = false
            processBuffered()
        }
    }

    private func sendAndClose(_ response: HTTPResponse) {
        state = .closed
        channel.write(response.serialized(keepAlive: false))
        channel.closeAfterFlush()
    }

    private func completeUpgrade(key: String, handler: WebSocketHandler) {
        guard case .responding = state, channel.isOpen else { return }
        state = .upgraded
        channel.loop.unregister(self)
        channel.write(WebSocketHandshake.response(acceptingKey: key))
        let leftover = parser.stop()
        let ws = WebSocketConnection(channel: channel, handler: handler, limits: server.webSocketLimits, metrics: server.webSocketMetrics)
        ws.logger = server.logger
        ws.start(initialBytes: leftover)
        channel.resumeReading()
    }

    func channelClosed(_ channel: SocketChannel, errno: Int32?) {
        let previous = state
        state = .closed
        channel.loop.unregister(self)
        // The client went away (or was cut) in the middle of a streamed answer.
        if case .streaming(let stream) = previous { stream.ownerClosed() }
    }

    func tick(now: Double) {
        switch state {
        case .reading(let partialSince):
            if let since = partialSince, now - since > server.limits.headerTimeoutSeconds {
                // Slowloris: the request head did not complete in time.
                sendAndClose(.error(408, "request head not completed in time"))
            } else if partialSince == nil && !channel.hasQueuedOutput && now - lastActivity > server.limits.keepAliveTimeoutSeconds {
                state = .closed
                channel.close()
            }
        case .streaming(let stream):
            // A client that takes nothing of a streamed answer for this long is cut.
            if channel.hasQueuedOutput && now - channel.lastWriteProgress > stream.stallTimeoutSeconds {
                server.logger.debug("streamed answer stalled", metadata: ["peer": "\(channel.peer)"])
                channel.close()
            }
        default:
            break
        }
    }

    func shutdown() {
        switch state {
        case .reading: state = .closed; channel.close()
        // A streamed answer is cut (its producer is told through `channelClosed`).
        case .streaming: channel.close()
        default: break
        }
    }
}
