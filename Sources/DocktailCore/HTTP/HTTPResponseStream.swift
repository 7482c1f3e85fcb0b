/// A response whose body is produced while it is sent: the head goes out at once, then each
/// `write` is one chunk of the chunked transfer coding (RFC 9112 §7.1) and `finish` sends the
/// last chunk. It never holds the body: producers write only while `isWritable` (the client's
/// output budget is under its high-water mark) and wait for `onWritable` otherwise, as every
/// history reader does.
///
/// The connection answers one request at a time: the next pipelined request is read only after
/// `finish` (and only once the client has taken enough of this answer). `abort` ends the body
/// without the last chunk and closes the connection, so the client sees a truncated transfer
/// (RFC 9112 §8: an incomplete message), never a short body that looks complete. An HTTP/1.0
/// client cannot take chunks: its body is delimited by closing the connection instead. A HEAD
/// request gets the head only; the stream is finished when it is returned.
public final class HTTPResponseStream: @unchecked Sendable {
    // Invariant: used on `loop` only.
    public let loop: EventLoop
    /// The head was all there is to send (HEAD): nothing is written, the exchange is over.
    public let isHeadOnly: Bool
    /// Chunked framing (HTTP/1.1); otherwise the body ends when the connection closes.
    let chunked: Bool
    /// Whether the connection stays open for the next request after `finish`.
    let keepAlive: Bool
    /// A client whose queue makes no progress for this long (while data waits) is cut.
    public var stallTimeoutSeconds: Double = 60
    weak var owner: HTTPResponseStreamOwner?
    /// Finished, aborted, or the client went away: nothing more is sent.
    public private(set) var isFinished = false
    /// The client's queue fell to its low-water mark: write more.
    public var onWritable: (() -> Void)?
    /// The connection closed before `finish` (the client went away, stalled, or the server is
    /// stopping): stop producing.
    public var onClosed: (() -> Void)?

    init(loop: EventLoop, chunked: Bool, keepAlive: Bool, headOnly: Bool) {
        self.loop = loop
        self.chunked = chunked
        self.keepAlive = keepAlive
        self.isHeadOnly = headOnly
    }

    /// Whether the client takes more now (its queue is under the budget's high-water mark).
    public var isWritable: Bool {
        loop.assertInLoop()
        return !isFinished && (owner?.streamIsWritable ?? false)
    }

    /// Sends `bytes` as one chunk (nothing for an empty array: a zero-size chunk is the end).
    public func write(_ bytes: [UInt8]) {
        loop.assertInLoop()
        guard !isFinished, !bytes.isEmpty, let owner else { return }
        owner.streamWrite(chunked ? Self.chunk(bytes) : bytes)
    }

    /// Ends the body (the last chunk) and lets the connection go on with the next request.
    public func finish() {
        loop.assertInLoop()
        guard !isFinished else { return }
        isFinished = true
        clearCallbacks()
        owner?.streamFinished(self)
    }

    /// Ends the body without its last chunk and closes the connection after what is queued:
    /// the client sees a truncated transfer.
    public func abort() {
        loop.assertInLoop()
        guard !isFinished else { return }
        isFinished = true
        clearCallbacks()
        owner?.streamAborted(self)
    }

    // MARK: from the connection

    func ownerWritable() {
        guard !isFinished else { return }
        onWritable?()
    }

    func ownerClosed() {
        guard !isFinished else { return }
        isFinished = true
        let closed = onClosed
        clearCallbacks()
        closed?()
    }

    /// Breaks the cycles through the producer's closures.
    private func clearCallbacks() {
        onWritable = nil
        onClosed = nil
    }

    // MARK: framing

    /// `SIZE CRLF data CRLF`, the size in hex (RFC 9112 §7.1).
    static func chunk(_ bytes: [UInt8]) -> [UInt8] {
        let size = Array(String(bytes.count, radix: 16).utf8)
        var out: [UInt8] = []
        out.reserveCapacity(size.count + bytes.count + 4)
        out.append(contentsOf: size)
        out.append(contentsOf: crlf)
        out.append(contentsOf: bytes)
        out.append(contentsOf: crlf)
        return out
    }

    private static let crlf: [UInt8] = [0x0D, 0x0A]

    /// The last chunk with no trailer section (RFC 9112 §7.1.2).
    static let lastChunk: [UInt8] = Array("0\r\n\r\n".utf8)

    /// Status line and headers of a streamed answer: `Transfer-Encoding: chunked` when
    /// `chunked`, never a Content-Length (the length is not known yet; a handler's own framing
    /// headers are dropped), `Connection: close` when the connection ends with the answer.
    static func serializedHead(_ response: HTTPResponse, chunked: Bool, keepAlive: Bool) -> [UInt8] {
        var out = "HTTP/1.1 \(response.status) \(HTTPResponse.reason(response.status))\r\n"
        for (name, value) in response.headers.fields {
            let lower = name.lowercased()
            if lower == "content-length" || lower == "transfer-encoding" || lower == "connection" { continue }
            out += "\(name): \(value)\r\n"
        }
        if chunked { out += "Transfer-Encoding: chunked\r\n" }
        out += "Date: \(HTTPDate.now())\r\n"
        if !keepAlive { out += "Connection: close\r\n" }
        out += "\r\n"
        return Array(out.utf8)
    }
}

/// The connection side of an `HTTPResponseStream` (`HTTPServerConnection`).
protocol HTTPResponseStreamOwner: AnyObject {
    var streamIsWritable: Bool { get }
    func streamWrite(_ bytes: [UInt8])
    func streamFinished(_ stream: HTTPResponseStream)
    func streamAborted(_ stream: HTTPResponseStream)
}
