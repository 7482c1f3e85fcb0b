import Logging

/// Streams a container's history as a file (`GET /api/containers/{ref}/logs.txt` and `.jsonl`)
/// on the request's loop: one engine read (`follow=0`), each batch of lines encoded and sent as
/// chunks while the client takes them. Never buffered whole: while the client's queue is over
/// its high-water mark, or lines of the last batch still wait, the engine read is paused (the
/// same backpressure as the WebSocket history path), so docktail holds at most one engine read's
/// worth of lines plus the client's budget, whatever the size of the log.
///
/// The answer's head is sent with the engine's first lines (or its clean end), so an engine
/// that fails at once still gets a proper status (404, 502). A failure after that ends the body
/// without its last chunk: the client sees a truncated transfer, never a short file that looks
/// whole. Every wait has a deadline: the engine's head (`DockerClient.stream`), an engine that
/// sends nothing while docktail is ready for more (`engineIdleSeconds`), a client that takes
/// nothing (`HTTPResponseStream.stallTimeoutSeconds`).
final class LogDownload: @unchecked Sendable {
    // Invariant: confined to `loop.queue`.
    let loop: EventLoop
    let client: DockerClient
    let info: ContainerInfo
    let query: LogDownloadQuery
    let format: LogDownloadQuery.Format
    let maxLineBytes: Int
    let metrics: any StreamingMetrics
    let logger: Logger
    let engineIdleSeconds: Double
    /// Sends the answer's head; nil when the client is gone.
    private var openStream: (() -> HTTPResponseStream?)?
    /// Answers an engine failure that came before the head.
    private var fail: ((DockerError) -> Void)?
    private var stream: HTTPResponseStream?
    private var fetch: LogFetch?
    private var paused = false
    private var lastEngineActivity = MonotonicClock.now()
    /// Lines of the last engine batch not yet sent.
    private var backlog: [LogLine] = []
    private var backlogIndex = 0
    /// The engine read ended (with this error, if any) while lines still waited.
    private var engineEnded = false
    private var engineError: DockerError?
    private var done = false
    /// Lines sent and bytes of body, for the log line at the end.
    private(set) var linesSent = 0
    private(set) var bytesSent = 0

    /// Body bytes per chunk: the client's queue takes one at a time while under its high-water mark.
    static let chunkBytes = 256 * 1024

    init(loop: EventLoop, client: DockerClient, info: ContainerInfo, query: LogDownloadQuery, format: LogDownloadQuery.Format,
         maxLineBytes: Int, metrics: any StreamingMetrics, logger: Logger, engineIdleSeconds: Double) {
        self.loop = loop
        self.client = client
        self.info = info
        self.query = query
        self.format = format
        self.maxLineBytes = maxLineBytes
        self.metrics = metrics
        self.logger = logger
        self.engineIdleSeconds = engineIdleSeconds
    }

    /// Starts the engine read. `openStream` sends the head once the engine answers; `fail`
    /// answers an engine error that came first.
    func start(openStream: @escaping () -> HTTPResponseStream?, fail: @escaping (DockerError) -> Void) {
        loop.assertInLoop()
        self.openStream = openStream
        self.fail = fail
        let fetch = LogFetch(loop: loop, tty: info.tty, maxLineBytes: maxLineBytes, metrics: metrics, engineNow: client.engineNow,
                             onLines: { [self] lines in engineLines(lines) }, onEnd: { _ in })
        fetch.onEnd = { [self] error in engineEnd(error) }
        self.fetch = fetch
        lastEngineActivity = MonotonicClock.now()
        scheduleWatchdog()
        fetch.start(client: client, containerID: info.id, query: query.engineQuery)
    }

    /// An engine that sends nothing while docktail waits for it is given up.
    private func scheduleWatchdog() {
        loop.schedule(after: max(engineIdleSeconds / 2, 0.5)) { [weak self] in
            guard let self, !self.done, self.fetch != nil else { return }
            if !self.paused && MonotonicClock.now() - self.lastEngineActivity > self.engineIdleSeconds {
                self.fetch?.cancel()
                self.fetch = nil
                self.engineEnd(.unreachable("the engine sent nothing for \(Int(self.engineIdleSeconds)) s"))
                return
            }
            self.scheduleWatchdog()
        }
    }

    /// The head goes out now; false when the client is gone (the read stops).
    private func ensureStream() -> Bool {
        if stream != nil { return true }
        guard let open = openStream else { return false }
        openStream = nil
        fail = nil
        guard let s = open(), !s.isFinished else { stop(); return false }
        s.onWritable = { [self] in drain() }
        s.onClosed = { [self] in
            logger.debug("download: client went away", metadata: ["container": "\(info.name)", "lines": "\(linesSent)"])
            stop()
        }
        stream = s
        return true
    }

    private func engineLines(_ lines: [LogLine]) {
        guard !done else { return }
        lastEngineActivity = MonotonicClock.now()
        guard ensureStream() else { return }
        if let predicate = query.predicate {
            for line in lines where predicate.matches(line) { backlog.append(line) }
        } else {
            backlog.append(contentsOf: lines)
        }
        drain()
        // The one backpressure mechanism: the engine waits while the client is behind.
        if !done, backlogIndex < backlog.count || !(stream?.isWritable ?? false) { pauseEngine() }
    }

    private func engineEnd(_ error: DockerError?) {
        fetch = nil
        guard !done else { return }
        if stream == nil, let error, let fail {
            // Nothing was sent yet: a proper status.
            done = true
            openStream = nil
            self.fail = nil
            fail(error)
            return
        }
        guard ensureStream() else { return }
        engineEnded = true
        engineError = error
        drain()
    }

    /// Sends what the client takes now, in chunks; resumes the engine once the batch is out;
    /// ends the answer once the engine ended and everything is sent.
    private func drain() {
        guard !done, let stream else { return }
        while backlogIndex < backlog.count, stream.isWritable {
            var out: [UInt8] = []
            var n = 0
            while backlogIndex < backlog.count && out.count < Self.chunkBytes {
                query.append(backlog[backlogIndex], format: format, to: &out)
                backlogIndex += 1
                n += 1
            }
            linesSent += n
            bytesSent += out.count
            stream.write(out)
        }
        guard backlogIndex >= backlog.count else { return }
        backlog.removeAll(keepingCapacity: backlog.capacity <= 4096)
        backlogIndex = 0
        if engineEnded {
            finish()
        } else if paused && stream.isWritable {
            paused = false
            lastEngineActivity = MonotonicClock.now()
            fetch?.resume()
        }
    }

    private func pauseEngine() {
        guard !paused else { return }
        paused = true
        fetch?.pause()
    }

    private func finish() {
        guard let stream, !done else { return }
        done = true
        if let error = engineError {
            metrics.engineError()
            logger.warning("download cut short by an engine error",
                           metadata: ["container": "\(info.name)", "lines": "\(linesSent)", "error": "\(error)"])
            stream.abort()
        } else {
            stream.finish()
        }
        self.stream = nil
    }

    /// The client went away or the server is stopping: the engine read stops.
    private func stop() {
        done = true
        fetch?.cancel()
        fetch = nil
        backlog = []
        backlogIndex = 0
        stream = nil
        openStream = nil
        fail = nil
    }
}
