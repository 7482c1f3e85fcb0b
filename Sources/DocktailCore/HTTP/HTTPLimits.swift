/// The HTTP layer's limits, in one place, with their defaults (RFC 9112). Each is checked at the
/// first byte that reveals it (a length field, a header line that grows past its bound), never
/// after the data has been buffered.
public struct HTTPLimits: Sendable, Equatable {
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
    /// A client must finish its request head within this many seconds of its first byte
    /// (slowloris defence; empty lines before the request line count).
    public var headerTimeoutSeconds: Double = 10
    /// Idle keep-alive HTTP connections are closed after this many seconds (only a complete
    /// request refreshes it).
    public var keepAliveTimeoutSeconds: Double = 30
    /// A response to a client that closes after it (or stops reading) is cut when the client
    /// takes nothing for this many seconds.
    public var closeTimeoutSeconds: Double = 5
    /// Most concurrent client connections (0 = unlimited). Past it → 503.
    public var maxConnections = 0
    /// Most concurrent connections from one client address (0 = unlimited). Past it → 503.
    public var maxConnectionsPerAddress = 0

    public init() {}
}

/// What the HTTP layer counts; the application's metrics implement it.
public protocol HTTPServerMetrics: AnyObject, Sendable {
    func connectionOpened()
    func connectionClosed()
    func request()
    func rejected()
}
