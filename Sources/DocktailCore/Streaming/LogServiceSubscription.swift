import Foundation

/// One WebSocket client watching a Swarm service (`/groups/service/{name}`), on the client's
/// loop. The manager does the fan-in: `GET /services/{id}/logs` gathers the lines of every task
/// on every node. With `details=1` each line starts with the task's attributes
/// (`com.docker.swarm.node.id=…,com.docker.swarm.service.id=…,com.docker.swarm.task.id=… `),
/// which become the message's member fields: `{"ts","stream","line","id","name","task":{"id","slot","node"}}`
/// (`id` is the task's, `name` is `SERVICE.SLOT`). Tasks not seen before (a scaled service,
/// a replaced task) are announced with `joined`; the task list is polled while the view is open
/// so tasks that stop are announced with `left`.
///
/// The manager sends history task by task: lines go through a `LogGroupMerger` (one member per
/// task) so they leave in stamp order. History is merged exactly while it fits the merger's
/// budget (1 MiB per task); the stream counts as live once it idles for 300 ms or 2 s after it
/// opened, and from then on lines wait at most the 50 ms window. Lines of a task not in the
/// list yet wait (up to 1 MiB) until the list gives its slot, so `joined` comes first.
///
/// The stream is this client's own (the manager's aggregation is per request): nothing is
/// dropped, the engine read pauses while the client is over its budget. A followed stream that
/// breaks is reopened `since` the oldest last stamp of the tasks, skipping what was delivered.
final class LogServiceSubscription: WebSocketHandler, DockerResponseHandler, @unchecked Sendable {
    // Invariant: confined to `loop.queue`.
    struct Task {
        var id: String
        var slot: Int?
        var node: String
        var up: Bool
        var tag: [UInt8]
        var textPrefix: [UInt8]
        /// Last stamp delivered for this task, and how many lines had it (resume without repeats).
        var last: (Int64, Int)?
        /// Its member number in the merger.
        var index: Int
    }

    let loop: EventLoop
    let service: SwarmService
    let client: DockerClient
    let query: LogQuery
    let key: DeliveryKey
    let limits: StreamingLimits
    let metrics: any StreamingMetrics
    private var ws: WebSocketConnection?
    private var tasks: [String: Task] = [:]
    private var decoder: LogStreamDecoder
    private var connection: DockerHTTPConnection?
    private var generation = 0
    private var status = 0
    private var merger = LogGroupMerger(window: LogGroupSubscription.window, memberBudget: LogGroupSubscription.memberBudget)
    private var nextIndex = 0
    private var byIndex: [Int: String] = [:]
    /// Lines of tasks not announced yet, and their bytes.
    private var held: [String: [LogLine]] = [:]
    private var heldBytes = 0
    private var streamOpenedAt = 0.0
    private var lastBytesAt = 0.0
    private var live = false
    private var drainScheduled = false
    private var timerArmed = false
    private var ended = false
    private var reconnects = 0
    private var refreshing = false
    private var pollScheduled = false
    /// Tasks first seen in the stream, announced once the task list has their slot.
    private var unannounced: Set<String> = []

    static let detailsPrefix = Array("com.docker.swarm.".utf8)
    static let pollInterval = 5.0

    init(loop: EventLoop, service: SwarmService, client: DockerClient, query: LogQuery, limits: StreamingLimits,
         metrics: any StreamingMetrics) {
        self.loop = loop
        self.service = service
        self.client = client
        self.query = query
        self.key = query.deliveryKey
        self.limits = limits
        self.metrics = metrics
        self.decoder = LogStreamDecoder(tty: service.tty, maxLineBytes: limits.maxLineBytes, detectsRunBoundaries: false, now: client.engineNow)
    }

    var isJSON: Bool { query.format == .json }

    // MARK: WebSocketHandler

    func webSocketDidOpen(_ connection: WebSocketConnection) {
        ws = connection
        metrics.subscriberAdded()
        client.tasks(serviceID: service.id, on: loop) { [self] result in
            guard ws != nil else { return }
            if case .success(let list) = result { for t in list where t.isUp { tasks[t.id] = makeTask(t) } }
            var members: [JSONValue] = []
            for t in tasks.values.sorted(by: { ($0.slot ?? Int.max, $0.id) < ($1.slot ?? Int.max, $1.id) }) { members.append(.object(fields(t))) }
            var svc: [(String, JSONValue)] = [("id", .string(service.id)), ("name", .string(service.name))]
            if let r = service.replicas { svc.append(("replicas", .int(Int64(r)))) }
            sendEvent(.object([("event", .string("subscribed")),
                               ("group", .object([("kind", .string("service")), ("name", .string(service.name))])),
                               ("service", .object(svc)), ("host", .string(client.name)), ("members", .array(members))]))
            openStream(since: query.since, tail: query.tail, until: query.until)
            schedulePoll()
        }
    }

    func webSocket(_ connection: WebSocketConnection, didReceive message: WebSocketMessage) {}

    func webSocketBecameWritable(_ connection: WebSocketConnection) {
        drain()
    }

    func webSocketDidClose(_ connection: WebSocketConnection) {
        ws = nil
        metrics.subscriberRemoved()
        generation += 1
        self.connection?.close()
        self.connection = nil
    }

    // MARK: tasks

    private func makeTask(_ t: SwarmTask, index: Int? = nil) -> Task {
        let index = index ?? { () -> Int in
            let i = nextIndex
            nextIndex += 1
            merger.addMember(i)
            if live { merger.setPhase(i, .live) }
            byIndex[i] = t.id
            return i
        }()
        let name = t.slot.map { "\(service.name).\($0)" } ?? "\(service.name).\(t.id.prefix(12))"
        var extra: [UInt8] = Array(#","task":{"id":"#.utf8)
        Array(t.id.utf8).withUnsafeBytes { JSONValue.appendEscaped($0, to: &extra) }
        if let slot = t.slot { extra += Array(",\"slot\":\(slot)".utf8) }
        extra += Array(#","node":"#.utf8)
        Array(t.nodeID.utf8).withUnsafeBytes { JSONValue.appendEscaped($0, to: &extra) }
        extra.append(UInt8(ascii: "}"))
        return Task(id: t.id, slot: t.slot, node: t.nodeID, up: t.isUp, tag: LogFrameEncoder.memberTag(id: t.id, name: name, extra: extra),
                    textPrefix: Array("[\(name)] ".utf8), last: nil, index: index)
    }

    private func fields(_ t: Task) -> [(String, JSONValue)] {
        var task: [(String, JSONValue)] = [("id", .string(t.id))]
        if let s = t.slot { task.append(("slot", .int(Int64(s)))) }
        task.append(("node", .string(t.node)))
        let name = t.slot.map { "\(service.name).\($0)" } ?? "\(service.name).\(t.id.prefix(12))"
        return [("id", .string(t.id)), ("name", .string(name)), ("task", .object(task))]
    }

    /// The task list again: new tasks join, tasks no longer up leave.
    private func refreshTasks() {
        guard !refreshing, ws != nil else { return }
        refreshing = true
        client.tasks(serviceID: service.id, on: loop) { [self] result in
            refreshing = false
            guard ws != nil else { return }
            defer {
                // Tasks the list did not tell about are announced as they are.
                for id in unannounced { announce(id) }
            }
            guard case .success(let list) = result else { return }
            var seen = Set<String>()
            for t in list {
                seen.insert(t.id)
                if var known = tasks[t.id] {
                    if known.up && !t.isUp {
                        known.up = false
                        tasks[t.id] = known
                        drain()
                        sendEvent(.object([("event", .string("left"))] + fields(known) + [("state", .string(t.state))]))
                    } else if !known.up && t.isUp {
                        known.up = true
                        tasks[t.id] = known
                        sendEvent(.object([("event", .string("joined"))] + fields(known)))
                    } else if known.slot == nil && t.slot != nil {
                        let fresh = makeTask(t, index: known.index)
                        let updated = Task(id: fresh.id, slot: fresh.slot, node: fresh.node, up: known.up, tag: fresh.tag,
                                           textPrefix: fresh.textPrefix, last: known.last, index: known.index)
                        tasks[t.id] = updated
                        if unannounced.contains(t.id) { announce(t.id) }
                    }
                } else if t.isUp {
                    let task = makeTask(t)
                    tasks[t.id] = task
                    sendEvent(.object([("event", .string("joined"))] + fields(task)))
                }
            }
        }
    }

    /// `joined` for a task first seen in the stream, then the lines it held back.
    private func announce(_ id: String) {
        guard unannounced.remove(id) != nil, let t = tasks[id] else { return }
        sendEvent(.object([("event", .string("joined"))] + fields(t)))
        if let lines = held.removeValue(forKey: id) {
            heldBytes -= lines.reduce(0) { $0 + $1.storage.count }
            merger.add(t.index, lines: lines)
            scheduleDrain()
        }
    }

    private func schedulePoll() {
        guard !pollScheduled, query.follow else { return }
        pollScheduled = true
        loop.schedule(after: Self.pollInterval) { [weak self] in
            guard let self, self.ws != nil else { return }
            self.pollScheduled = false
            self.refreshTasks()
            self.schedulePoll()
        }
    }

    // MARK: the engine stream

    private func openStream(since: Timestamp?, tail: Int?, until: Timestamp?) {
        generation += 1
        status = 0
        decoder = LogStreamDecoder(tty: service.tty, maxLineBytes: limits.maxLineBytes, detectsRunBoundaries: false, now: client.engineNow)
        let q = query.engineQuery(follow: query.follow, tail: tail, since: since, until: until, stdout: query.stdout, stderr: query.stderr)
        connection = client.stream("/services/\(service.id)/logs?\(q)&details=1", on: loop, handler: Generation(self, generation))
        streamOpenedAt = MonotonicClock.now()
        lastBytesAt = streamOpenedAt
        if !live { armTimer(after: 0.1) }
    }

    /// Ties engine callbacks to the stream they came from (a reopened stream ignores the old one).
    final class Generation: DockerResponseHandler, @unchecked Sendable {
        weak var owner: LogServiceSubscription?
        let generation: Int
        init(_ owner: LogServiceSubscription, _ generation: Int) { self.owner = owner; self.generation = generation }
        private var current: LogServiceSubscription? { owner.flatMap { $0.generation == generation ? $0 : nil } }
        func dockerResponseHead(_ head: HTTPResponseParser.Head) { current?.dockerResponseHead(head) }
        func dockerResponseBody(_ bytes: UnsafeRawBufferPointer) { current?.dockerResponseBody(bytes) }
        func dockerResponseReadComplete() { current?.dockerResponseReadComplete() }
        func dockerResponseEnd(_ error: DockerError?) { current?.dockerResponseEnd(error) }
    }

    func dockerResponseHead(_ head: HTTPResponseParser.Head) { status = head.status }

    func dockerResponseBody(_ bytes: UnsafeRawBufferPointer) {
        guard status == 200 else { return }
        lastBytesAt = MonotonicClock.now()
        do {
            try decoder.decode(bytes) { line in self.deliver(line) }
        } catch {
            sendEvent(.object([("event", .string("error")), ("message", .string("service log stream: \(error)"))]))
            connection?.close()
            dockerResponseEnd(.badResponse("\(error)"))
        }
    }

    func dockerResponseReadComplete() {
        for message in decoder.takeEngineErrors() {
            sendEvent(.object([("event", .string("error")), ("message", .string(message))]))
        }
        scheduleDrain()
        if let ws, !ws.channel.isWritable { connection?.pauseReading() }
    }

    func dockerResponseEnd(_ error: DockerError?) {
        if error == nil && status == 200 { decoder.finish { self.deliver($0) } }
        connection = nil
        guard let ws else { return }
        if status != 0 && status != 200 && error == nil {
            sendEvent(.object([("event", .string("error")), ("message", .string("engine answered \(status)"))]))
            ws.close(code: WebSocketCloseCode.internalError.rawValue, reason: "engine error")
            return
        }
        let now = Timestamp.now()
        guard query.follow, query.until.map({ $0 > now }) ?? true else {
            // The whole history is in: it all leaves, merged, then the end.
            for id in Array(unannounced) { announce(id) }
            for i in merger.memberIDs { merger.setPhase(i, .ended) }
            ended = true
            drain()
            return
        }
        // Reopen from the oldest task's last line (lines of other tasks up to there repeat and are skipped).
        reconnects += 1
        if let e = error { sendEvent(.object([("event", .string("error")), ("message", .string(e.publicDescription)), ("retrying", .bool(true))])) }
        let delay = min(0.5 * Double(min(reconnects, 20)), 5)
        loop.schedule(after: delay) { [weak self] in
            guard let self, self.ws != nil, self.connection == nil else { return }
            let lasts = self.tasks.values.compactMap { $0.last?.0 }
            let since = lasts.min().map { Timestamp(clamping: $0) } ?? self.query.since
            self.openStream(since: since, tail: since == nil ? 0 : nil, until: self.query.until)
        }
    }

    // MARK: lines

    /// Splits the task's attributes off, skips what was delivered before a reopen, and encodes.
    private func deliver(_ line: LogLine) {
        guard !line.partial else { return }
        let text = line.text
        var taskID = ""
        var message = text[...]
        if text.starts(with: Self.detailsPrefix), let space = text.firstIndex(of: 0x20) {
            let details = text[text.startIndex..<space]
            message = text[text.index(after: space)...]
            for pair in details.split(separator: UInt8(ascii: ",")) {
                if let eq = pair.firstIndex(of: UInt8(ascii: "=")), String(decoding: pair[pair.startIndex..<eq], as: UTF8.self) == "com.docker.swarm.task.id" {
                    taskID = String(decoding: pair[pair.index(after: eq)...], as: UTF8.self)
                }
            }
        }
        if tasks[taskID] == nil {
            // A task the list did not have yet (scaled up, replaced): known by its id until the
            // list tells its slot.
            // list tells its slot; `joined` goes out then, with the slot.
            let t = makeTask(SwarmTask(id: taskID, serviceID: service.id, slot: nil, nodeID: "", state: "running", desiredState: "running"))
            tasks[taskID] = t
            unannounced.insert(taskID)
            refreshTasks()
        }
        var task = tasks[taskID]!
        let n: Int
        if let (ts, count) = task.last, ts == line.timestamp { n = count + 1 } else { n = 1 }
        if let (ts, count) = task.last, line.timestamp < ts || (line.timestamp == ts && n <= count) {
            // Delivered before the stream was reopened.
            return
        }
        task.last = (line.timestamp, n)
        tasks[taskID] = task
        let stripped = LogLine(timestamp: line.timestamp, timestampText: line.storage[..<line.timestampLength], stream: line.stream, text: message)
        // Streams and grep apply to the message, not to the engine's task attributes.
        guard key.selects(stripped) else { return }
        if unannounced.contains(taskID) {
            held[taskID, default: []].append(stripped)
            heldBytes += stripped.storage.count
            // Bounded: a task the list never tells about is announced as it is.
            if heldBytes > LogGroupSubscription.memberBudget { announce(taskID) }
            return
        }
        merger.add(task.index, lines: [stripped])
        // A task far ahead of the others: history ordering gives way to bounded memory.
        if !live && merger.isOverBudget(task.index) { goLive() }
    }

    // MARK: the merge

    /// History is in (the stream idled, or has run long enough): lines wait at most the window.
    private func goLive() {
        guard !live else { return }
        live = true
        for i in merger.memberIDs { merger.setPhase(i, .live) }
        scheduleDrain()
    }

    private func armTimer(after seconds: Double) {
        guard !timerArmed else { return }
        timerArmed = true
        loop.schedule(after: seconds) { [weak self] in
            guard let self, self.ws != nil else { return }
            self.timerArmed = false
            if !self.live && !self.ended {
                let now = MonotonicClock.now()
                if now - self.lastBytesAt > 0.3 || now - self.streamOpenedAt > 2 { self.goLive() } else { self.armTimer(after: 0.1) }
            }
            self.drain()
        }
    }

    private func scheduleDrain() {
        guard !drainScheduled else { return }
        drainScheduled = true
        loop.execute { [weak self] in
            guard let self else { return }
            self.drainScheduled = false
            self.drain()
        }
    }

    /// Sends what the merge lets go (never dropped: the engine read pauses instead, this stream
    /// is this client's alone).
    private func drain() {
        guard let ws else { return }
        var out: [UInt8] = []
        var n = 0
        while ws.channel.isWritable {
            let items = merger.drain(now: MonotonicClock.wallNanoseconds(), limit: 512)
            if items.isEmpty { break }
            for item in items {
                guard case .line(let line) = item.item, let id = byIndex[item.member], let task = tasks[id] else { continue }
                LogFrameEncoder.appendMemberFrame(line, encoding: key.encoding, tag: task.tag, textPrefix: task.textPrefix, to: &out)
                n += 1
            }
            if !out.isEmpty { ws.send(encodedFrames: out, lines: 0); metrics.lines(in: n); out = []; n = 0 }
        }
        if ws.channel.isWritable { connection?.resumeReading() }
        if let due = merger.nextDue() {
            let delay = max(0.01, Double(due - MonotonicClock.wallNanoseconds()) / 1e9 + 0.005)
            armTimer(after: min(delay, 1))
        }
        if ended && merger.isEmpty {
            ws.close(code: WebSocketCloseCode.normalClosure.rawValue, reason: "end of log")
        }
    }

    private func sendEvent(_ event: JSONValue) {
        guard isJSON, let ws else { return }
        ws.send(encodedFrames: LogSubscription.eventFrame(event))
    }
}
