import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// What a channel tells its owner. All calls arrive on the channel's loop.
public protocol SocketChannelHandler: AnyObject {
    /// Bytes read; the buffer is only valid during the call.
    func channelRead(_ channel: SocketChannel, _ bytes: UnsafeRawBufferPointer)
    /// The peer finished sending (read returned 0).
    func channelReadEOF(_ channel: SocketChannel)
    /// The output queue emptied after a write had to wait.
    func channelDrained(_ channel: SocketChannel)
    /// The queue fell to the budget's low-water mark after passing its high-water mark:
    /// producers that paused (history reads, pipelined requests) may go on.
    func channelWritable(_ channel: SocketChannel)
    /// The socket is closed; `errno` is set when an error closed it (`tlsError` when TLS did).
    func channelClosed(_ channel: SocketChannel, errno: Int32?)
    /// A TLS channel finished its handshake: bytes written from now on go out encrypted.
    func channelSecured(_ channel: SocketChannel)
}

extension SocketChannelHandler {
    public func channelDrained(_ channel: SocketChannel) {}
    public func channelWritable(_ channel: SocketChannel) {}
    public func channelReadEOF(_ channel: SocketChannel) { channel.close() }
    public func channelSecured(_ channel: SocketChannel) {}
}

/// A non-blocking socket driven by Dispatch sources on one loop.
///
/// Reads come through a read source. Writes go out at once; only when the kernel says EAGAIN
/// is a write source armed, and it is cancelled as soon as the queue drains (an armed write
/// source on a writable socket would fire continuously).
///
/// Backpressure is one mechanism, the `OutputBudget`: past its high-water mark the channel
/// stops reading and drops the oldest queued log lines (counted exactly, announced before the
/// next line through `dropAnnouncement`); at its low-water mark it reads again; past its hard
/// limit of undroppable data it closes. Closing after a flush has a deadline: a peer that takes
/// nothing for `closeTimeout` seconds is cut.
///
/// With a `TLSSession` the same channel speaks TLS: socket bytes go through the session to the
/// handler, and the output queue holds plaintext (so backpressure still drops whole lines) that
/// is encrypted only as the socket takes it, at most `tlsChunk` bytes ahead. The handshake has a
/// deadline of its own.
public final class SocketChannel: @unchecked Sendable {
    // Invariant: all mutable state below is confined to `loop.queue`.
    public let fd: Int32
    public let loop: EventLoop
    public var handler: SocketChannelHandler?
    public let peer: String

    private enum State { case open, closingAfterFlush, closed }
    private var state = State.open
    private var readSource: DispatchSourceRead?
    private var writeSource: DispatchSourceWrite?
    private var readSuspended = false
    /// Why reading is paused: the owner (a request in flight) and/or the output budget.
    private var ownerPaused = false
    private var budgetPaused = false
    /// Sources whose cancel handler has not run yet; the fd is closed when it reaches 0.
    private var liveSources = 0
    private var output = OutputQueue()
    public var budget = OutputBudget.unlimited
    /// The frame that tells the client how many lines it missed (nil or empty: none is sent;
    /// the count still goes to `onDropped`).
    public var dropAnnouncement: ((Int) -> [UInt8]?)?
    /// Lines dropped, as they are dropped (metrics).
    public var onDropped: ((Int) -> Void)?
    /// A close after flush gives up after this many seconds without write progress.
    public var closeTimeout: Double = 5
    /// The budget's hard limit closed the channel.
    public private(set) var closedForBudget = false
    /// Monotonic time the output queue last made progress (or was empty).
    public private(set) var lastWriteProgress = MonotonicClock.now()
    public private(set) var bytesWritten: UInt64 = 0
    /// Run once when the channel closes, after the handler was told.
    public var onClose: [() -> Void] = []

    // TLS (nil: plain). Ciphertext not yet taken by the socket is `tlsOutput[tlsOutputSent...]`.
    public private(set) var tls: TLSSession?
    private var tlsOutput: [UInt8] = []
    private var tlsOutputSent = 0
    /// Plaintext encrypted per pass: bounds the ciphertext held beyond the output budget.
    static let tlsChunk = 64 * 1024
    /// Room kept in the read buffer for one more record before gathered plaintext is handed over.
    static let tlsRecordRoom = 17 * 1024
    /// Seconds a TLS handshake may take.
    public var tlsHandshakeTimeout: Double = 10
    /// The TLS failure that closed the channel, if one did.
    public private(set) var tlsError: TLSError?
    /// What a TLS listener answers, in clear text, to a client that spoke plain HTTP to it.
    public var plainHTTPRefusal: [UInt8]?

    public init(fd: Int32, loop: EventLoop, peer: String = "") {
        self.fd = fd
        self.loop = loop
        self.peer = peer
    }

    public var isOpen: Bool { if case .open = state { return true }; return false }
    public var queuedBytes: Int { output.byteCount + (tlsOutput.count - tlsOutputSent) + (tls?.pendingOutput ?? 0) }
    public var hasQueuedOutput: Bool { !output.isEmpty || tlsOutputSent < tlsOutput.count }

    /// Makes the channel speak TLS through `session`; call before `start()`.
    public func useTLS(_ session: TLSSession) {
        tls = session
    }

    /// Starts reading. Call on the loop. A TLS client sends its ClientHello now.
    public func start() {
        loop.assertInLoop()
        if let tls {
            loop.schedule(after: tlsHandshakeTimeout) { [weak self] in
                guard let self, self.isOpen, self.tls?.handshakeComplete == false else { return }
                self.failTLS(TLSError(kind: .protocolError, "TLS handshake not completed within \(Int(self.tlsHandshakeTimeout)) s"))
            }
            if !tls.isServer {
                do { _ = try tls.handshake() } catch { failTLS(error); return }
                _ = flushTLS()
                guard isOpen else { return }
            }
        }
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: loop.queue)
        source.setEventHandler { [unowned self] in self.readReady() }
        source.setCancelHandler { [self] in self.sourceCancelled() }
        liveSources += 1
        readSource = source
        source.resume()
    }

    public func pauseReading() {
        ownerPaused = true
        updateReading()
    }

    public func resumeReading() {
        ownerPaused = false
        updateReading()
    }

    /// Whether the queue is under its high-water mark (producers should wait otherwise).
    public var isWritable: Bool { output.byteCount <= budget.highWater }

    /// Reading is stopped because the peer does not take its output (not for the owner's sake).
    public var isBackpressured: Bool { budgetPaused }

    private func updateReading() {
        guard let s = readSource else { return }
        let pause = ownerPaused || budgetPaused
        if pause && !readSuspended { readSuspended = true; s.suspend() }
        else if !pause && readSuspended { readSuspended = false; s.resume() }
    }

    private func readReady() {
        let buffer = loop.readBuffer
        // A few reads per wake-up, then give other sockets a turn.
        for _ in 0..<4 {
            guard case .open = state, !readSuspended else { return }
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n > 0 {
                if tls != nil {
                    guard tlsReceived(UnsafeRawBufferPointer(rebasing: buffer[0..<n])) else { return }
                } else {
                    handler?.channelRead(self, UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                }
                if n < buffer.count { return }
            } else if n == 0 {
                // Stop watching; a source on an fd at EOF would keep firing.
                if !readSuspended { readSource?.cancel(); readSource = nil }
                handler?.channelReadEOF(self)
                return
            } else {
                let e = errno
                if e == EAGAIN || e == EINTR { return }
                closeNow(errno: e)
                return
            }
        }
    }

    // MARK: TLS

    /// Ciphertext from the socket: on through the session, plaintext to the handler. False when
    /// the channel closed (or EOF was handled) and reading must stop.
    private func tlsReceived(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let tls else { return false }
        do {
            try tls.receive(bytes)
            if !tls.handshakeComplete {
                let done = try tls.handshake()
                _ = flushTLS()
                guard done, isOpen else { return isOpen }
                handler?.channelSecured(self)
                guard isOpen else { return false }
                // Plaintext queued during the handshake (a client's request) goes out now.
                if writeSource == nil { _ = flushTLS() }
            }
            // The socket bytes are in the session: the loop's buffer is free for plaintext. A
            // peer may send one small record per write (Go's TLS does: one per log entry), so
            // records are gathered into the buffer and handed over together, as one read of a
            // plain socket would be.
            let buffer = loop.readBuffer
            var filled = 0
            func deliver() {
                guard filled > 0 else { return }
                let n = filled
                filled = 0
                handler?.channelRead(self, UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            }
            while case .open = state {
                guard let n = try tls.readPlaintext(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...])) else {
                    // close_notify: the peer finished sending, as a TCP EOF would say.
                    deliver()
                    guard case .open = state else { return false }
                    if !readSuspended { readSource?.cancel(); readSource = nil }
                    handler?.channelReadEOF(self)
                    return false
                }
                if n == 0 { break }
                filled += n
                // Room for one more whole record (16 KiB, RFC 8446 §5.1), or hand over now.
                if buffer.count - filled < Self.tlsRecordRoom { deliver() }
            }
            if case .open = state { deliver() }
            // Reading can make TLS output (TLS 1.3 session tickets, key update answers, alerts
            // refusing renegotiation). A peer that provokes it without reading fills a buffer
            // outside the output budget: past two chunks it is cut.
            if tls.pendingOutput > 0 && writeSource == nil { _ = flushTLS() }
            if tls.pendingOutput > 2 * Self.tlsChunk {
                failTLS(TLSError(kind: .protocolError, "the peer sends TLS records that need answers and does not read them"))
                return false
            }
            return isOpen
        } catch {
            if tls.isServer && (error.kind == .plainHTTP), let refusal = plainHTTPRefusal {
                // Best effort, in clear text, into an empty socket buffer: then close.
                _ = refusal.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            }
            failTLS(error)
            return false
        }
    }

    private func failTLS(_ error: TLSError) {
        if tlsError == nil { tlsError = error }
        closeNow(errno: nil)
    }

    /// Sends waiting ciphertext, then encrypts and sends queued plaintext, `tlsChunk` at a time,
    /// until the socket would block (a write source is armed) or all is out (true).
    private func flushTLS() -> Bool {
        guard let tls else { return true }
        while true {
            if tlsOutputSent < tlsOutput.count {
                let n = tlsOutput.withUnsafeBytes { raw in
                    Glibc.send(fd, raw.baseAddress! + tlsOutputSent, raw.count - tlsOutputSent, Int32(MSG_NOSIGNAL))
                }
                if n > 0 {
                    tlsOutputSent += n
                    bytesWritten += UInt64(n)
                    lastWriteProgress = MonotonicClock.now()
                    continue
                }
                let e = errno
                if n < 0 && (e == EAGAIN || e == EINTR) { armWriteSource(); return false }
                closeNow(errno: e)
                return false
            }
            tlsOutput.removeAll(keepingCapacity: tlsOutput.capacity <= 2 * Self.tlsChunk)
            tlsOutputSent = 0
            if tls.pendingOutput > 0 { tls.takeOutput(into: &tlsOutput); continue }
            guard tls.handshakeComplete else { return true }
            if output.isEmpty {
                if case .closingAfterFlush = state, !closeNotifyQueued {
                    closeNotifyQueued = true
                    tls.shutdown()
                    continue
                }
                return true
            }
            var failure: TLSError?
            let taken = output.withIOVecs(max: 16) { iov, count -> Int in
                var total = 0
                for i in 0..<count where total < Self.tlsChunk {
                    do {
                        let n = try tls.encrypt(UnsafeRawBufferPointer(start: iov[i].iov_base, count: iov[i].iov_len))
                        total += n
                        if n < iov[i].iov_len { break }
                    } catch {
                        failure = (error as? TLSError) ?? TLSError(kind: .protocolError, "\(error)")
                        break
                    }
                }
                return total
            }
            if taken > 0 { output.consume(taken) }
            if let failure { failTLS(failure); return false }
            guard taken > 0 else { return true }
            if budgetPaused && output.byteCount <= budget.lowWater { becameWritable() }
        }
    }
    private var closeNotifyQueued = false

    // MARK: writing

    /// Queues `bytes`; `lines` > 0 marks them as droppable log lines under backpressure.
    public func write(_ bytes: [UInt8], lines: Int = 0) {
        loop.assertInLoop()
        guard case .open = state, !bytes.isEmpty else { return }
        // The client learns of lost lines before the next frame it gets (a line, or an event
        // such as `end` after which it may stop reading).
        if output.unannouncedDrops > 0 { announceDrops() }
        if tls != nil {
            output.append(bytes, lines: lines)
            if writeSource == nil { _ = flushTLS() }
            guard case .open = state else { return }
            enforceBudget()
            return
        }
        if output.isEmpty {
            let n = bytes.withUnsafeBytes { raw in Glibc.send(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL)) }
            if n == bytes.count {
                bytesWritten += UInt64(n)
                return
            }
            if n < 0 {
                let e = errno
                guard e == EAGAIN || e == EINTR else { closeNow(errno: e); return }
                output.append(bytes, lines: lines)
            } else {
                bytesWritten += UInt64(n)
                // Partly on the wire: the queue never drops the chunk at its head once started,
                // and it stays counted as lines (not as undroppable data).
                output.append(bytes, lines: lines)
                output.consume(n)
            }
            lastWriteProgress = MonotonicClock.now()
            armWriteSource()
        } else {
            output.append(bytes, lines: lines)
        }
        enforceBudget()
    }

    private func enforceBudget() {
        guard output.byteCount > budget.highWater else { return }
        let dropped = output.dropOldest(downTo: budget.highWater)
        if dropped > 0 { onDropped?(dropped) }
        if !budgetPaused { budgetPaused = true; updateReading() }
        if output.controlBytes > budget.hardLimit {
            // Undroppable data the peer does not take: it cannot be kept, and cannot be dropped.
            closedForBudget = true
            closeNow(errno: nil)
        }
    }

    private func announceDrops() {
        let n = output.takeUnannouncedDrops()
        guard n > 0, let frame = dropAnnouncement?(n), !frame.isEmpty else { return }
        output.append(frame, lines: 0)
    }

    /// Lines dropped under backpressure over the channel's life.
    public var droppedLinesTotal: Int { output.droppedTotal }

    private func armWriteSource() {
        guard writeSource == nil else { return }
        let source = DispatchSource.makeWriteSource(fileDescriptor: fd, queue: loop.queue)
        source.setEventHandler { [unowned self] in self.writeReady() }
        source.setCancelHandler { [self] in self.sourceCancelled() }
        liveSources += 1
        writeSource = source
        source.resume()
    }

    private func writeReady() {
        if tls != nil {
            guard flushTLS() else { return }
            drained()
        } else {
            flush()
        }
    }

    private func flush() {
        while !output.isEmpty {
            let n = output.withIOVecs(max: 64) { iov, count in Glibc.writev(fd, iov.baseAddress, Int32(count)) }
            if n > 0 {
                output.consume(n)
                bytesWritten += UInt64(n)
                lastWriteProgress = MonotonicClock.now()
                if budgetPaused && output.byteCount <= budget.lowWater { becameWritable() }
            } else {
                let e = errno
                if n < 0 && (e == EAGAIN || e == EINTR) { return }
                closeNow(errno: e)
                return
            }
        }
        drained()
    }

    /// Everything queued is written.
    private func drained() {
        writeSource?.cancel()
        writeSource = nil
        if case .closingAfterFlush = state { closeNow(errno: nil); return }
        if budgetPaused { becameWritable() }
        guard case .open = state else { return }
        handler?.channelDrained(self)
    }

    private func becameWritable() {
        budgetPaused = false
        guard case .open = state else { return }
        updateReading()
        if output.unannouncedDrops > 0 {
            announceDrops()
            if writeSource == nil && !output.isEmpty { armWriteSource() }
        }
        handler?.channelWritable(self)
    }

    /// Closes once queued output is written, or when the peer takes nothing for `closeTimeout`.
    public func closeAfterFlush() {
        guard case .open = state else { return }
        if tls == nil && output.isEmpty { closeNow(errno: nil); return }
        state = .closingAfterFlush
        lastWriteProgress = MonotonicClock.now()
        shutdownRead()
        scheduleFlushDeadline()
        // TLS: the queue, then close_notify, then close.
        if tls != nil && writeSource == nil && flushTLS() { closeNow(errno: nil) }
    }

    private func scheduleFlushDeadline() {
        loop.schedule(after: closeTimeout) { [weak self] in
            guard let self, case .closingAfterFlush = self.state else { return }
            if MonotonicClock.now() - self.lastWriteProgress >= self.closeTimeout { self.closeNow(errno: nil) }
            else { self.scheduleFlushDeadline() }
        }
    }

    private func shutdownRead() {
        if let r = readSource { if readSuspended { r.resume(); readSuspended = false }; r.cancel(); readSource = nil }
    }

    public func close() { closeNow(errno: nil) }

    private func closeNow(errno e: Int32?) {
        switch state {
        case .closed: return
        default: break
        }
        state = .closed
        if let r = readSource { if readSuspended { r.resume(); readSuspended = false }; r.cancel(); readSource = nil }
        if let w = writeSource { w.cancel(); writeSource = nil }
        output = OutputQueue()
        if liveSources == 0 { Glibc.close(fd) }
        let h = handler
        handler = nil
        h?.channelClosed(self, errno: e)
        let callbacks = onClose
        onClose = []
        for c in callbacks { c() }
    }

    private func sourceCancelled() {
        liveSources -= 1
        if liveSources == 0, case .closed = state { Glibc.close(fd) }
    }
}
