/// Where a `LogSubscription` delivers: a WebSocket (`/logs/{ref}`), or a member slot of a
/// merged group view. Calls come on the subscription's loop.
protocol LogSubscriptionOutput: AnyObject {
    /// Under the output's high-water mark: history may go on.
    var isWritable: Bool { get }
    /// Bytes waiting to go out (previews are skipped when the client is behind).
    var queuedBytes: Int { get }
    /// Frames encoded once for every subscriber of a variant (live lines, droppable).
    @discardableResult
    func send(encodedFrames: [UInt8], lines: Int, countMetrics: Bool) -> Bool
    /// Lines for this subscriber alone: history (never dropped) or live (droppable).
    func send(lines: [LogLine], key: DeliveryKey, history: Bool)
    /// An event frame (`end`, `restart`, `error`, …), never dropped.
    func send(eventFrame: [UInt8])
    /// A preview of an unfinished line.
    func send(preview: [UInt8])
    func close(code: UInt16, reason: String)
    /// Everything from here on is live (the history, from the engine or the hub's ring, is out).
    func historyComplete()
}

extension LogSubscriptionOutput {
    func historyComplete() {}
}

/// The WebSocket side of a single-container view: lines are encoded here.
final class WebSocketLogOutput: LogSubscriptionOutput {
    // Invariant: used on the connection's loop.
    let connection: WebSocketConnection
    init(_ connection: WebSocketConnection) { self.connection = connection }
    var isWritable: Bool { connection.channel.isWritable }
    var queuedBytes: Int { connection.channel.queuedBytes }
    func send(encodedFrames: [UInt8], lines: Int, countMetrics: Bool) -> Bool {
        connection.send(encodedFrames: encodedFrames, lines: lines, countMetrics: countMetrics)
    }
    func send(lines: [LogLine], key: DeliveryKey, history: Bool) {
        var out: [UInt8] = []
        let n = LogFrameEncoder.append(lines, key: key, to: &out)
        if n > 0 { connection.send(encodedFrames: out, lines: history ? 0 : n) }
    }
    func send(eventFrame: [UInt8]) { connection.send(encodedFrames: eventFrame) }
    func send(preview: [UInt8]) { connection.send(encodedFrames: preview) }
    func close(code: UInt16, reason: String) { connection.close(code: code, reason: reason) }
}

/// One client watching one container's log, on the client's loop: a WebSocket of
/// `/logs/{ref}`, or one member of a merged group view (`LogGroupSubscription`).
///
/// With `follow=1` (and any `until` still in the future) it joins the container's shared
/// `LogHub`, and ends at `until` if one is given; otherwise it reads its own history from the
/// engine and closes with 1000 at the end.
final class LogSubscription: WebSocketHandler, LogFanOutSubscriber, @unchecked Sendable {
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
    let limits: StreamingLimits
    let metrics: any StreamingMetrics
    private let registry: LogHubRegistry
    private(set) var hub: LogHub?
    private var mode = Mode.starting
    /// Strong while open (hot path: no weak load per delivery); cleared when the socket closes,
    /// which breaks the cycle with `WebSocketConnection.handler`.
    private var ws: LogSubscriptionOutput?
    /// A group member gets lines, not frames (the group merges and encodes them).
    let wantsLines: Bool
    /// Per stream, the last line sent from history and how many shared its stamp (the join point).
    private var historyEnd = LogStreamDecoder.Position()
    /// `tail=N`: finds the last N lines as users see them (see `LogTailLocator`).
    private var locator: LogTailLocator?
    /// Streaming from a located start: lines of `mark.stream` stamped `mark.timestamp` before
    /// the `mark.ordinal`-th are skipped.
    private var skipBefore: (mark: LogTailLocator.StartMark, seen: Int)?
    /// Whether the history read serves a catch-up (then the hub takes over after it).
    private var joinHubAfter = false
    /// Times a closed hub was replaced (a race with its linger shutdown); bounded.
    private var hubLookups = 0
    /// Times a failed catch-up read was resumed (bounded).
    private var catchUpRetries = 0
    /// History lines not yet handed to the socket (see `sendHistory`).
    private var historyBacklog: [LogLine] = []
    private var historyBacklogIndex = 0
    /// What to do once the backlog is sent (the history ended meanwhile).
    private var afterHistory: (() -> Void)?

    init(loop: EventLoop, query: LogQuery, info: ContainerInfo, hostName: String, client: DockerClient,
         registry: LogHubRegistry, limits: StreamingLimits, metrics: any StreamingMetrics, wantsLines: Bool = false) {
        self.wantsLines = wantsLines
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

    /// `follow` with an `until` still to come (past it, the history is all there is to read).
    var followsLive: Bool { query.follow && (query.until.map { $0 > Timestamp.now() } ?? true) }

    // MARK: WebSocketHandler

    func webSocketDidOpen(_ connection: WebSocketConnection) {
        // Lines lost to backpressure are announced in order, before the next line (JSON only).
        let json = isJSON
        connection.channel.dropAnnouncement = { n in
            json ? Self.eventFrame(.object([("event", .string("dropped")), ("count", .int(Int64(n)))])) : nil
        }
        start(output: WebSocketLogOutput(connection))
    }

    /// Starts delivering to `output` (a WebSocket, or a group's member slot).
    func start(output: LogSubscriptionOutput) {
        ws = output
        metrics.subscriberAdded()
        sendEvent(.object([("event", .string("subscribed")), ("id", .string(info.id)), ("name", .string(info.name)),
                           ("host", .string(hostName)), ("tty", .bool(info.tty)), ("state", .string(info.state))]))
        let now = Timestamp.now()
        if query.follow && (query.until.map { $0 > now } ?? true) {
            joinHub()
            if let until = query.until {
                // Nothing may arrive after `until`: end at that moment (lines stamped after it
                // that arrive earlier are cut by the hub).
                scheduleUntil(until)
            }
        } else {
            startHistory(joinHubAfter: false)
        }
    }

    /// Closes at `until`, checking at most a minute apart: a timer never outlives a closed
    /// subscription by more than that, however far away `until` is.
    private func scheduleUntil(_ until: Timestamp) {
        let remaining = Double(until.nanoseconds - Timestamp.now().nanoseconds) / 1e9
        loop.schedule(after: min(max(remaining, 0), 60)) { [weak self] in
            guard let self, self.ws != nil else { return }
            if Timestamp.now() >= until {
                self.close(code: WebSocketCloseCode.normalClosure.rawValue, reason: "until reached")
            } else {
                self.scheduleUntil(until)
            }
        }
    }

    private func joinHub() {
        hubLookups += 1
        let hub = registry.hub(for: info, client: client, preferredLoop: loop)
        self.hub = hub
        mode = .live
        hub.loop.execute { hub.subscribe(self) }
    }

    /// The hub lingered out between the registry lookup and the subscription: take a new one.
    func hubClosed() {
        guard ws != nil, case .live = mode else { return }
        guard hubLookups < 5 else {
            close(code: WebSocketCloseCode.tryAgainLater.rawValue, reason: "upstream unavailable")
            return
        }
        joinHub()
    }

    func webSocketBecameWritable(_ connection: WebSocketConnection) {
        outputBecameWritable()
    }

    /// The output took what it had: history goes on.
    func outputBecameWritable() {
        drainHistory()
        if historyBacklogIndex >= historyBacklog.count, case .fetching(let fetch, _) = mode { fetch.resume() }
    }

    func webSocketDidClose(_ connection: WebSocketConnection) {
        stop()
    }

    /// The client left (or the group dropped this member).
    func stop() {
        guard ws != nil else { return }
        ws = nil
        metrics.subscriberRemoved()
        if case .fetching(let fetch, _) = mode { fetch.cancel() }
        mode = .ended
        if let hub { hub.loop.execute { hub.unsubscribe(self) } }
        hub = nil
    }

    // MARK: from the hub (already hopped onto `loop`)

    /// What the hub's fan-out decided for this subscriber, in order.
    func perform(_ sends: [LogFanOut<LogSubscription>.Send], metrics: any StreamingMetrics) {
        guard let ws else { return }
        var frames = 0, bytes = 0
        for send in sends {
            switch send {
            case .frames(let encoded, let lines):
                // Shared by every subscriber of this variant; counted in bulk below.
                if ws.send(encodedFrames: encoded, lines: lines, countMetrics: false) { frames += lines; bytes += encoded.count }
            case .own(let lines):
                deliverOwn(lines)
            case .event(let frame):
                sendEvent(frame: frame)
            case .startCatchUp:
                startCatchUp()
            case .finish:
                close(code: WebSocketCloseCode.normalClosure.rawValue, reason: "until reached")
            }
        }
        if frames > 0 { metrics.framesOut(frames, bytes: bytes) }
        if !announcedLive, case .live = mode, !sends.contains(where: { if case .startCatchUp = $0 { return true }; return false }) {
            announcedLive = true
            ws.historyComplete()
        }
    }
    private var announcedLive = false

    /// A preview of an unfinished line: skipped when the client is behind (the finished line
    /// follows anyway).
    func deliverPreview(_ frames: [UInt8]) {
        guard let ws, ws.queuedBytes < Self.previewQueueLimit else { return }
        ws.send(preview: frames)
    }

    private static let previewQueueLimit = 64 * 1024

    /// Lines only this subscriber gets (join after catch-up).
    func deliverOwn(_ lines: [LogLine]) {
        guard let ws, !lines.isEmpty else { return }
        ws.send(lines: lines, key: key, history: false)
    }

    func sendEvent(_ event: JSONValue) {
        sendEvent(frame: Self.eventFrame(event))
    }

    /// An event already encoded as a frame (the hub encodes a broadcast once for all).
    func sendEvent(frame: [UInt8]) {
        guard isJSON, let ws else { return }
        ws.send(eventFrame: frame)
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
        // A history read in flight stops with the subscription (it would run on unpaced).
        if case .fetching(let fetch, _) = mode { fetch.cancel() }
        mode = .ended
        historyBacklog = []
        historyBacklogIndex = 0
        afterHistory = nil
        ws?.close(code: code, reason: reason)
    }

    /// The hub's ring does not cover this request: read the history from the engine, then
    /// ask the hub for what came after it.
    func startCatchUp() {
        // A client that already left costs no history read.
        guard ws != nil, case .live = mode else { return }
        startHistory(joinHubAfter: true)
    }

    // MARK: history from the engine

    /// Reads the requested history: everything (`tail=all`) streamed as it comes, nothing
    /// (`tail=0`), or the last N lines found by a `LogTailLocator` first.
    private func startHistory(joinHubAfter join: Bool) {
        joinHubAfter = join
        // A follow whose `until` has passed is a plain history read (the engine would wait for
        // a line after `until` forever).
        let follow = join ? false : followsLive
        let until = join ? nil : query.until
        switch query.tail {
        case nil:
            streamHistory(since: query.since, until: until, follow: follow, tail: nil)
        case 0?:
            if follow {
                // Only what comes from now on: the engine's tail=0 with follow.
                streamHistory(since: query.since, until: until, follow: true, tail: 0)
            } else {
                historyEnded(nil)
            }
        case let want?:
            var predicate: (@Sendable (LogLine) -> Bool)?
            if let grep = query.grep { predicate = { line in grep.matches(line) } }
            locator = LogTailLocator(want: want, streams: key.streams, byteBudget: limits.historyBufferBytes, predicate: predicate)
            locate()
        }
    }

    /// One locating pass: `tail=requestedEntries` of both streams, nothing sent to the client.
    private func locate() {
        guard var l = locator else { return }
        l.beginPass()
        locator = l
        let q = query.engineQuery(follow: false, tail: l.requestedEntries, since: query.since,
                                  until: joinHubAfter ? nil : query.until, stdout: true, stderr: true)
        startFetch(q, onLines: { [weak self] lines in
            guard let self, self.locator != nil else { return }
            for line in lines { self.locator!.add(line) }
        }, onEnd: { [weak self] fetch, error in
            guard let self, var l = self.locator else { return }
            if let error { self.locator = nil; self.historyEnded(error); return }
            let outcome = l.finishPass(entries: fetch.entries)
            if self.query.grep != nil {
                // A search walks back through the log: say how far it got.
                var done = true
                if case .readAgain = outcome { done = false }
                var fields: [(String, JSONValue)] = [("event", .string("search"))]
                if let t = l.oldestSeen { fields.append(("scannedTo", .string(DockerTimestamp.format(t)))) }
                // Done: what was found (the whole log's first line counts then); else the lines so far.
                var matches = l.matchedLines
                switch outcome {
                case .lines(let found): matches = found.count
                case .streamFrom: matches = l.want
                case .empty: matches = 0
                case .readAgain: break
                }
                fields.append(("matches", .int(Int64(matches))))
                fields.append(("done", .bool(done)))
                self.sendEvent(.object(fields))
            }
            switch outcome {
            case .readAgain(let entries):
                l.widen(to: entries)
                self.locator = l
                self.locate()
            case .lines(let lines):
                self.locator = nil
                // Where these lines end (they may still wait in the backlog when the follow starts).
                var end = self.historyEnd
                for line in lines where self.key.selects(line) { _ = end.advance(line.stream, line.timestamp) }
                self.sendHistory(lines)
                if self.followsLive && !self.joinHubAfter {
                    // Keep following from the last line sent (the skip drops what was sent).
                    let since = end.resumeTimestamp.map(Timestamp.init(clamping:)) ?? self.query.since
                    self.streamHistory(since: since, until: self.query.until, follow: true, tail: since == nil ? 0 : nil,
                                       resumeAfter: end)
                } else {
                    self.historyEnded(nil)
                }
            case .streamFrom(let mark):
                self.locator = nil
                self.skipBefore = (mark, 0)
                var since = Timestamp(clamping: mark.timestamp)
                if let s = self.query.since, s > since { since = s }
                self.streamHistory(since: since, until: self.joinHubAfter ? nil : self.query.until,
                                   follow: self.joinHubAfter ? false : self.followsLive, tail: nil)
            case .empty:
                self.locator = nil
                if self.followsLive && !self.joinHubAfter {
                    self.streamHistory(since: self.query.since, until: self.query.until, follow: true, tail: 0)
                } else {
                    self.historyEnded(nil)
                }
            }
        })
    }

    /// Streams history to the client as it arrives, pausing the engine read while the client is behind.
    private func streamHistory(since: Timestamp?, until: Timestamp?, follow: Bool, tail: Int?,
                               resumeAfter: LogStreamDecoder.Position? = nil) {
        let q = query.engineQuery(follow: follow, tail: tail, since: since, until: until, stdout: query.stdout, stderr: query.stderr)
        startFetch(q, resumeAfter: resumeAfter, onLines: { [weak self] lines in self?.historyLines(lines) },
                   onEnd: { [weak self] _, error in self?.historyEnded(error) })
    }

    private func startFetch(_ engineQuery: String, resumeAfter: LogStreamDecoder.Position? = nil,
                            onLines: @escaping ([LogLine]) -> Void, onEnd: @escaping (LogFetch, DockerError?) -> Void) {
        let fetch = LogFetch(loop: loop, tty: info.tty, maxLineBytes: limits.maxLineBytes, metrics: metrics,
                             resumeAfter: resumeAfter, engineNow: client.engineNow, onLines: onLines, onEnd: { _ in })
        fetch.onEnd = { [weak fetch] error in if let fetch { onEnd(fetch, error) } }
        fetch.onEngineError = { [weak self] message in
            self?.sendEvent(.object([("event", .string("error")), ("message", .string(message))]))
        }
        mode = .fetching(fetch, joinHubAfter: joinHubAfter)
        fetch.start(client: client, containerID: info.id, query: engineQuery)
    }

    private func historyLines(_ lines: [LogLine]) {
        guard let ws, case .fetching(let fetch, _) = mode else { return }
        var lines = lines
        if let skip = skipBefore {
            var seen = skip.seen
            var done = false
            lines.removeAll { line in
                guard !done, line.stream == skip.mark.stream else { return false }
                if line.timestamp == skip.mark.timestamp && seen + 1 < skip.mark.ordinal { seen += 1; return true }
                if line.timestamp < skip.mark.timestamp { return true }
                done = true
                return false
            }
            skipBefore = done ? nil : (skip.mark, seen)
        }
        sendHistory(lines)
        // The one backpressure mechanism: history waits while the client is over its budget.
        if !ws.isWritable || historyBacklogIndex < historyBacklog.count { fetch.pause() }
    }

    /// History is never dropped: it goes out as undroppable data in slices of at most
    /// `historySliceBytes`, each only while the client is under its budget's high-water mark;
    /// the rest waits here (the engine read pauses meanwhile, so this holds one read's worth, or
    /// one located `tail` window of at most `historyBufferBytes`).
    private func sendHistory(_ lines: [LogLine]) {
        guard !lines.isEmpty else { return }
        historyBacklog.append(contentsOf: lines)
        drainHistory()
    }

    private static let historySliceBytes = 256 * 1024

    /// Sends what the client can take now; runs the pending end of history once all is sent.
    private func drainHistory() {
        while historyBacklogIndex < historyBacklog.count, let ws, ws.isWritable {
            var slice: [LogLine] = []
            var bytes = 0
            var k = historyBacklogIndex
            while k < historyBacklog.count && bytes < Self.historySliceBytes {
                let line = historyBacklog[k]
                if key.selects(line) {
                    slice.append(line)
                    bytes += line.storage.count + 48
                    _ = historyEnd.advance(line.stream, line.timestamp)
                }
                k += 1
            }
            historyBacklogIndex = k
            if !slice.isEmpty { ws.send(lines: slice, key: key, history: true) }
        }
        guard historyBacklogIndex >= historyBacklog.count else { return }
        historyBacklog.removeAll(keepingCapacity: false)
        historyBacklogIndex = 0
        if let next = afterHistory {
            afterHistory = nil
            next()
        }
    }

    private func historyEnded(_ error: DockerError?) {
        // A client that left (or was closed) gets nothing more.
        if case .ended = mode { return }
        // The end (close, or join the hub) comes after the last history line is sent.
        if historyBacklogIndex < historyBacklog.count {
            afterHistory = { [weak self] in self?.historyEnded(error) }
            return
        }
        let join = joinHubAfter
        if error != nil, join, catchUpRetries < 2 {
            // A catch-up cut short would leave a gap before the hub's buffer that nobody could
            // count: read on from where it stopped, a little later.
            catchUpRetries += 1
            metrics.engineError()
            loop.schedule(after: 0.5 * Double(catchUpRetries)) { [weak self] in
                guard let self, self.ws != nil, case .fetching = self.mode else { return }
                guard let resume = self.historyEnd.resumeTimestamp else {
                    // Nothing sent yet: start over (a `tail` is located again).
                    self.startHistory(joinHubAfter: true)
                    return
                }
                self.streamHistory(since: Timestamp(clamping: resume), until: nil, follow: false, tail: nil, resumeAfter: self.historyEnd)
            }
            return
        }
        if let error {
            metrics.engineError()
            sendEvent(.object([("event", .string("error")), ("message", .string(error.publicDescription))]))
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
