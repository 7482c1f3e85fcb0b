/// Every size and time limit docktail enforces, in one place, with its default.
///
/// Each limit is checked at the first byte that reveals it (a length field, a header line that
/// grows past its bound), never after the data has been buffered.
public struct Limits: Sendable, Equatable {
    // MARK: HTTP (RFC 9112)

    /// Longest request line (method, target, version). Longer → 414.
    public var maxRequestLineBytes = 8 * 1024
    /// Largest header block (all field lines together). Larger → 431.
    public var maxHeaderBytes = 16 * 1024
    /// Most header fields in one request. More → 431.
    public var maxHeaderFields = 100
    /// Largest request body docktail accepts (it only ever needs small ones). Larger → 413.
    public var maxRequestBodyBytes = 64 * 1024
    /// Largest HTTP response docktail builds (a static file or a container list); with it, a
    /// client that never reads its answers is closed instead of queued without end.
    public var maxResponseBytes = 8 * 1024 * 1024
    /// A client must finish its request head within this many seconds (slowloris defence).
    public var headerTimeoutSeconds: Double = 10
    /// Idle keep-alive HTTP connections are closed after this many seconds.
    public var keepAliveTimeoutSeconds: Double = 30

    // MARK: WebSocket (RFC 6455)

    /// Largest message a client may send, across all its fragments. Larger → close 1009.
    public var maxClientMessageBytes = 64 * 1024
    /// A close handshake the peer has not answered within this many seconds is cut.
    public var closeTimeoutSeconds: Double = 5
    /// A WebSocket client idle this long is pinged.
    public var pingIntervalSeconds: Double = 30
    /// A client that has not answered (sent anything) for this long is dropped.
    public var pongTimeoutSeconds: Double = 60

    // MARK: Streaming

    /// Bytes of outbound data queued per client before its oldest log lines are dropped.
    public var clientBufferBytes = 4 * 1024 * 1024
    /// A client whose queue makes no progress for this long is closed with 1008.
    public var stalledClientSeconds: Double = 60
    /// Longest log line delivered whole; longer lines are truncated with a marker.
    public var maxLineBytes = 1024 * 1024
    /// Recent lines kept per watched container for new subscribers.
    public var ringLines = 1000
    /// Bytes of recent lines kept per watched container (lines may be up to `maxLineBytes`).
    public var ringBytes = 4 * 1024 * 1024
    /// Bytes of live lines kept for one subscriber while it reads older history itself; past it
    /// the oldest go and the subscriber is told how many (`dropped`).
    public var catchUpBytes = 8 * 1024 * 1024
    /// Bytes of lines one `tail=N` request may hold while it finds where its last N lines begin;
    /// past it docktail streams them from the engine instead (see `LogTailLocator`).
    public var historyBufferBytes = 8 * 1024 * 1024
    /// Default `tail` when a client does not give one.
    public var defaultTail = 100
    /// Seconds an upstream log stream stays open after its last subscriber left.
    public var upstreamLingerSeconds: Double = 5

    // MARK: Connections

    /// Most concurrent client connections (0 = unlimited). Past it → 503.
    public var maxConnections = 0
    /// Most concurrent connections from one client address (0 = unlimited). Past it → 503.
    public var maxConnectionsPerAddress = 0

    // MARK: Docker engine client

    /// Connect timeout towards an engine.
    public var engineConnectTimeoutSeconds: Double = 5
    /// Timeout of a short engine call (version, inspect, list).
    public var engineRequestTimeoutSeconds: Double = 15
    /// Largest response head from an engine.
    public var engineMaxHeaderBytes = 64 * 1024
    /// Largest buffered (non-streamed) engine response body.
    public var engineMaxBodyBytes = 64 * 1024 * 1024

    public init() {}
}
