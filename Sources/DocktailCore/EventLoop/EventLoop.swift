import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Something a loop checks once per tick (timeouts, keepalive pings, stalled writers).
public protocol EventLoopTickable: AnyObject {
    /// Called on the loop's queue about once a second with the current monotonic time.
    func tick(now: Double)
    /// The server is stopping: say goodbye (close 1001 for WebSockets).
    func shutdown()
}

extension EventLoopTickable {
    public func shutdown() {}
}

/// One serial Dispatch queue that owns a set of sockets. Every socket, parser and session that
/// belongs to a loop is touched only on its queue, so they need no locks.
public final class EventLoop: @unchecked Sendable {
    // Invariant: every `var` below is read and written only on `queue`.
    public let queue: DispatchQueue
    public let index: Int
    /// Scratch buffer every read on this loop goes through: one allocation per loop rather than
    /// one per connection keeps idle connections small.
    let readBuffer: UnsafeMutableRawBufferPointer
    private var tickables: [ObjectIdentifier: EventLoopTickable] = [:]
    private var timer: DispatchSourceTimer?

    public init(index: Int) {
        self.index = index
        self.queue = DispatchQueue(label: "docktail.loop.\(index)")
        self.readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
        let timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + 1, repeating: 1.0, leeway: .milliseconds(100))
        timer.setEventHandler { [unowned self] in self.runTicks() }
        timer.resume()
        self.timer = timer
    }

    deinit { readBuffer.deallocate() }

    /// Runs `block` on this loop's queue.
    @inline(__always)
    public func execute(_ block: @escaping @Sendable () -> Void) {
        queue.async(execute: block)
    }

    /// Runs `block` on this loop after `seconds`.
    public func schedule(after seconds: Double, _ block: @escaping @Sendable () -> Void) {
        queue.asyncAfter(deadline: .now() + seconds, execute: block)
    }

    @inline(__always)
    public func assertInLoop() {
        dispatchPrecondition(condition: .onQueue(queue))
    }

    public func register(_ tickable: EventLoopTickable) {
        assertInLoop()
        tickables[ObjectIdentifier(tickable)] = tickable
    }

    public func unregister(_ tickable: EventLoopTickable) {
        assertInLoop()
        tickables.removeValue(forKey: ObjectIdentifier(tickable))
    }

    private func runTicks() {
        let now = MonotonicClock.now()
        for t in Array(tickables.values) { t.tick(now: now) }
    }

    public var tickableCount: Int { tickables.count }

    /// Calls `shutdown()` on everything registered.
    public func shutdownAll() {
        assertInLoop()
        for t in Array(tickables.values) { t.shutdown() }
    }
}

/// Seconds on a monotonic clock.
public enum MonotonicClock {
    @inline(__always)
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Wall-clock nanoseconds since the Unix epoch.
    public static func wallNanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}

/// A fixed set of loops, one per core unless told otherwise; connections are spread round-robin.
public final class EventLoopGroup: @unchecked Sendable {
    public let loops: [EventLoop]
    // Invariant: `nextIndex` is only touched under `lock`.
    private var nextIndex = 0
    private let lock = NSLock()

    public init(count: Int = ProcessInfo.processInfo.activeProcessorCount) {
        loops = (0..<max(1, count)).map { EventLoop(index: $0) }
    }

    public func next() -> EventLoop {
        lock.lock()
        defer { lock.unlock() }
        nextIndex = (nextIndex + 1) % loops.count
        return loops[nextIndex]
    }
}
