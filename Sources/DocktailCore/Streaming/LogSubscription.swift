/// One WebSocket client watching one container's log (`/logs/{ref}`), on the client's loop.
///
/// With `follow=1` and no `until` it joins the container's shared `LogHub`; otherwise it reads
/// its own history from the engine and closes with 1000 at the end.
final class LogSubscription: WebSocketHandler, @unchecked Sendable {
    // Invariant: confined to `loop.queue` (the WebSocket's loop).
    enum Mode {
        case starting
        /// Reading history from the engine on its own (direct, or before joining the hub).
        case fetching(LogFetch, joinHubAfter: Bool)
        case live
        case ended
    }

    let loop: EventLoop
    let query: LogQuery
    let key: DeliveryKey
    let info: ContainerInfo
    let hostName: String
    let client: DockerClient
    let limits: Limits
    let metrics: ServerMetrics
    private let registry: LogHubRegistry
    private(set) var hub: LogHub?
    private var mode = Mode.starting
    /// Strong while open (hot path: no weak load per delivery); cleared when the socket closes,
    /// which breaks the cycle with `WebSocketConnection.handler`.
    private var ws: WebSocketConnection?
    /// Per stream, the last line sent from history and how many shared its stamp (the join point).
    private var historyEnd = LogStreamDecoder.Position()
    /// With one stream selected, the engine's `tail` counts lines of both streams: docktail asks
    /// for more (doubling) until it has `want` lines of the selected stream or the whole log.
    private struct SelectedTail {
        var want: Int
        var requested: Int
        var fetched = 0
        var kept: [LogLine] = []
    }
    private var selectedTail: SelectedTail?
    private var fetchArguments: (join: Bool, since: Int64?, until: Int64?, follow: Bool)?

    /// History above this many queued bytes pauses the engine read.
    private static let highWater = 1024 * 1024

    init(loop: EventLoop, query: LogQuery, info: ContainerInfo, hostName: String, client: DockerClient,
         registry: LogHubRegistry, limits: Limits, metrics: ServerMetrics) {
        self.loop = loop
        self.query = query
        self.key = query.deliveryKey
        self.info = info
        self.hostName = hostName
        self.client = client
        self.registry = registry
        self.limits = limits
        self.metrics = metrics
    }

    var isJSON: Bool { query.format == .json }

    // MARK: WebSocketHandler

    func webSocketDidOpen(_ connection: WebSocketConnection) {
        ws = connection
        metrics.subscriberAdded()
        sendEvent(.object([("event", .string("subscribed")), ("id", .string(info.id)), ("name", .string(info.name)),
                           ("host", .string(hostName)), ("tty", .bool(info.tty)), ("state", .string(info.state))]))
        if query.follow && query.until == nil {
            let hub = registry.hub(for: info, client: client, preferredLoop: loop)
            self.hub = hub
            mode = .live
            hub.loop.execute { hub.subscribe(self) }
        } else {
            startFetch(joinHubAfter: false, tail: query.tail, since: query.since, until: query.until, follow: query.follow)
        }
    }

    func webSocketDidDrain(_ connection: WebSocketConnection, droppedLines: Int) {
        if case .fetching(let fetch, _) = mode { fetch.resume() }
        if droppedLines > 0 {
            sendEvent(.object([("event", .string("dropped")), ("count", .int(Int64(droppedLines)))]))
        }
    }

    func webSocketDidClose(_ connection: WebSocketConnection) {
        ws = nil
        metrics.subscriberRemoved()
        if case .fetching(let fetch, _) = mode { fetch.cancel() }
        mode = .ended
        if let hub { hub.loop.execute { hub.unsubscribe(self) } }
        hub = nil
    }

    // MARK: from the hub (already hopped onto `loop`)

    /// Live or ring lines, encoded once by the hub for every subscriber with this key.
    /// Returns whether the frames were queued (the hub counts them in bulk for the metrics).
    @discardableResult
    func deliver(_ frames: [UInt8], lines: Int) -> Bool {
        guard lines > 0, let ws else { return false }
        return ws.send(encodedFrames: frames, lines: lines, countMetrics: false)
    }

    /// Lines only this subscriber gets (join after catch-up).
    func deliverOwn(_ lines: [LogLine]) {
        guard let ws, !lines.isEmpty else { return }
        var out: [UInt8] = []
        let n = LogFrameEncoder.append(lines, key: key, to: &out)
        if n > 0 { ws.send(encodedFrames: out, lines: n) }
    }

    func sendEvent(_ event: JSONValue) {
        sendEvent(frame: Self.eventFrame(event))
    }

    /// An event already encoded as a frame (the hub encodes a broadcast once for all).
    func sendEvent(frame: [UInt8]) {
        guard isJSON, let ws else { return }
        ws.send(encodedFrames: frame)
    }

    static func eventFrame(_ event: JSONValue) -> [UInt8] {
        WebSocketFrameEncoder.encode(opcode: .text, payload: event.encoded())
    }

    /// `removed`, then close 1000.
    func containerRemoved(frame: [UInt8]) {
        sendEvent(frame: frame)
        close(code: WebSocketCloseCode.normalClosure.rawValue, reason: "container removed")
    }

    func close(code: UInt16, reason: String) {
        mode = .ended
        ws?.close(code: code, reason: reason)
    }

    /// The hub's ring does not cover this request: read the history from the engine, then
    /// ask the hub for what came after it.
    func startCatchUp() {
        startFetch(joinHubAfter: true, tail: query.tail, since: query.since, until: nil, follow: false)
    }

    // MARK: history from the engine

    private func startFetch(joinHubAfter: Bool, tail: Int?, since: Int64?, until: Int64?, follow: Bool) {
        var tail = tail
        var stdout = query.stdout, stderr = query.stderr
        if let want = tail, want > 0, !(stdout && stderr), !follow {
            if selectedTail == nil { selectedTail = SelectedTail(want: want, requested: max(want * 2, 100)) }
            tail = selectedTail!.requested
            stdout = true
            stderr = true
            fetchArguments = (joinHubAfter, since, until, follow)
        }
        let fetch = LogFetch(loop: loop, tty: info.tty, maxLineBytes: limits.maxLineBytes, metrics: metrics,
                             onLines: { [weak self] lines in self?.historyLines(lines) },
                             onEnd: { [weak self] error in self?.historyEnded(error) })
        fetch.onEngineError = { [weak self] message in
            self?.sendEvent(.object([("event", .string("error")), ("message", .string(message))]))
        }
        mode = .fetching(fetch, joinHubAfter: joinHubAfter)
        let q = query.engineQuery(follow: follow, tail: tail, since: since, until: until, stdout: stdout, stderr: stderr)
        fetch.start(client: client, containerID: info.id, query: q)
    }

    private func historyLines(_ lines: [LogLine]) {
        guard let ws, case .fetching(let fetch, _) = mode else { return }
        if selectedTail != nil {
            selectedTail!.fetched += lines.count
            selectedTail!.kept.append(contentsOf: lines.filter { key.selects($0) })
            if selectedTail!.kept.count > selectedTail!.want { selectedTail!.kept.removeFirst(selectedTail!.kept.count - selectedTail!.want) }
            return
        }
        var out: [UInt8] = []
        out.reserveCapacity(lines.count * 96)
        let n = LogFrameEncoder.append(lines, key: key, to: &out)
        // History is never dropped: it goes out as control-class data and the engine read
        // pauses while the client is behind.
        if n > 0 { ws.send(encodedFrames: out, lines: 0) }
        for i in lines.indices where key.streams & lines[i].stream.rawValue != 0 {
            _ = historyEnd.advance(lines[i].stream, lines[i].timestamp)
        }
        if ws.channel.queuedBytes > Self.highWater { fetch.pause() }
    }

    private func historyEnded(_ error: DockerError?) {
        guard case .fetching(_, let join) = mode else { return }
        if error == nil, let t = selectedTail, let args = fetchArguments {
            if t.kept.count < t.want && t.fetched >= t.requested {
                // Not enough lines of the selected stream yet, and the log has more: ask for more.
                selectedTail = SelectedTail(want: t.want, requested: t.requested * 4)
                startFetch(joinHubAfter: args.join, tail: t.want, since: args.since, until: args.until, follow: args.follow)
                return
            }
            selectedTail = nil
            historyLines(t.kept)
        }
        if let error {
            metrics.engineError()
            sendEvent(.object([("event", .string("error")), ("message", .string(error.description))]))
            if !join { close(code: WebSocketCloseCode.internalError.rawValue, reason: "engine error"); return }
        }
        if join, let hub {
            mode = .live
            let end = historyEnd
            hub.loop.execute { hub.completeCatchUp(self, after: end) }
        } else {
            mode = .ended
            ws?.close(code: WebSocketCloseCode.normalClosure.rawValue, reason: "end of log")
        }
    }
}
