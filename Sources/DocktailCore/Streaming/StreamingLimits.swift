/// The streaming layer's limits, in one place, with their defaults. Every buffer is bounded in
/// bytes: a line may be up to `maxLineBytes`, so a line count alone bounds nothing.
public struct StreamingLimits: Sendable, Equatable {
    /// Longest log line delivered whole; longer lines are truncated with a marker.
    public var maxLineBytes = 1024 * 1024
    /// Recent lines kept per watched container for new subscribers…
    public var ringLines = 1000
    /// …and at most this many bytes of them.
    public var ringBytes = 4 * 1024 * 1024
    /// Bytes of live lines kept for one subscriber while it reads older history itself; past it
    /// the oldest go and the subscriber is told exactly how many it missed (`dropped`).
    public var catchUpBytes = 8 * 1024 * 1024
    /// Bytes of lines one `tail=N` request may hold while it finds where its last N lines begin;
    /// past it docktail streams them from the engine instead (see `LogTailLocator`).
    public var historyBufferBytes = 8 * 1024 * 1024
    /// Default `tail` when a client does not give one.
    public var defaultTail = 100
    /// Seconds an upstream log stream stays open after its last subscriber left.
    public var upstreamLingerSeconds: Double = 5

    public init() {}
}

/// What the streaming layer counts; the application's metrics implement it.
public protocol StreamingMetrics: AnyObject, Sendable {
    func subscriberAdded()
    func subscriberRemoved()
    func upstreamOpened()
    func upstreamClosed()
    func lines(in n: Int)
    func framesOut(_ n: Int, bytes: Int)
    func engineError()
}
