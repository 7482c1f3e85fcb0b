/// The engine client's limits, in one place, with their defaults.
public struct EngineLimits: Sendable, Equatable {
    /// Connect timeout towards an engine (name resolution included).
    public var connectTimeoutSeconds: Double = 5
    /// Timeout of a short engine call (version, inspect, list), on a fresh or reused connection.
    public var requestTimeoutSeconds: Double = 15
    /// Largest response head from an engine.
    public var maxHeaderBytes = 64 * 1024
    /// Largest buffered (non-streamed) engine response body.
    public var maxBodyBytes = 64 * 1024 * 1024

    public init() {}
}

/// What the engine client counts; the application's metrics implement it.
public protocol EngineMetrics: AnyObject, Sendable {
    func engineError()
    func engineRequest()
}
