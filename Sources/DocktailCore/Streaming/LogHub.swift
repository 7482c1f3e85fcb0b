import Logging

/// The one upstream log stream of one container, shared by all its subscribers. Lives on one
/// loop: it decodes each line once, encodes each frame variant once, and sends the same bytes
/// to every subscriber (one hop per subscriber loop per batch).
///
/// It keeps a ring of recent lines for new subscribers and follows the container through its
/// life: `end` when it stops (after re-reading the tail, since engines drop a final line that
/// has no newline), `restart` and a resumed stream when it starts again, `removed` when it is
/// destroyed, and a resumed stream with no gap or duplicate after an engine outage.
final class LogHub: DockerResponseHandler, @unchecked Sendable {
    // Invariant: every var is confined to `loop.queue`.
    enum State {
        case idle
        /// Step 1 of attaching: the recent history (`follow=0`, `tail=ring size`).
        case loadingHistory
        /// Step 2: the live stream (`follow=1`, `since` the last entry).
        case following
        /// The live stream ended: re-reading the tail and checking the container.
        case finishing
        case stopped(exitCode: Int)
        /// The engine failed; a retry is scheduled.
        case waitingRetry
        case removed
        case closed
    }

    private struct Subscriber {
        let subscription: LogSubscription
        /// Lines kept while the subscriber reads older history from the engine.
        var catchUp: [LogLine]?
        var catchUpDropped = 0
        /// After a catch-up: live lines at or before these marks were in the subscriber's history
        /// already (its own read may have run ahead of this hub's stream).
        var joinFilter: LogStreamDecoder.Position?
    }

    let id: String
    let key: String
    let loop: EventLoop
    let client: DockerClient
    private unowned let registry: LogHubRegistry
    private let limits: Limits
    private let metrics: ServerMetrics
    private let logger: Logger
    private(set) var info: ContainerInfo
    private(set) var state = State.idle
    private var ring: LogRing
    /// True when the ring holds the container's whole log.
    private var ringComplete = false
    private var subscribers: [ObjectIdentifier: Subscriber] = [:]
    private var waiting: [LogSubscription] = []
    private var decoder: LogStreamDecoder
    private var position = LogStreamDecoder.Position()
    private var connection: DockerHTTPConnection?
    private var status = 0
    private var streamCounted = false
    private var generation = 0
    private var retryDelay = 0.5
    private var lastDieExitCode: Int?
    private var announcedOutage = false

    init(info: ContainerInfo, key: String, loop: EventLoop, client: DockerClient, registry: LogHubRegistry,
         limits: Limits, metrics: ServerMetrics, logger: Logger) {
        self.id = info.id
        self.key = key
        self.info = info
        self.loop = loop
        self.client = client
        self.registry = registry
        self.limits = limits
        self.metrics = metrics
        self.logger = logger
        self.ring = LogRing(capacity: limits.ringLines)
        self.decoder = LogStreamDecoder(tty: info.tty, maxLineBytes: limits.maxLineBytes)
    }

    // MARK: subscribers

    func subscribe(_ s: LogSubscription) {
        loop.assertInLoop()
        generation += 1 // cancels a pending linger close
        switch state {
        case .idle:
            waiting.append(s)
            attach(first: true)
        case .loadingHistory:
            waiting.append(s)
        case .removed, .closed:
            let frame = Self.removedFrame
            s.loop.execute { s.containerRemoved(frame: frame) }
        default:
            serve(s)
        }
    }

    func unsubscribe(_ s: LogSubscription) {
        loop.assertInLoop()
        subscribers.removeValue(forKey: ObjectIdentifier(s))
        waiting.removeAll { $0 === s }
        guard subscribers.isEmpty && waiting.isEmpty else { return }
        generation += 1
        let g = generation
        loop.schedule(after: limits.upstreamLingerSeconds) { [self] in
            guard g == generation, subscribers.isEmpty, waiting.isEmpty else { return }
            shutDown()
        }
    }

    private func shutDown() {
        state = .closed
        closeUpstream()
        registry.remove(self)
        logger.info("upstream closed", metadata: ["container": "\(info.name)"])
    }

    /// Sends the initial lines to a new subscriber: from the ring when it covers the request,
    /// else the subscriber reads history itself and joins later (`completeCatchUp`).
    private func serve(_ s: LogSubscription) {
        let q = s.query
        let lines = ring.lines
        let selected = lines.filter { q.selects($0) && (q.since == nil || $0.timestamp >= q.since!.nanoseconds) }
        // The ring covers the request when it holds the whole log, when its oldest line is older
        // than `since` (then every line since is in it), or when it has `tail` selected lines.
        var covered = ringComplete
        if !covered {
            if let since = q.since {
                // (with a second of margin: stdout and stderr stamps may interleave slightly out of order)
                // (`since` is at least the epoch, so the subtraction cannot overflow)
                covered = ring.oldest.map { $0.timestamp < since.nanoseconds - 1_000_000_000 } ?? false
            } else if let tail = q.tail {
                covered = selected.count >= tail
            }
        }
        if covered {
            var initial = selected
            if let tail = q.tail, initial.count > tail { initial = Array(initial.suffix(tail)) }
            subscribers[ObjectIdentifier(s)] = Subscriber(subscription: s, catchUp: nil)
            let stopped = stoppedEvent()
            let first = initial
            s.loop.execute {
                s.deliverOwn(first)
                if let stopped { s.sendEvent(stopped) }
            }
        } else {
            subscribers[ObjectIdentifier(s)] = Subscriber(subscription: s, catchUp: lines)
            s.loop.execute { s.startCatchUp() }
        }
    }

    /// The subscriber has sent its history up to `after` (per stream); send it what came since.
    func completeCatchUp(_ s: LogSubscription, after: LogStreamDecoder.Position) {
        loop.assertInLoop()
        guard var entry = subscribers[ObjectIdentifier(s)], let buffered = entry.catchUp else { return }
        var filter = after
        let out = Self.filterJoin(buffered, query: s.query, filter: &filter)
        let dropped = entry.catchUpDropped
        logger.debug("catch-up joined", metadata: ["container": "\(info.name)", "buffered": "\(buffered.count)", "delivered": "\(out.count)"])
        entry.catchUp = nil
        entry.joinFilter = filter.stdout == nil && filter.stderr == nil ? nil : filter
        subscribers[ObjectIdentifier(s)] = entry
        let stopped = stoppedEvent()
        s.loop.execute {
            s.deliverOwn(out)
            if dropped > 0 { s.sendEvent(.object([("event", .string("dropped")), ("count", .int(Int64(dropped)))])) }
            if let stopped { s.sendEvent(stopped) }
        }
    }

    /// Lines after the join point, per stream. A stream's mark is cleared at its first newer
    /// line, so the filter ends as soon as the hub has caught up with the subscriber's history.
    static func filterJoin(_ lines: [LogLine], query q: LogQuery, filter: inout LogStreamDecoder.Position) -> [LogLine] {
        var out: [LogLine] = []
        var counts: [LogStream: (Int64, Int)] = [:]
        for line in lines where q.selects(line) {
            if let since = q.since, line.timestamp < since.nanoseconds { continue }
            if let mark = filter[line.stream] {
                let n: Int
                if let c = counts[line.stream], c.0 == line.timestamp { n = c.1 + 1 } else { n = 1 }
                counts[line.stream] = (line.timestamp, n)
                if mark.covers(line.timestamp, n) { continue }
                filter[line.stream] = nil
            }
            out.append(line)
        }
        return out
    }

    private func stoppedEvent() -> JSONValue? {
        if case .stopped(let code) = state { return .object([("event", .string("end")), ("exitCode", .int(Int64(code)))]) }
        return nil
    }

    /// Sends an event to every subscriber, encoded once.
    private func broadcast(_ event: JSONValue) {
        let frame = LogSubscription.eventFrame(event)
        for entry in subscribers.values {
            let s = entry.subscription
            s.loop.execute { s.sendEvent(frame: frame) }
        }
    }

    private static let removedFrame = LogSubscription.eventFrame(.object([("event", .string("removed"))]))

    // MARK: lines

    /// Puts a batch in the ring and sends it to every subscriber, each variant encoded once.
    private func publish(_ lines: [LogLine]) {
        guard !lines.isEmpty else { return }
        metrics.lines(in: lines.count)
        for line in lines { ring.append(line) }
        if ring.evicted > 0 { ringComplete = false }
        // Each variant (encoding × stream selection) is encoded once; subscribers point at theirs.
        var variantIndex: [DeliveryKey: Int] = [:]
        var variants: [(bytes: [UInt8], lines: Int)] = []
        var byLoop: [Int: (EventLoop, [(LogSubscription, Int)])] = [:]
        for (oid, var entry) in subscribers {
            if entry.catchUp != nil {
                entry.catchUp!.append(contentsOf: lines)
                let bound = max(limits.ringLines * 10, 10_000)
                if entry.catchUp!.count > bound {
                    let extra = entry.catchUp!.count - bound
                    entry.catchUp!.removeFirst(extra)
                    entry.catchUpDropped += extra
                }
                subscribers[oid] = entry
                continue
            }
            let s = entry.subscription
            if var filter = entry.joinFilter {
                let own = Self.filterJoin(lines, query: s.query, filter: &filter)
                entry.joinFilter = filter.stdout == nil && filter.stderr == nil ? nil : filter
                subscribers[oid] = entry
                s.loop.execute { s.deliverOwn(own) }
                continue
            }
            let index: Int
            if let i = variantIndex[s.key] {
                index = i
            } else {
                var out: [UInt8] = []
                out.reserveCapacity(lines.count * 100)
                let n = LogFrameEncoder.append(lines, key: s.key, to: &out)
                index = variants.count
                variants.append((out, n))
                variantIndex[s.key] = index
            }
            if variants[index].lines > 0 { byLoop[s.loop.index, default: (s.loop, [])].1.append((s, index)) }
        }
        let shared = variants
        let metrics = self.metrics
        for (_, (targetLoop, targets)) in byLoop {
            targetLoop.execute {
                var frames = 0, bytes = 0
                for (s, index) in targets {
                    let v = shared[index]
                    if s.deliver(v.bytes, lines: v.lines) { frames += v.lines; bytes += v.bytes.count }
                }
                metrics.framesOut(frames, bytes: bytes)
            }
        }
    }

    // MARK: upstream

    /// Attaches to the container: inspect, then history (first time) or resume, then follow.
    private func attach(first: Bool) {
        state = first ? .loadingHistory : .finishing
        client.inspect(id, on: loop) { [self] result in
            if case .closed = state { return }
            switch result {
            case .failure(.notFound):
                containerRemoved()
            case .failure(let e):
                engineFailed(e)
            case .success(let newInfo):
                let restarted = !first && newInfo.startedAt != info.startedAt && !info.startedAt.isEmpty
                info = newInfo
                if restarted { broadcast(.object([("event", .string("restart"))])) }
                if first {
                    loadHistory()
                } else {
                    follow()
                }
            }
        }
    }

    private func loadHistory() {
        state = .loadingHistory
        decoder = LogStreamDecoder(tty: info.tty, maxLineBytes: limits.maxLineBytes)
        openStream(follow: false, tail: limits.ringLines, since: nil)
    }

    private func follow() {
        state = .following
        decoder = LogStreamDecoder(tty: info.tty, maxLineBytes: limits.maxLineBytes, resumeAfter: position)
        let since = position.resumeTimestamp
        openStream(follow: true, tail: since == nil ? 0 : nil, since: since)
        if !streamCounted { streamCounted = true; metrics.upstreamOpened() }
        logger.info("upstream opened", metadata: ["container": "\(info.name)"])
    }

    /// After a followed stream ends the engine may have left out a last line without a newline:
    /// read the tail once more (`follow=0`, `since` the last entry), then decide.
    private func rereadTail() {
        state = .finishing
        decoder = LogStreamDecoder(tty: info.tty, maxLineBytes: limits.maxLineBytes, resumeAfter: position)
        openStream(follow: false, tail: nil, since: position.resumeTimestamp ?? 0)
    }

    private func openStream(follow: Bool, tail: Int?, since: Int64?) {
        let since = since.map(Timestamp.init(clamping:))
        status = 0
        batch = []
        logger.debug("upstream request", metadata: ["container": "\(info.name)", "follow": "\(follow)", "tail": "\(tail.map(String.init) ?? "all")"])
        let q = LogQuery().engineQuery(follow: follow, tail: tail, since: since)
        connection = client.stream("/containers/\(id)/logs?\(q)", on: loop, handler: self)
    }

    private func closeUpstream() {
        connection?.close()
        connection = nil
        if streamCounted { streamCounted = false; metrics.upstreamClosed() }
    }

    func dockerResponseHead(_ head: HTTPResponseParser.Head) { status = head.status }

    /// Lines decoded from the current socket read, published together when it is done.
    private var batch: [LogLine] = []
    /// Previews of an unfinished line: one check per `previewInterval` while one is pending.
    private var previewScheduled = false
    private var previewedBytes = -1
    static let previewInterval = 0.5

    func dockerResponseBody(_ bytes: UnsafeRawBufferPointer) {
        guard status == 200 else { return }
        do {
            try decoder.decode(bytes) { batch.append($0) }
        } catch {
            connection?.close()
            return
        }
    }

    func dockerResponseReadComplete() {
        reportEngineErrors()
        position = decoder.position
        if !batch.isEmpty {
            let lines = batch
            batch = []
            publish(lines)
        }
        if case .following = state, decoder.pendingBytes > 0, !previewScheduled { schedulePreview() }
    }

    /// A line without its newline yet (a prompt, a `\r` progress bar, a process that writes in
    /// pieces) is shown as a preview after a moment, and again while it grows; the finished
    /// line replaces it in the viewer. Previews are best effort: never stored, counted or sent
    /// to a client that is behind.
    private func schedulePreview() {
        previewScheduled = true
        loop.schedule(after: Self.previewInterval) { [self] in
            previewScheduled = false
            guard case .following = state, decoder.pendingBytes > 0 else { previewedBytes = -1; return }
            if decoder.pendingBytes != previewedBytes {
                previewedBytes = decoder.pendingBytes
                publishPreview(decoder.partialLines())
            }
            schedulePreview()
        }
    }

    private func publishPreview(_ lines: [LogLine]) {
        var encoded: [DeliveryKey: [UInt8]] = [:]
        for entry in subscribers.values where entry.catchUp == nil && entry.joinFilter == nil {
            let s = entry.subscription
            if encoded[s.key] == nil {
                var out: [UInt8] = []
                _ = LogFrameEncoder.append(lines, key: s.key, to: &out)
                encoded[s.key] = out
            }
            guard let frames = encoded[s.key], !frames.isEmpty else { continue }
            s.loop.execute { s.deliverPreview(frames) }
        }
    }

    private func reportEngineErrors() {
        for message in decoder.takeEngineErrors() {
            metrics.engineError()
            logger.warning("engine error in log stream", metadata: ["container": "\(info.name)", "message": "\(message)"])
            broadcast(.object([("event", .string("error")), ("message", .string(message))]))
        }
    }

    func dockerResponseEnd(_ error: DockerError?) {
        connection = nil
        if case .closed = state { return }
        if error == nil && status == 404 { containerRemoved(); return }
        if let error { engineFailed(error); return }
        if status != 200 { engineFailed(.engineStatus(status, "logs request failed")); return }
        var tail = batch
        batch = []
        decoder.finish { tail.append($0) }
        position = decoder.position
        publish(tail)
        retryDelay = 0.5
        announcedOutage = false
        switch state {
        case .loadingHistory:
            // The engine's tail counts entries (a line over 16 KiB is several): fewer entries
            // than asked for is the whole log; otherwise each stream's first line may be the
            // end of a cut line, and is dropped.
            let wholeLog = decoder.entryCount < limits.ringLines
            if !wholeLog { ring.removeFirstLinePerStream() }
            ringComplete = wholeLog && ring.evicted == 0
            let ready = waiting
            waiting = []
            follow()
            for s in ready { serve(s) }
        case .following:
            rereadTail()
        case .finishing:
            checkAfterEnd()
        default:
            break
        }
    }

    /// The stream is complete: running again (a restart raced us) → follow; else `end`.
    private func checkAfterEnd() {
        client.inspect(id, on: loop) { [self] result in
            if case .closed = state { return }
            switch result {
            case .failure(.notFound): containerRemoved()
            case .failure(let e): engineFailed(e)
            case .success(let newInfo):
                let restarted = newInfo.startedAt != info.startedAt
                if newInfo.running {
                    if restarted {
                        broadcast(.object([("event", .string("end")), ("exitCode", .int(Int64(lastDieExitCode ?? 0)))]))
                        broadcast(.object([("event", .string("restart"))]))
                    }
                    info = newInfo
                    follow()
                } else {
                    info = newInfo
                    state = .stopped(exitCode: newInfo.exitCode)
                    if streamCounted { streamCounted = false; metrics.upstreamClosed() }
                    broadcast(.object([("event", .string("end")), ("exitCode", .int(Int64(newInfo.exitCode)))]))
                }
            }
        }
    }

    private func containerRemoved() {
        state = .removed
        closeUpstream()
        let frame = Self.removedFrame
        for s in subscribers.values.map(\.subscription) + waiting {
            s.loop.execute { s.containerRemoved(frame: frame) }
        }
        subscribers.removeAll()
        waiting.removeAll()
        registry.remove(self)
    }

    private func engineFailed(_ error: DockerError) {
        metrics.engineError()
        if streamCounted { streamCounted = false; metrics.upstreamClosed() }
        let first: Bool
        if case .loadingHistory = state { first = true } else { first = false }
        state = .waitingRetry
        if !announcedOutage {
            announcedOutage = true
            logger.warning("engine lost", metadata: ["engine": "\(client.name)", "container": "\(info.name)", "error": "\(error)"])
            broadcast(.object([("event", .string("error")), ("message", .string("\(error.publicDescription); reconnecting"))]))
        }
        let delay = retryDelay
        retryDelay = min(retryDelay * 2, 10)
        loop.schedule(after: delay) { [self] in
            guard case .waitingRetry = state else { return }
            attach(first: first && position.resumeTimestamp == nil)
        }
    }

    // MARK: engine events

    func handleEvent(action: String, exitCode: Int?) {
        loop.assertInLoop()
        switch action {
        case "die":
            lastDieExitCode = exitCode
        case "start":
            switch state {
            case .stopped:
                broadcast(.object([("event", .string("restart"))]))
                client.inspect(id, on: loop) { [self] result in
                    if case .success(let newInfo) = result { info = newInfo }
                    follow()
                }
            default:
                break
            }
        case "destroy":
            containerRemoved()
        default:
            break
        }
    }

    /// The engine is reachable again: retry now rather than after the backoff.
    func engineBack() {
        loop.assertInLoop()
        if case .waitingRetry = state {
            retryDelay = 0.5
            attach(first: position.resumeTimestamp == nil && ring.count == 0)
        }
    }

    var subscriberCount: Int { subscribers.count + waiting.count }
}
