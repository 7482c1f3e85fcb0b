import Dispatch
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Accepts connections on one or more addresses and spreads them over the loops of a group.
public final class HTTPServer: @unchecked Sendable {
    // Invariant: `listeners` and `acceptSources` are touched on `acceptQueue` only (after start);
    // the rest is immutable after `start`, or synchronised (`limiter`, `metrics`).
    public let group: EventLoopGroup
    public let router: Router
    public let limits: HTTPLimits
    public let webSocketLimits: WebSocketLimits
    public let metrics: any HTTPServerMetrics
    public let webSocketMetrics: (any WebSocketMetrics)?
    public var allowedOrigins: [String]
    /// Host names WebSocket origins may name (besides IP literals and localhost).
    public var allowedHosts: HostAllowlist
    /// Runs after the route is resolved and before it is dispatched; a response here answers the
    /// request (Host allowlist, authentication). It sees the same resolution the dispatch uses.
    public var gate: ((HTTPRequest, Router.Resolution, String) -> HTTPResponse?)?
    /// Runs on every response before it is written (CORS headers, cookies).
    public var decorate: ((HTTPRequest, inout HTTPResponse) -> Void)?
    let logger: Logger
    private let acceptQueue = DispatchQueue(label: "docktail.accept")
    private var acceptSources: [DispatchSourceRead] = []
    private let limiter: ConnectionLimiter
    /// Out of file descriptors: accepting pauses until this time (acceptQueue only).
    private var acceptPausedUntil = 0.0
    /// Sources suspended by the fd back-off; kept until resumed (a suspended source must not be released).
    private var suspendedAcceptSources: [DispatchSourceRead] = []
    private var lastFDWarning = -Double.infinity
    /// Refused connections still being answered (each holds an fd for up to a second).
    private let lingeringRejects = ManagedAtomicCounter()
    /// At most this many refused connections are answered at once; past it they are closed at once.
    static let maxLingeringRejects = 256

    public init(group: EventLoopGroup, router: Router, limits: HTTPLimits, webSocketLimits: WebSocketLimits,
                metrics: any HTTPServerMetrics, webSocketMetrics: (any WebSocketMetrics)?, allowedOrigins: [String] = [],
                allowedHosts: HostAllowlist = HostAllowlist(names: []), logger: Logger) {
        self.group = group
        self.router = router
        self.limits = limits
        self.webSocketLimits = webSocketLimits
        self.metrics = metrics
        self.webSocketMetrics = webSocketMetrics
        self.allowedOrigins = allowedOrigins
        self.allowedHosts = allowedHosts
        self.logger = logger
        self.limiter = ConnectionLimiter(maxTotal: limits.maxConnections, maxPerAddress: limits.maxConnectionsPerAddress)
    }

    /// One address to listen on; with `tls` it serves HTTPS and WSS.
    public struct Listener: Sendable {
        public var address: SocketAddress
        public var tls: TLSServerIdentity?
        public init(address: SocketAddress, tls: TLSServerIdentity? = nil) {
            self.address = address
            self.tls = tls
        }
    }

    /// Binds every address (plain HTTP) and starts accepting; returns the bound addresses.
    @discardableResult
    public func start(addresses: [SocketAddress]) throws -> [SocketAddress] {
        try start(listeners: addresses.map { Listener(address: $0) })
    }

    /// Binds every listener and starts accepting; returns the bound addresses (real ports for port 0).
    @discardableResult
    public func start(listeners: [Listener]) throws -> [SocketAddress] {
        var bound: [SocketAddress] = []
        for listener in listeners {
            let fd = try Sockets.listen(listener.address)
            let actual = SocketAddress.localAddress(of: fd) ?? listener.address
            bound.append(actual)
            let tls = listener.tls
            let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: acceptQueue)
            source.setEventHandler { [unowned self] in self.acceptAll(fd, tls: tls) }
            source.setCancelHandler { Glibc.close(fd) }
            acceptSources.append(source)
            source.resume()
        }
        return bound
    }

    /// What a TLS listener answers, in clear text, to plain HTTP (then it closes).
    static let plainHTTPRefusal = HTTPResponse.error(400, "this port speaks HTTPS: use https:// (and wss://)").serialized(keepAlive: false)

    private func acceptAll(_ listenFD: Int32, tls: TLSServerIdentity?) {
        if MonotonicClock.now() < acceptPausedUntil { return }
        while true {
            let fd = accept(listenFD, nil, nil)
            if fd < 0 {
                let e = errno
                if e == EINTR || e == ECONNABORTED { continue }
                if e == EMFILE || e == ENFILE {
                    // The pending connection stays in the backlog and the source would fire at
                    // once again: back off instead of spinning, and say so once per interval.
                    let now = MonotonicClock.now()
                    acceptPausedUntil = now + 0.25
                    if now - lastFDWarning > 10 {
                        lastFDWarning = now
                        logger.warning("accept: out of file descriptors; pausing accepts", metadata: ["open": "\(limiter.total)"])
                    }
                    metrics.rejected()
                    suspendAccepting(for: 0.25)
                }
                return
            }
            Sockets.setNonBlocking(fd)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let peer = SocketAddress.peerName(of: fd)
            guard limiter.acquire(peer) else {
                metrics.rejected()
                // A TLS client cannot read a clear-text 503, and a handshake is what an overload
                // cannot afford: closed at once.
                if tls != nil { Glibc.close(fd); continue }
                guard lingeringRejects.increment() <= Self.maxLingeringRejects else {
                    // A flood of refused connections: no answer, no held fd.
                    lingeringRejects.decrement()
                    Glibc.close(fd)
                    continue
                }
                let loop = group.next()
                let counter = lingeringRejects
                loop.execute { RejectedConnection(fd: fd, loop: loop, onClose: { counter.decrement() }).start() }
                continue
            }
            metrics.connectionOpened()
            let loop = group.next()
            loop.execute { [self] in
                let channel = SocketChannel(fd: fd, loop: loop, peer: peer)
                if let tls {
                    do {
                        channel.useTLS(try TLSSession(context: tls.context, peerRole: "client"))
                    } catch {
                        logger.error("TLS session: \(error)")
                        channel.onClose.append { [self] in released(peer: peer) }
                        channel.close()
                        return
                    }
                    channel.plainHTTPRefusal = Self.plainHTTPRefusal
                    channel.tlsHandshakeTimeout = limits.headerTimeoutSeconds
                }
                let connection = HTTPServerConnection(channel: channel, server: self)
                // The limiter slot is released when the channel closes, whoever handles it by then.
                channel.onClose.append { [self] in released(peer: peer) }
                connection.start()
            }
        }
    }

    /// Stops the accept sources for a while (file descriptors ran out).
    private func suspendAccepting(for seconds: Double) {
        // The closure keeps the sources: a source must be resumed before it is released, even
        // when shutdown cancelled it meanwhile.
        let sources = acceptSources
        for s in sources { s.suspend() }
        suspendedAcceptSources = sources
        acceptQueue.asyncAfter(deadline: .now() + seconds) { [self] in
            for s in suspendedAcceptSources { s.resume() }
            suspendedAcceptSources = []
        }
    }

    private func released(peer: String) {
        limiter.release(peer)
        metrics.connectionClosed()
    }

    /// Stops accepting, sends close 1001 to every WebSocket and closes idle HTTP connections.
    public func shutdown() {
        acceptQueue.sync {
            for s in acceptSources { s.cancel() }
            acceptSources.removeAll()
        }
        for loop in group.loops { loop.execute { loop.shutdownAll() } }
    }

    public var openConnections: Int { limiter.total }
}

/// A connection over the caps: it gets a 503, its request is read and dropped (closing with
/// unread input would reset the connection and lose the answer), and it is closed within a second.
private final class RejectedConnection: SocketChannelHandler, @unchecked Sendable {
    // Invariant: confined to the channel's loop.
    let channel: SocketChannel

    init(fd: Int32, loop: EventLoop, onClose: @escaping () -> Void) {
        channel = SocketChannel(fd: fd, loop: loop)
        channel.onClose.append(onClose)
    }

    func start() {
        channel.handler = self
        channel.start()
        channel.write(HTTPResponse.error(503, "too many connections").serialized(keepAlive: false))
        Glibc.shutdown(channel.fd, Int32(SHUT_WR))
        channel.loop.schedule(after: 1) { [self] in channel.close() }
    }

    func channelRead(_ channel: SocketChannel, _ bytes: UnsafeRawBufferPointer) {}
    func channelClosed(_ channel: SocketChannel, errno: Int32?) {}
}

/// A counter shared across queues.
final class ManagedAtomicCounter: @unchecked Sendable {
    // Invariant: `value` under `lock`.
    private let lock = NSLock()
    private var value = 0

    @discardableResult
    func increment() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
    func decrement() { lock.lock(); value -= 1; lock.unlock() }
}

/// Global and per-address connection caps (0 = unlimited).
final class ConnectionLimiter: @unchecked Sendable {
    // Invariant: all state under `lock`.
    private let lock = NSLock()
    private let maxTotal: Int
    private let maxPerAddress: Int
    private(set) var total = 0
    private var perAddress: [String: Int] = [:]

    init(maxTotal: Int, maxPerAddress: Int) {
        self.maxTotal = maxTotal
        self.maxPerAddress = maxPerAddress
    }

    func acquire(_ peer: String) -> Bool {
        lock.lock(); defer { lock.unlock() }
        if maxTotal > 0 && total >= maxTotal { return false }
        let current = perAddress[peer, default: 0]
        if maxPerAddress > 0 && current >= maxPerAddress { return false }
        total += 1
        perAddress[peer] = current + 1
        return true
    }

    func release(_ peer: String) {
        lock.lock(); defer { lock.unlock() }
        total -= 1
        let c = perAddress[peer, default: 1] - 1
        if c <= 0 { perAddress.removeValue(forKey: peer) } else { perAddress[peer] = c }
    }
}
