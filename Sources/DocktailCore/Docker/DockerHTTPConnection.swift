import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Receives one engine response, piece by piece. Calls arrive on the connection's loop.
public protocol DockerResponseHandler: AnyObject {
    func dockerResponseHead(_ head: HTTPResponseParser.Head)
    func dockerResponseBody(_ bytes: UnsafeRawBufferPointer)
    /// The bytes of one socket read have all been delivered: a good moment to flush batches
    /// (the engine sends each log entry as its own chunk; one read holds hundreds).
    func dockerResponseReadComplete()
    /// The response ended (nil) or failed.
    func dockerResponseEnd(_ error: DockerError?)
}

extension DockerResponseHandler {
    public func dockerResponseReadComplete() {}
}

/// One HTTP/1.1 connection to an engine, on one loop: a non-blocking connect with a timeout
/// (which covers the TLS handshake when the engine speaks TLS), then requests one at a time. Kept alive for reuse by short calls; a followed stream owns
/// its connection until it ends.
public final class DockerHTTPConnection: SocketChannelHandler, @unchecked Sendable {
    // Invariant: confined to `loop.queue`.
    private enum State {
        case connecting
        case idle
        case busy
        case closed
    }

    public let loop: EventLoop
    let endpoint: DockerEndpoint
    private var state = State.connecting
    private var channel: SocketChannel?
    private var connectSource: DispatchSourceWrite?
    private var parser = HTTPResponseParser()
    private var handler: DockerResponseHandler?
    private var pendingRequest: [UInt8]?
    private var requestKeepAlive = true
    private var onConnected: ((DockerError?) -> Void)?
    /// Set when the connection can serve another request after this one.
    public private(set) var reusable = false

    private let maxHeadBytes: Int
    /// The engine's TLS (nil: plain HTTP).
    private let tls: TLSContext?
    /// Responses started on this connection (the first one tells a TLS port from a plain one).
    private var responses = 0
    /// Some response bytes arrived on this connection.
    private var sawResponseBytes = false
    /// The head of a first 400 on a plain connection, until its body shows whether the port speaks TLS.
    private var heldHead: HTTPResponseParser.Head?

    init(loop: EventLoop, endpoint: DockerEndpoint, tls: TLSContext? = nil, maxHeadBytes: Int = EngineLimits().maxHeaderBytes) {
        self.loop = loop
        self.endpoint = endpoint
        self.tls = tls
        self.maxHeadBytes = maxHeadBytes
    }

    /// Connects (timeout `seconds`, name resolution included), then calls `done` on the loop,
    /// exactly once, unless `close()` came first (then never).
    func connect(timeout seconds: Double, done: @escaping (DockerError?) -> Void) {
        loop.assertInLoop()
        guard case .connecting = state, onConnected == nil else { done(.unreachable("connection closed")); return }
        onConnected = done
        loop.schedule(after: seconds) { [self] in
            guard let cb = onConnected else { return }
            onConnected = nil
            state = .closed
            closeChannelAndConnectSource()
            cb(.unreachable("connect timed out"))
        }
        switch endpoint.target {
        case .address(let address):
            connect(to: [address])
        case .name(let host, let port):
            // getaddrinfo blocks: resolve off the loop (on one serial queue, so a DNS outage
            // holds one thread, not one per request), then connect on the loop.
            let loop = self.loop
            Self.resolver.async { [self] in
                let addresses = Sockets.resolve(host: host, port: port)
                loop.execute { [self] in
                    guard onConnected != nil, case .connecting = state else { return }
                    guard !addresses.isEmpty else { fail(.unreachable("cannot resolve \(host)")); return }
                    connect(to: addresses)
                }
            }
        }
    }

    private func fail(_ error: DockerError) {
        guard let cb = onConnected else { return }
        onConnected = nil
        state = .closed
        closeChannelAndConnectSource()
        cb(error)
    }

    static let resolver = DispatchQueue(label: "docktail.resolver")

    /// Holds the channel to close once the connect source is cancelled: an fd must not be
    /// closed (and maybe reused by the next socket) while a source still watches it.
    private final class CloseOnCancel: @unchecked Sendable {
        // Invariant: touched on the connection's loop only (the source's queue).
        var channel: SocketChannel?
    }
    private var closeOnCancel: CloseOnCancel?

    /// Closes the channel, after its connect source (if any) is gone.
    private func closeChannelAndConnectSource(_ target: SocketChannel? = nil) {
        let victim = target ?? channel
        if target == nil { channel = nil }
        if let source = connectSource {
            victim?.handler = nil
            closeOnCancel?.channel = victim
            connectSource = nil
            source.cancel()
        } else {
            victim?.close()
        }
    }

    /// Tries `addresses` in order (a name may resolve to IPv6 and IPv4; the engine may listen on one).
    private func connect(to addresses: [SocketAddress]) {
        guard let address = addresses.first else { return }
        let rest = Array(addresses.dropFirst())
        let fd: Int32, connected: Bool
        do {
            (fd, connected) = try Sockets.connect(address)
        } catch {
            if rest.isEmpty { fail(.unreachable("\(error)")) } else { connect(to: rest) }
            return
        }
        let channel = SocketChannel(fd: fd, loop: loop, peer: endpoint.url)
        channel.handler = self
        self.channel = channel
        if connected {
            established(channel)
            return
        }
        let source = DispatchSource.makeWriteSource(fileDescriptor: fd, queue: loop.queue)
        let closer = CloseOnCancel()
        closeOnCancel = closer
        source.setCancelHandler { closer.channel?.close(); closer.channel = nil }
        source.setEventHandler { [self] in
            let err = Sockets.pendingError(fd)
            guard let cb = onConnected else { return }
            if err != 0 {
                if !rest.isEmpty {
                    // This address refused: close its channel once its source is gone, try the next.
                    closeChannelAndConnectSource()
                    connect(to: rest)
                    return
                }
                onConnected = nil
                state = .closed
                closeChannelAndConnectSource()
                cb(.unreachable(String(cString: strerror(err))))
            } else {
                connectSource?.cancel()
                connectSource = nil
                established(channel)
            }
        }
        connectSource = source
        source.resume()
    }

    /// TCP is up: ready now, or once the TLS handshake is done (`channelSecured`).
    private func established(_ channel: SocketChannel) {
        guard let tls else {
            state = .idle
            channel.start()
            let cb = onConnected
            onConnected = nil
            cb?(nil)
            return
        }
        do {
            channel.useTLS(try TLSSession(context: tls, peerName: endpoint.hostName, peerRole: "engine"))
        } catch {
            fail(.tls(error.message))
            return
        }
        // The connect timeout, still pending, bounds the handshake; this is a second guard.
        channel.tlsHandshakeTimeout = 60
        channel.start()
    }

    public func channelSecured(_ channel: SocketChannel) {
        guard case .connecting = state, let cb = onConnected else { return }
        onConnected = nil
        state = .idle
        cb(nil)
    }

    /// Sends `GET path` and feeds the response to `handler`.
    func get(_ path: String, keepAlive: Bool, handler: DockerResponseHandler) {
        loop.assertInLoop()
        guard case .idle = state, let channel else {
            handler.dockerResponseEnd(.unreachable("connection not ready"))
            return
        }
        state = .busy
        self.handler = handler
        parser = HTTPResponseParser(maxHeadBytes: maxHeadBytes)
        heldHead = nil
        responses += 1
        reusable = false
        requestKeepAlive = keepAlive
        // docktail only ever reads from an engine: every request is a GET.
        let request = "GET \(path) HTTP/1.1\r\nHost: \(endpoint.hostHeader)\r\nUser-Agent: docktail\r\n" +
            (keepAlive ? "" : "Connection: close\r\n") + "\r\n"
        channel.write(Array(request.utf8))
    }

    public func pauseReading() { channel?.pauseReading() }
    public func resumeReading() { channel?.resumeReading() }

    /// Terminal: a pending connect is abandoned (its callback never runs, its source is
    /// cancelled before the fd closes) and no request is sent afterwards.
    public func close() {
        state = .closed
        onConnected = nil
        closeChannelAndConnectSource()
    }

    public func channelRead(_ channel: SocketChannel, _ bytes: UnsafeRawBufferPointer) {
        sawResponseBytes = true
        guard let handler else { channel.close(); return }
        var headKeepAlive = true
        var speaksTLS = false
        do {
            let finished = try parser.parse(bytes, head: { head in
                if head.headers.containsToken("close", in: "Connection") { headKeepAlive = false }
                // A TLS port's answer to plain HTTP is a 400 with a fixed text (Go's net/http):
                // held back until the body says which it is.
                if tls == nil && responses == 1 && head.status == 400 { heldHead = head; return }
                handler.dockerResponseHead(head)
            }, body: { piece in
                if let held = heldHead {
                    if Self.isPlainToTLSAnswer(piece) { speaksTLS = true; return }
                    // An ordinary 400: its head goes out late, then its body.
                    heldHead = nil
                    handler.dockerResponseHead(held)
                }
                handler.dockerResponseBody(piece)
            })
            if !speaksTLS, finished, let held = heldHead { heldHead = nil; handler.dockerResponseHead(held) }
            if speaksTLS {
                complete(.tls("the engine speaks TLS on this port: configure its tls (ca, cert, key), --engine-tls, or DOCKER_TLS_VERIFY and DOCKER_CERT_PATH"))
                return
            }
            if !headKeepAlive { requestKeepAlive = false }
            handler.dockerResponseReadComplete()
            if finished { complete(nil) }
        } catch {
            complete(.badResponse("\(error)"))
        }
    }

    private func complete(_ error: DockerError?) {
        guard let h = handler else { return }
        handler = nil
        if error == nil && requestKeepAlive, case .busy = state, channel?.isOpen == true {
            state = .idle
            reusable = true
        } else {
            state = .closed
            channel?.close()
        }
        h.dockerResponseEnd(error)
    }

    /// Go's TLS server answers a plain HTTP request with "Client sent an HTTP request to an
    /// HTTPS server." (net/http, server.go); a TLS proxy such as docktail's own listener says
    /// "speaks HTTPS".
    static func isPlainToTLSAnswer(_ piece: UnsafeRawBufferPointer) -> Bool {
        let needles = [Array("HTTP request to an HTTPS server".utf8), Array("speaks HTTPS".utf8)]
        return needles.contains { needle in
            guard piece.count >= needle.count else { return false }
            for i in 0...(piece.count - needle.count) where piece[i] == needle[0] {
                if zip(needle.indices, needle).allSatisfy({ piece[i + $0.0] == $0.1 }) { return true }
            }
            return false
        }
    }

    public func channelReadEOF(_ channel: SocketChannel) {
        if case .connecting = state, tls != nil {
            fail(.tls("the engine closed the connection during the TLS handshake"))
            return
        }
        if let held = heldHead, let handler { heldHead = nil; handler.dockerResponseHead(held) }
        do {
            try parser.finish()
            complete(nil)
        } catch {
            if tls != nil && responses == 1 && !sawResponseBytes {
                complete(.tls("the engine closed the connection right after the TLS handshake: it may have refused the client certificate"))
            } else {
                complete(.unreachable("engine closed the connection"))
            }
        }
        state = .closed
        channel.close()
    }

    public func channelClosed(_ channel: SocketChannel, errno: Int32?) {
        var error: DockerError = channel.tlsError.map { .tls($0.message) }
            ?? .unreachable(errno.map { String(cString: strerror($0)) } ?? "connection closed")
        if case .unreachable(let why) = error, tls != nil, responses == 1, !sawResponseBytes {
            // TLS 1.3: the engine checks our certificate after our side of the handshake is
            // done; its alert can be lost to a reset, which then is all there is to go on.
            error = .tls("the engine closed the connection right after the TLS handshake (\(why)): it may have refused the client certificate")
        }
        if case .connecting = state, let cb = onConnected {
            onConnected = nil
            state = .closed
            cb(error)
            return
        }
        state = .closed
        reusable = false
        if handler != nil { complete(error) }
    }
}
