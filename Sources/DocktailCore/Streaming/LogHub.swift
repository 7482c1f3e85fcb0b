import Logging

/// The one upstream log stream of one container, shared by all its subscribers: a thin driver.
/// `LogUpstreamStateMachine` decides what to ask the engine and when; `LogFanOut` decides what
/// each subscriber gets; this class performs their actions (engine requests, timers, hops to
/// subscriber loops) and decodes the stream. It lives on one loop; each line is decoded once and
/// each frame variant encoded once for every subscriber.
final class LogHub: @unchecked Sendable {
    // Invariant: every var is confined to `loop.queue` (asserted at each entry point).
    let id: String
    let key: String
    let loop: EventLoop
    let client: DockerClient
    private unowned let registry: LogHubRegistry
    private let limits: StreamingLimits
    private let metrics: any StreamingMetrics
    private let logger: Logger
    private(set) var info: ContainerInfo
    private(set) var machine: LogUpstreamStateMachine
    private var fanOut: LogFanOut<LogSubscription>
    /// Subscribers that arrived before the ring was loaded.
    private var waiting: [LogSubscription] = []
    private var ringReady = false
    private var decoder: LogStreamDecoder
    private var position = LogStreamDecoder.Position()
    private var connection: DockerHTTPConnection?
    /// Callbacks of a stream that was replaced or closed carry an older generation and are ignored.
    private var streamGeneration = 0
    private var status = 0
    /// Lines decoded from the current socket read, published together when it is done.
    private var batch: [LogLine] = []
    /// Previews of an unfinished line: one check per `previewInterval` while one is pending.
    private var previewScheduled = false
    private var previewedBytes = -1
    static let previewInterval = 0.5

    init(info: ContainerInfo, key: String, loop: EventLoop, client: DockerClient, registry: LogHubRegistry,
         limits: StreamingLimits, metrics: any StreamingMetrics, logger: Logger) {
        self.id = info.id
        self.key = key
        self.info = info
        self.loop = loop
        self.client = client
        self.registry = registry
        self.limits = limits
        self.metrics = metrics
        self.logger = logger
        self.machine = LogUpstreamStateMachine(linger: limits.upstreamLingerSeconds)
        self.fanOut = LogFanOut(ringLines: limits.ringLines, ringBytes: limits.ringBytes, catchUpBytes: limits.catchUpBytes)
        self.decoder = LogStreamDecoder(tty: info.tty, maxLineBytes: limits.maxLineBytes, now: client.engineNow)
    }

    var subscriberCount: Int { fanOut.count + waiting.count }

    // MARK: subscribers

    func subscribe(_ s: LogSubscription) {
        loop.assertInLoop()
        switch machine.state {
        case .closed:
            // Lingered out between the registry lookup and this hop: the subscriber asks again.
            s.loop.execute { s.hubClosed() }
            return
        case .removed:
            let frame = Self.removedFrame
            s.loop.execute { s.containerRemoved(frame: frame) }
            return
        default:
            break
        }
        handle(.subscribed)
        if ringReady { deliver([(s, fanOut.serve(s))]) } else { waiting.append(s) }
    }

    func unsubscribe(_ s: LogSubscription) {
        loop.assertInLoop()
        fanOut.remove(s)
        waiting.removeAll { $0 === s }
        if fanOut.isEmpty && waiting.isEmpty { handle(.lastSubscriberLeft) }
    }

    /// The subscriber has sent its history up to `after` (per stream); send it what came since.
    func completeCatchUp(_ s: LogSubscription, after: LogStreamDecoder.Position) {
        loop.assertInLoop()
        deliver([(s, fanOut.completeCatchUp(s, after: after))])
    }

    // MARK: engine events (from the registry)

    func handleEvent(action: String, exitCode: Int?, time: Int64) {
        loop.assertInLoop()
        switch action {
        case "start": handle(.engineStarted(time: time))
        case "die": handle(.engineDied(exitCode: exitCode, time: time))
        case "destroy": handle(.engineDestroyed)
        default: break
        }
    }

    /// The engine is reachable again: retry now rather than after the backoff.
    func engineBack() {
        loop.assertInLoop()
        handle(.engineBack)
    }

    // MARK: the state machine's actions

    private func handle(_ event: LogUpstreamStateMachine.Event) {
        machine.now = MonotonicClock.wallNanoseconds()
        let actions = machine.handle(event)
        for action in actions { perform(action) }
        if case .stopped(let code, _) = machine.state, !machine.neverStarted { fanOut.stoppedExitCode = code } else { fanOut.stoppedExitCode = nil }
    }

    private func perform(_ action: LogUpstreamStateMachine.Action) {
        switch action {
        case .inspect:
            client.inspect(id, on: loop) { [self] result in
                switch result {
                case .success(let newInfo):
                    info = newInfo
                    handle(.inspected(.success(Self.snapshot(newInfo))))
                case .failure(.notFound):
                    handle(.inspected(.failure(.notFound)))
                case .failure(let e):
                    handle(.inspected(.failure(.engine(e.publicDescription))))
                }
            }
        case .openStream(let kind):
            openStream(kind)
        case .closeStream:
            streamGeneration += 1
            connection?.close()
            connection = nil
        case .serveWaiting:
            fanOut.ringLoaded(wholeLog: decoder.entryCount < limits.ringLines)
            ringReady = true
            let ready = waiting
            waiting = []
            deliver(ready.map { ($0, fanOut.serve($0)) })
        case .marker(let m):
            fanOut.addMarker(m)
        case .flushMarkers:
            deliver(fanOut.flushMarkers())
        case .flushMarkersThroughRestart:
            deliver(fanOut.flushMarkersThroughRestart())
        case .announceEngineLost(let why):
            metrics.engineError()
            logger.warning("engine lost", metadata: ["engine": "\(client.name)", "container": "\(info.name)", "error": "\(why)"])
            let frame = LogFanOut<LogSubscription>.eventFrame(.object([("event", .string("error")), ("message", .string("\(why); reconnecting"))]))
            deliver(fanOut.broadcast(frame) + waiting.map { ($0, [.event(frame)]) })
        case .scheduleTimer(let after, let token):
            loop.schedule(after: after) { [self] in handle(.timerFired(token: token)) }
        case .scheduleLinger(let after, let generation):
            loop.schedule(after: after) { [self] in handle(.lingerExpired(generation: generation)) }
        case .upstreamOpen(let open):
            if open {
                metrics.upstreamOpened()
                logger.info("upstream opened", metadata: ["container": "\(info.name)"])
            } else {
                metrics.upstreamClosed()
            }
        case .removed:
            let frame = Self.removedFrame
            for s in fanOut.removeAll() + waiting { s.loop.execute { s.containerRemoved(frame: frame) } }
            waiting = []
            registry.remove(self)
        case .shutDown:
            registry.remove(self)
            logger.info("upstream closed", metadata: ["container": "\(info.name)"])
        }
    }

    static func snapshot(_ info: ContainerInfo) -> LogUpstreamStateMachine.Snapshot {
        .init(running: info.running && !info.restarting, restarting: info.restarting,
              startedAt: DockerTimestamp.parse(info.startedAt), exitCode: info.exitCode,
              finishedAt: DockerTimestamp.parse(info.finishedAt))
    }

    private static let removedFrame = LogFanOut<LogSubscription>.eventFrame(.object([("event", .string("removed"))]))

    // MARK: the engine stream

    private func openStream(_ kind: LogUpstreamStateMachine.StreamKind) {
        streamGeneration += 1
        connection?.close()
        status = 0
        batch = []
        let query: String
        switch kind {
        case .history:
            decoder = LogStreamDecoder(tty: info.tty, maxLineBytes: limits.maxLineBytes, now: client.engineNow)
            query = LogQuery().engineQuery(follow: false, tail: limits.ringLines, since: nil)
        case .follow, .tailReread:
            // (A follow resumes inside the previous run, so it can span a run boundary too.)
            decoder = LogStreamDecoder(tty: info.tty, maxLineBytes: limits.maxLineBytes, resumeAfter: position, now: client.engineNow)
            // From the last entry delivered; with none (an empty log), from the start, so lines
            // written between the history read and this one are not lost.
            let since = Timestamp(clamping: position.resumeTimestamp ?? 0)
            var until: Timestamp?
            if case .tailReread(let u?) = kind { until = Timestamp(clamping: max(u, since.nanoseconds)) }
            query = LogQuery().engineQuery(follow: kind == .follow, tail: nil, since: since, until: until)
        }
        logger.debug("upstream request", metadata: ["container": "\(info.name)", "kind": "\(kind)"])
        let generation = streamGeneration
        connection = client.stream("/containers/\(id)/logs?\(query)", on: loop,
                                   handler: UpstreamResponse(hub: self, generation: generation))
    }

    fileprivate func responseHead(_ head: HTTPResponseParser.Head, generation: Int) {
        guard generation == streamGeneration else { return }
        status = head.status
    }

    fileprivate func responseBody(_ bytes: UnsafeRawBufferPointer, generation: Int) {
        guard generation == streamGeneration, status == 200 else { return }
        do {
            try decoder.decode(bytes) { batch.append($0) }
        } catch {
            // A stream docktail cannot frame: drop it; the end handler retries from the position.
            connection?.close()
        }
    }

    fileprivate func responseReadComplete(generation: Int) {
        guard generation == streamGeneration else { return }
        reportEngineErrors()
        position = decoder.position
        if !batch.isEmpty {
            let lines = batch
            batch = []
            metrics.lines(in: lines.count)
            publish(lines)
        }
        if case .streaming(.follow) = machine.state, decoder.pendingBytes > 0, !previewScheduled { schedulePreview() }
    }

    fileprivate func responseEnd(_ error: DockerError?, generation: Int) {
        guard generation == streamGeneration else { return }
        connection = nil
        if let error { handle(.streamEnded(.engine(error.publicDescription))); return }
        // 404: gone. 409: "can not get logs from container which is dead or marked for removal",
        // the engine removing it: the inspect that follows finds it gone (or not), no alarm.
        if status == 404 { handle(.streamEnded(.notFound)); return }
        if status == 409 { handle(.streamEnded(nil)); return }
        if status != 200 { handle(.streamEnded(.engine("logs request answered \(status)"))); return }
        var tail = batch
        batch = []
        decoder.finish { tail.append($0) }
        position = decoder.position
        if !tail.isEmpty {
            metrics.lines(in: tail.count)
            publish(tail)
        }
        handle(.streamEnded(nil))
    }

    private func publish(_ lines: [LogLine]) {
        deliver(fanOut.publish(lines))
        for time in fanOut.takeSynthesizedRestarts() { handle(.restartSeenInLog(time: time)) }
        for s in fanOut.takeHopelessCatchUps() {
            s.loop.execute { s.close(code: WebSocketCloseCode.policyViolation.rawValue, reason: "client too slow") }
        }
        if fanOut.isEmpty && waiting.isEmpty, machine.hasSubscribers { handle(.lastSubscriberLeft) }
    }

    private func reportEngineErrors() {
        for message in decoder.takeEngineErrors() {
            metrics.engineError()
            logger.warning("engine error in log stream", metadata: ["container": "\(info.name)", "message": "\(message)"])
            deliver(fanOut.broadcast(LogFanOut<LogSubscription>.eventFrame(.object([("event", .string("error")), ("message", .string(message))]))))
        }
    }

    /// A line without its newline yet (a prompt, a `\r` progress bar, a process that writes in
    /// pieces) is shown as a preview after a moment, and again while it grows; the finished
    /// line replaces it in the viewer. Previews are best effort: never stored, counted or sent
    /// to a client that is behind.
    private func schedulePreview() {
        previewScheduled = true
        loop.schedule(after: Self.previewInterval) { [self] in
            previewScheduled = false
            guard case .streaming(.follow) = machine.state, decoder.pendingBytes > 0 else { previewedBytes = -1; return }
            if decoder.pendingBytes != previewedBytes {
                previewedBytes = decoder.pendingBytes
                let previews = decoder.partialLines()
                var encoded: [DeliveryKey: [UInt8]] = [:]
                // Only to subscribers that are live: one still reading its history gets it in order.
                for s in fanOut.liveSubscribers {
                    if encoded[s.key] == nil {
                        var out: [UInt8] = []
                        _ = LogFrameEncoder.append(previews, key: s.key, to: &out)
                        encoded[s.key] = out
                    }
                    guard let frames = encoded[s.key], !frames.isEmpty else { continue }
                    s.loop.execute { s.deliverPreview(frames) }
                }
            }
            schedulePreview()
        }
    }

    // MARK: delivery

    /// One hop per subscriber loop per batch; frames are counted in bulk for the metrics.
    private func deliver(_ sends: [(LogSubscription, [LogFanOut<LogSubscription>.Send])]) {
        guard !sends.isEmpty else { return }
        if sends.count == 1 {
            let (s, list) = sends[0]
            let metrics = self.metrics
            s.loop.execute { s.perform(list, metrics: metrics) }
            return
        }
        var byLoop: [Int: (EventLoop, [(LogSubscription, [LogFanOut<LogSubscription>.Send])])] = [:]
        for item in sends { byLoop[item.0.loop.index, default: (item.0.loop, [])].1.append(item) }
        let metrics = self.metrics
        for (_, (target, items)) in byLoop {
            target.execute { for (s, list) in items { s.perform(list, metrics: metrics) } }
        }
    }
}

/// Forwards one engine response to its hub with the stream's generation, so callbacks of a
/// stream the hub already replaced or closed are ignored.
private final class UpstreamResponse: DockerResponseHandler, @unchecked Sendable {
    // Invariant: used on the hub's loop only.
    private weak var hub: LogHub?
    private let generation: Int

    init(hub: LogHub, generation: Int) {
        self.hub = hub
        self.generation = generation
    }

    func dockerResponseHead(_ head: HTTPResponseParser.Head) { hub?.responseHead(head, generation: generation) }
    func dockerResponseBody(_ bytes: UnsafeRawBufferPointer) { hub?.responseBody(bytes, generation: generation) }
    func dockerResponseReadComplete() { hub?.responseReadComplete(generation: generation) }
    func dockerResponseEnd(_ error: DockerError?) { hub?.responseEnd(error, generation: generation) }
}
