import Logging

/// What the application does with an open WebSocket. Calls arrive on the connection's loop.
public protocol WebSocketHandler: AnyObject {
    func webSocketDidOpen(_ connection: WebSocketConnection)
    /// A complete text or binary message from the client.
    func webSocket(_ connection: WebSocketConnection, didReceive message: WebSocketMessage)
    /// The output queue fell back under its budget's low-water mark: paused producers may go on.
    func webSocketBecameWritable(_ connection: WebSocketConnection)
    func webSocketDidClose(_ connection: WebSocketConnection)
}

extension WebSocketHandler {
    public func webSocket(_ connection: WebSocketConnection, didReceive message: WebSocketMessage) {}
    public func webSocketBecameWritable(_ connection: WebSocketConnection) {}
}

/// An upgraded connection: frames in, frames out, the close handshake and keepalive
/// (RFC 6455 §5.5, §7). Lives on its channel's loop.
public final class WebSocketConnection: SocketChannelHandler, EventLoopTickable, @unchecked Sendable {
    // Invariant: all state is confined to `channel.loop.queue`.
    public enum State: Equatable {
        case open
        /// Our close frame waits behind queued data (a slow reader of a long history). It is
        /// never cut short while the reader makes progress; one that takes nothing for
        /// `WebSocketLimits.stalledClientSeconds` is closed.
        case closeQueued
        /// Our close frame reached the socket; the peer's must arrive by `deadline` (§7.1.2).
        case closeSent(deadline: Double)
        case closed
    }

    public let channel: SocketChannel
    public var handler: WebSocketHandler?
    public private(set) var state = State.open
    private var decoder: WebSocketMessageDecoder
    private let limits: WebSocketLimits
    private var lastReceived = MonotonicClock.now()
    private var lastPingSent: Double = 0
    private let metrics: (any WebSocketMetrics)?
    /// Where protocol errors of clients are logged (debug level).
    public var logger: Logger?
    /// Binary messages are closed with 1003 unless the application takes them.
    public var acceptsBinary = false
    /// Any value the application wants to keep with the connection.
    public var userInfo: AnyObject?

    public init(channel: SocketChannel, handler: WebSocketHandler, limits: WebSocketLimits, metrics: (any WebSocketMetrics)?) {
        self.channel = channel
        self.handler = handler
        self.limits = limits
        self.metrics = metrics
        self.decoder = WebSocketMessageDecoder(maxMessageBytes: limits.maxClientMessageBytes)
        channel.budget = OutputBudget(highWater: limits.clientBufferBytes)
        channel.closeTimeout = limits.closeTimeoutSeconds
        channel.onDropped = { [metrics] n in metrics?.dropped(n) }
    }

    public var loop: EventLoop { channel.loop }
    public var isOpen: Bool { if case .open = state { return true }; return false }

    /// Called once the 101 is written; `initialBytes` arrived right after the handshake.
    func start(initialBytes: [UInt8]) {
        channel.handler = self
        loop.register(self)
        metrics?.webSocketOpened()
        handler?.webSocketDidOpen(self)
        if !initialBytes.isEmpty {
            initialBytes.withUnsafeBytes { channelRead(channel, $0) }
        }
    }

    // MARK: sending

    /// Sends an already-encoded frame (or several); `lines` > 0 marks log lines that may be
    /// dropped under backpressure.
    /// `countMetrics: false` when the caller accounts for frames in bulk (the fan-out path).
    @discardableResult
    public func send(encodedFrames: [UInt8], lines: Int = 0, countMetrics: Bool = true) -> Bool {
        guard case .open = state else { return false }
        channel.write(encodedFrames, lines: lines)
        if countMetrics { metrics?.framesOut(lines > 0 ? lines : 1, bytes: encodedFrames.count) }
        return true
    }

    public func sendText(_ text: String) {
        send(encodedFrames: WebSocketFrameEncoder.text(text))
    }

    /// Starts the closing handshake (§7.1.2).
    public func close(code: UInt16, reason: String = "") {
        guard case .open = state else { return }
        channel.write(WebSocketFrameEncoder.close(code: code, reason: reason))
        state = channel.hasQueuedOutput ? .closeQueued : .closeSent(deadline: MonotonicClock.now() + limits.closeTimeoutSeconds)
    }

    /// Fails the connection (§7.1.7): a close frame with `code`, then the TCP connection goes.
    public func fail(code: UInt16, reason: String) {
        if case .open = state { channel.write(WebSocketFrameEncoder.close(code: code, reason: reason)) }
        state = .closed
        channel.closeAfterFlush()
    }

    // MARK: SocketChannelHandler

    public func channelRead(_ channel: SocketChannel, _ bytes: UnsafeRawBufferPointer) {
        lastReceived = MonotonicClock.now()
        do {
            try decoder.decode(bytes) { handle($0) }
        } catch {
            let (code, reason) = error.closeCode
            logger?.debug("websocket protocol error", metadata: ["peer": "\(channel.peer)", "code": "\(code)", "reason": "\(reason)"])
            fail(code: code, reason: reason)
        }
    }

    private func handle(_ message: WebSocketMessage) {
        switch message {
        case .ping(let payload):
            // §5.5.3: a pong carries the ping's payload.
            if case .open = state { channel.write(WebSocketFrameEncoder.encode(opcode: .pong, payload: payload)) }
        case .pong:
            break
        case .close(let code, _):
            switch state {
            case .open:
                // §5.5.1: echo the status code, then the server closes the TCP connection first (§7.1.1).
                channel.write(WebSocketFrameEncoder.close(code: code ?? WebSocketCloseCode.normalClosure.rawValue))
                state = .closed
                channel.closeAfterFlush()
            case .closeSent:
                state = .closed
                channel.close()
            case .closeQueued:
                // Both sides said close; ours still has to reach the peer.
                state = .closed
                channel.closeAfterFlush()
            case .closed:
                break
            }
        case .binary where !acceptsBinary:
            // §7.4.1: 1003, "a type of data it cannot accept" — docktail's endpoints speak text only.
            if case .open = state { fail(code: WebSocketCloseCode.unsupportedData.rawValue, reason: "text messages only") }
        case .text, .binary:
            if case .open = state { handler?.webSocket(self, didReceive: message) }
        }
    }

    public func channelReadEOF(_ channel: SocketChannel) {
        state = .closed
        channel.close()
    }

    public func channelDrained(_ channel: SocketChannel) {
        if case .closeQueued = state { state = .closeSent(deadline: MonotonicClock.now() + limits.closeTimeoutSeconds) }
    }

    public func channelWritable(_ channel: SocketChannel) {
        if case .open = state { handler?.webSocketBecameWritable(self) }
    }

    public func channelClosed(_ channel: SocketChannel, errno: Int32?) {
        state = .closed
        loop.unregister(self)
        metrics?.webSocketClosed()
        let h = handler
        handler = nil
        h?.webSocketDidClose(self)
    }

    // MARK: timers

    public func tick(now: Double) {
        switch state {
        case .closeSent(let deadline):
            if now > deadline { state = .closed; channel.close() }
        case .closeQueued:
            if now - channel.lastWriteProgress > limits.stalledClientSeconds { state = .closed; channel.close() }
        case .open:
            if channel.hasQueuedOutput && now - channel.lastWriteProgress > limits.stalledClientSeconds {
                // A reader that makes no progress is closed (policy violation); its queue is cut.
                close(code: WebSocketCloseCode.policyViolation.rawValue, reason: "client too slow")
                return
            }
            // A peer that takes queued output is alive even if it sends nothing (its pong may wait
            // behind a long history, or in the kernel while reading is stopped for backpressure);
            // queued output only moves when the peer acknowledges it.
            let alive = max(lastReceived, channel.lastWriteProgress)
            if now - alive > limits.pongTimeoutSeconds {
                state = .closed
                channel.close()
            } else if now - lastReceived > limits.pingIntervalSeconds && now - lastPingSent > limits.pingIntervalSeconds {
                lastPingSent = now
                channel.write(WebSocketFrameEncoder.encode(opcode: .ping, payload: [UInt8]()))
            }
        case .closed:
            break
        }
    }

    public func shutdown() {
        close(code: WebSocketCloseCode.goingAway.rawValue, reason: "server shutting down")
    }
}
