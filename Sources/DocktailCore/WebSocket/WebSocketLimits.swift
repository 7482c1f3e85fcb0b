/// The WebSocket layer's limits, in one place, with their defaults (RFC 6455).
public struct WebSocketLimits: Sendable, Equatable {
    /// Largest message a client may send, across all its fragments. Larger → close 1009,
    /// decided from the frame header before the payload is read.
    public var maxClientMessageBytes = 64 * 1024
    /// Once our close frame reaches the socket, the peer's must arrive within this many seconds.
    public var closeTimeoutSeconds: Double = 5
    /// A client idle this long is pinged.
    public var pingIntervalSeconds: Double = 30
    /// A client that has not sent anything for this long is dropped.
    public var pongTimeoutSeconds: Double = 60
    /// Bytes of outbound data queued per client: its output budget's high-water mark (past it
    /// reading stops and the oldest log lines are dropped, counted and announced).
    public var clientBufferBytes = 4 * 1024 * 1024
    /// A client whose queue makes no progress for this long is closed (1008; also while our
    /// close frame waits behind a long history).
    public var stalledClientSeconds: Double = 60

    public init() {}
}

/// What the WebSocket layer counts; the application's metrics implement it.
public protocol WebSocketMetrics: AnyObject, Sendable {
    func webSocketOpened()
    func webSocketClosed()
    func framesOut(_ n: Int, bytes: Int)
    func dropped(_ n: Int)
}
