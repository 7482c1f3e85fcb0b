/// Every limit docktail enforces, by layer: each layer documents its own in one place
/// (`HTTPLimits`, `WebSocketLimits`, `EngineLimits`, `StreamingLimits`) and is handed its part,
/// so the lower layers never depend on the application. `Configuration` fills them in.
public struct Limits: Sendable, Equatable {
    public var http = HTTPLimits()
    public var webSocket = WebSocketLimits()
    public var engine = EngineLimits()
    public var streaming = StreamingLimits()

    public init() {}

    /// Closing deadlines are one setting (`timeouts.close`) for both protocols.
    public var closeTimeoutSeconds: Double {
        get { webSocket.closeTimeoutSeconds }
        set { webSocket.closeTimeoutSeconds = newValue; http.closeTimeoutSeconds = newValue }
    }
}
