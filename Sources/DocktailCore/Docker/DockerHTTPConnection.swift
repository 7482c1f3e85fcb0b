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

/// One HTTP/1.1 connection to an engine, on one loop: a non-blocking connect with a timeout,
/// then requests one at a time. Kept alive for reuse by short calls; a followed stream owns
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

    init(loop: EventLoop, endpoint: DockerEndpoint, maxHeadBytes: Int = Limits().engineMaxHeaderBytes) {
        self.loop = loop
        self.endpoint = endpoint
        self.maxHeadBytes = maxHeadBytes
    }

    /// Connects (timeout `seconds`), then calls `done` on the loop.
    func connect(timeout seconds: Double, done: @escaping (DockerError?) -> Void) {
        loop.assertInLoop()
        let fd: Int32, connected: Bool
        do {
            (fd, connected) = try Sockets.connect(endpoint.address)
        } catch {
            state = .closed
            done(.unreachable("\(error)"))
            return
        }
        let channel = SocketChannel(fd: fd, loop: loop, peer: endpoint.url)
        channel.handler = self
        self.channel = channel
        if connected {
            state = .idle
            channel.start()
            done(nil)
            return
        }
        onConnected = done
        let source = DispatchSource.makeWriteSource(fileDescriptor: fd, queue: loop.queue)
        source.setEventHandler { [self] in
            connectSource?.cancel()
            connectSource = nil
            let err = Sockets.pendingError(fd)
            guard let cb = onConnected else { return }
            onConnected = nil
            if err != 0 {
                state = .closed
                channel.close()
                cb(.unreachable(String(cString: strerror(err))))
            } else {
                state = .idle
                channel.start()
                cb(nil)
            }
        }
        connectSource = source
        source.resume()
        loop.schedule(after: seconds) { [self] in
            guard let cb = onConnected else { return }
            onConnected = nil
            connectSource?.cancel()
            connectSource = nil
            state = .closed
            channel.close()
            cb(.unreachable("connect timed out"))
        }
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
        reusable = false
        requestKeepAlive = keepAlive
        // docktail only ever reads from an engine: every request is a GET.
        let request = "GET \(path) HTTP/1.1\r\nHost: \(endpoint.hostHeader)\r\nUser-Agent: docktail\r\n" +
            (keepAlive ? "" : "Connection: close\r\n") + "\r\n"
        channel.write(Array(request.utf8))
    }

    public func pauseReading() { channel?.pauseReading() }
    public func resumeReading() { channel?.resumeReading() }

    public func close() {
        state = .closed
        channel?.close()
    }

    public func channelRead(_ channel: SocketChannel, _ bytes: UnsafeRawBufferPointer) {
        guard let handler else { channel.close(); return }
        var headKeepAlive = true
        do {
            let finished = try parser.parse(bytes, head: { head in
                if head.headers.containsToken("close", in: "Connection") { headKeepAlive = false }
                handler.dockerResponseHead(head)
            }, body: { piece in
                handler.dockerResponseBody(piece)
            })
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

    public func channelReadEOF(_ channel: SocketChannel) {
        do {
            try parser.finish()
            complete(nil)
        } catch {
            complete(.unreachable("engine closed the connection"))
        }
        state = .closed
        channel.close()
    }

    public func channelClosed(_ channel: SocketChannel, errno: Int32?) {
        state = .closed
        reusable = false
        if handler != nil { complete(.unreachable(errno.map { String(cString: strerror($0)) } ?? "connection closed")) }
    }
}
