/// One dedicated engine log request (`follow=0` history, `until`, or a catch-up before joining
/// the live stream). It runs on the loop of the client it serves, so it can pause reading from
/// the engine while that client's socket is full: history is never dropped, only slowed.
final class LogFetch: DockerResponseHandler, @unchecked Sendable {
    // Invariant: confined to `loop.queue`.
    let loop: EventLoop
    private var decoder: LogStreamDecoder
    private var status = 0
    private var connection: DockerHTTPConnection?
    private var onLines: (([LogLine]) -> Void)?
    var onEnd: ((DockerError?) -> Void)?
    /// Messages the engine sent in-band (stream 3) about this log.
    var onEngineError: ((String) -> Void)?
    private var batch: [LogLine] = []
    private(set) var lastLine: LogLine?
    private let metrics: any StreamingMetrics

    init(loop: EventLoop, tty: Bool, maxLineBytes: Int, metrics: any StreamingMetrics, resumeAfter: LogStreamDecoder.Position? = nil,
         engineNow: @escaping @Sendable () -> Int64 = { MonotonicClock.wallNanoseconds() },
         onLines: @escaping ([LogLine]) -> Void, onEnd: @escaping (DockerError?) -> Void) {
        self.loop = loop
        self.decoder = LogStreamDecoder(tty: tty, maxLineBytes: maxLineBytes, resumeAfter: resumeAfter, now: engineNow)
        self.onLines = onLines
        self.onEnd = onEnd
        self.metrics = metrics
    }

    func start(client: DockerClient, containerID: String, query: String) {
        connection = client.stream("/containers/\(containerID)/logs?\(query)", on: loop, handler: self)
    }

    /// Entries (frames of either stream) the engine sent so far, including skipped ones.
    var entries: Int { decoder.entryCount }

    func pause() { connection?.pauseReading() }
    func resume() { connection?.resumeReading() }

    func cancel() {
        onLines = nil
        onEnd = nil
        onEngineError = nil
        connection?.close()
        connection = nil
    }

    func dockerResponseHead(_ head: HTTPResponseParser.Head) { status = head.status }

    func dockerResponseBody(_ bytes: UnsafeRawBufferPointer) {
        guard status == 200 else { return }
        do {
            try decoder.decode(bytes) { batch.append($0) }
        } catch {
            // A stream docktail cannot frame is ended on both sides (a follow would run on).
            let c = connection
            finish(.badResponse("log stream: \(error)"))
            c?.close()
            return
        }
    }

    func dockerResponseReadComplete() { flush() }

    private func flush() {
        for message in decoder.takeEngineErrors() {
            metrics.engineError()
            onEngineError?(message)
        }
        guard !batch.isEmpty else { return }
        let lines = batch
        batch = []
        lastLine = lines.last
        metrics.lines(in: lines.count)
        onLines?(lines)
    }

    func dockerResponseEnd(_ error: DockerError?) {
        if error == nil && status != 200 {
            finish(status == 404 ? .notFound("no such container") : .engineStatus(status, "logs request failed"))
            return
        }
        if error == nil { decoder.finish { batch.append($0) } }
        flush()
        finish(error)
    }

    private func finish(_ error: DockerError?) {
        connection = nil
        let end = onEnd
        onEnd = nil
        onLines = nil
        end?(error)
    }
}
