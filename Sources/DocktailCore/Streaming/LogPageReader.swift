/// Reads one page of history (`GET /api/containers/{ref}/logs`) on the request's loop: runs the
/// engine reads its `LogPageLocator` asks for, one `LogFetch` per pass, each pass bounded by
/// `passTimeoutSeconds`, and hands the page over. The thin driver; every decision is the
/// locator's.
final class LogPageReader: @unchecked Sendable {
    // Invariant: confined to `loop.queue`.
    let loop: EventLoop
    let client: DockerClient
    let info: ContainerInfo
    let maxLineBytes: Int
    let metrics: any StreamingMetrics
    let passTimeoutSeconds: Double
    private var locator: LogPageLocator
    private var fetch: LogFetch?
    /// Numbers the passes, so a late callback of an abandoned pass is ignored.
    private var pass = 0
    private var completion: ((Result<LogPageLocator.Page, DockerError>) -> Void)?

    init(loop: EventLoop, client: DockerClient, info: ContainerInfo, locator: LogPageLocator, maxLineBytes: Int,
         metrics: any StreamingMetrics, passTimeoutSeconds: Double) {
        self.loop = loop
        self.client = client
        self.info = info
        self.locator = locator
        self.maxLineBytes = maxLineBytes
        self.metrics = metrics
        self.passTimeoutSeconds = passTimeoutSeconds
    }

    /// Passes the engine reads took (1 when the first window held the page).
    var passes: Int { pass }

    /// Reads until the page is found; `completion` runs once, on `loop`. The reader keeps itself
    /// alive while a read is in flight (its fetch holds it).
    func start(_ completion: @escaping (Result<LogPageLocator.Page, DockerError>) -> Void) {
        loop.assertInLoop()
        self.completion = completion
        read()
    }

    /// Stops reading (the client went away): nothing more is reported.
    func cancel() {
        completion = nil
        fetch?.cancel()
        fetch = nil
    }

    private func read() {
        pass += 1
        let current = pass
        locator.beginPass()
        // Both streams whatever is selected: the engine's `tail` counts entries of both, so
        // only then does a short answer mean the whole log.
        let query = "stdout=1&stderr=1&timestamps=1&follow=0&tail=\(locator.requestedEntries)"
        let fetch = LogFetch(loop: loop, tty: info.tty, maxLineBytes: maxLineBytes, metrics: metrics, engineNow: client.engineNow,
                             onLines: { [self] lines in
                                 guard pass == current, completion != nil else { return }
                                 for line in lines { locator.add(line) }
                             }, onEnd: { _ in })
        fetch.onEnd = { [self, weak fetch] error in
            guard pass == current, let fetch else { return }
            passEnded(entries: fetch.entries, error: error)
        }
        self.fetch = fetch
        loop.schedule(after: passTimeoutSeconds) { [weak self] in
            guard let self, self.pass == current, self.completion != nil else { return }
            self.fetch?.cancel()
            self.fetch = nil
            self.complete(.failure(.unreachable("the engine did not send the log within \(Int(self.passTimeoutSeconds)) s")))
        }
        fetch.start(client: client, containerID: info.id, query: query)
    }

    private func passEnded(entries: Int, error: DockerError?) {
        fetch = nil
        if let error { complete(.failure(error)); return }
        switch locator.finishPass(entries: entries) {
        case .readAgain(let more):
            locator.widen(to: more)
            read()
        case .page(let page):
            complete(.success(page))
        }
    }

    private func complete(_ result: Result<LogPageLocator.Page, DockerError>) {
        guard let c = completion else { return }
        completion = nil
        c(result)
    }

    /// `{"lines":[{"ts","stream","line"},…],"cursor":"…"|null}`, the lines oldest first.
    static func responseBody(_ page: LogPageLocator.Page) -> [UInt8] {
        var out = Array(#"{"lines":["#.utf8)
        out.reserveCapacity(page.lines.reduce(64) { $0 + $1.storage.count + 48 })
        for (i, line) in page.lines.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            LogLineJSON.append(line, to: &out)
        }
        out.append(contentsOf: Array(#"],"cursor":"#.utf8))
        if let cursor = page.cursor { JSONValue.appendString(cursor.encoded, to: &out) } else { out.append(contentsOf: Array("null".utf8)) }
        out.append(UInt8(ascii: "}"))
        return out
    }
}
