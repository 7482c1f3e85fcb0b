import Foundation

/// One WebSocket client watching a group of containers merged into one stream
/// (`/groups/{kind}/{name}`), on the client's loop.
///
/// Each member is an ordinary `LogSubscription` of its container (so it joins the container's
/// one shared `LogHub`: ten viewers of a five-container group are still five engine streams),
/// delivering lines rather than frames into a slot here. `LogGroupMerger` orders them by stamp
/// within a bounded window; every message carries the member: `{"ts","stream","line","id","name"}`.
/// Members come and go with the engines' events (`joined`, `left`); a member's `end`, `restart`,
/// `error` and `dropped` events carry its `id` and `name`.
final class LogGroupSubscription: WebSocketHandler, @unchecked Sendable {
    // Invariant: confined to `loop.queue` (the WebSocket's loop).
    struct Context {
        var clients: [DockerClient]
        var registry: LogHubRegistry
        var limits: StreamingLimits
        var metrics: any StreamingMetrics
        var isVisible: @Sendable (String, [String: String]) -> Bool
        var directory: LogGroupDirectory
    }

    /// One member: its subscription and its encoded tag.
    final class Member: LogSubscriptionOutput {
        // Invariant: confined to the group's loop.
        let index: Int
        let id: String
        let name: String
        let host: String
        let tag: [UInt8]
        let textPrefix: [UInt8]
        var subscription: LogSubscription?
        weak var group: LogGroupSubscription?

        init(index: Int, id: String, name: String, host: String, group: LogGroupSubscription) {
            self.index = index
            self.id = id
            self.name = name
            self.host = host
            self.group = group
            self.tag = LogFrameEncoder.memberTag(id: id, name: name)
            self.textPrefix = Array("[\(name)] ".utf8)
        }

        var key: String { host + "/" + id }
        var fields: [(String, JSONValue)] { [("id", .string(id)), ("name", .string(name)), ("host", .string(host))] }

        var isWritable: Bool { group.map { !$0.merger.isOverBudget(index) } ?? false }
        var queuedBytes: Int { group?.merger.queuedBytes(of: index) ?? 0 }
        func send(encodedFrames: [UInt8], lines: Int, countMetrics: Bool) -> Bool { false }
        func send(lines: [LogLine], key: DeliveryKey, history: Bool) { group?.memberLines(self, lines) }
        func send(eventFrame: [UInt8]) { group?.memberEvent(self, frame: eventFrame) }
        func send(preview: [UInt8]) {}
        func close(code: UInt16, reason: String) { group?.memberClosed(self, code: code, reason: reason) }
        func historyComplete() { group?.memberLive(self) }
    }

    let loop: EventLoop
    let selector: LogGroupSelector
    let query: LogQuery
    let key: DeliveryKey
    private let context: Context
    private var ws: WebSocketConnection?
    fileprivate(set) var merger: LogGroupMerger
    private var members: [Int: Member] = [:]
    private var nextIndex = 0
    /// Members over budget whose history read waits for the merge to take their lines.
    private var paused: Set<Int> = []
    private var drainScheduled = false
    private var timerAt: Int64?
    /// The initial member list is being gathered: the end is not judged before.
    private var resolving = true
    private var closed = false

    /// Lines of one member held for ordering, and how long a live line may wait for older ones.
    static let memberBudget = 1 << 20
    static let window: Int64 = 50_000_000

    init(loop: EventLoop, selector: LogGroupSelector, query: LogQuery, context: Context) {
        self.loop = loop
        self.selector = selector
        self.query = query
        self.key = query.deliveryKey
        self.context = context
        self.merger = LogGroupMerger(window: Self.window, memberBudget: Self.memberBudget)
    }

    var isJSON: Bool { query.format == .json }

    // MARK: WebSocketHandler

    func webSocketDidOpen(_ connection: WebSocketConnection) {
        ws = connection
        let json = isJSON
        connection.channel.dropAnnouncement = { n in
            json ? LogSubscription.eventFrame(.object([("event", .string("dropped")), ("count", .int(Int64(n)))])) : nil
        }
        context.directory.add(self)
        resolveMembers()
    }

    func webSocket(_ connection: WebSocketConnection, didReceive message: WebSocketMessage) {}

    func webSocketBecameWritable(_ connection: WebSocketConnection) {
        drain()
    }

    func webSocketDidClose(_ connection: WebSocketConnection) {
        ws = nil
        closed = true
        context.directory.remove(self)
        for m in members.values { m.subscription?.stop(); m.subscription = nil }
        members = [:]
    }

    // MARK: members

    /// Lists every engine's containers (all states) and keeps the visible members.
    private func resolveMembers() {
        selector.listMembers(clients: context.clients, isVisible: context.isVisible, on: loop) { [self] found, failures in
            guard ws != nil else { return }
            var list: [JSONValue] = []
            for (client, info) in found {
                list.append(.object([("id", .string(info.id)), ("name", .string(info.name)), ("host", .string(client.name)),
                                     ("state", .string(info.state))]))
            }
            sendEvent(.object([("event", .string("subscribed")),
                               ("group", .object([("kind", .string(selector.kind.rawValue)), ("name", .string(selector.name))])),
                               ("members", .array(list))]))
            for (client, e) in failures {
                sendEvent(.object([("event", .string("error")), ("message", .string("\(client.name): \(e.publicDescription)"))]))
            }
            resolving = false
            for (client, info) in found { addMember(info, client: client, announce: false, joinedAt: nil) }
            checkEnd()
        }
    }

    /// Starts a member: inspect (the list lacks TTY), then its own subscription. A member that
    /// joins while the view is open (`joinedAt`: its start) is read from that start on, whatever
    /// the view's `tail`: all of its new run is news.
    private func addMember(_ listed: ContainerInfo, client: DockerClient, announce: Bool, joinedAt: Int64?) {
        guard ws != nil, !members.values.contains(where: { $0.id == listed.id && $0.host == client.name }) else { return }
        let index = nextIndex
        nextIndex += 1
        let member = Member(index: index, id: listed.id, name: listed.name, host: client.name, group: self)
        members[index] = member
        merger.addMember(index)
        if announce { sendEvent(.object([("event", .string("joined"))] + member.fields)) }
        client.inspect(listed.id, on: loop) { [self] result in
            guard ws != nil, members[index] === member else { return }
            switch result {
            case .success(let info):
                var memberQuery = query
                if let joinedAt {
                    memberQuery.tail = nil
                    // (a second before the event: the engine stamps the first line as it starts)
                    let from = Timestamp(clamping: joinedAt &- 1_000_000_000)
                    if memberQuery.since.map({ $0 < from }) ?? true { memberQuery.since = from }
                }
                let sub = LogSubscription(loop: loop, query: memberQuery, info: info, hostName: client.name, client: client,
                                          registry: context.registry, limits: context.limits, metrics: context.metrics,
                                          wantsLines: true)
                member.subscription = sub
                sub.start(output: member)
            case .failure:
                removeMember(member, reason: "gone")
            }
        }
    }

    private func removeMember(_ member: Member, reason: String) {
        guard members[member.index] === member else { return }
        members.removeValue(forKey: member.index)
        member.subscription?.stop()
        member.subscription = nil
        paused.remove(member.index)
        // What it queued is older than anything still to come from it: out first.
        send(merger.removeMember(member.index), members: [member.index: member])
        sendEvent(.object([("event", .string("left"))] + member.fields + [("reason", .string(reason))]))
        scheduleDrain()
    }

    /// A container event from one of the engines (create/start/destroy): membership changes.
    func containerEvent(host: String, id: String, name: String, action: String, labels: [String: String], time: Int64) {
        guard ws != nil, !resolving else { return }
        switch action {
        case "start":
            // (not `create`: a created container has no log yet, and may never start)
            guard selector.matches(host: host, labels: labels), context.isVisible(name, labels),
                  let client = context.clients.first(where: { $0.name == host }) else { return }
            guard !members.values.contains(where: { $0.id == id && $0.host == host }) else { return }
            var info = ContainerInfo(id: id, name: name, image: "", tty: false, state: "running",
                                     status: "", running: true, exitCode: 0, created: 0, startedAt: "", labels: labels)
            info.restarting = false
            addMember(info, client: client, announce: true, joinedAt: time)
        case "destroy":
            if let m = members.values.first(where: { $0.id == id && $0.host == host }) { removeMember(m, reason: "removed") }
        default:
            break
        }
    }

    // MARK: from the members

    fileprivate func memberLines(_ member: Member, _ lines: [LogLine]) {
        guard members[member.index] === member else { return }
        merger.add(member.index, lines: lines)
        if merger.isOverBudget(member.index) {
            paused.insert(member.index)
            // A live member over budget leaves at once, whether the client keeps up or not.
            send(merger.takeOverBudget(), members: members)
        }
        scheduleDrain()
    }

    fileprivate func memberEvent(_ member: Member, frame: [UInt8]) {
        guard members[member.index] === member, let event = Self.decodeEvent(frame) else { return }
        guard case .object(let fields) = event, case .string(let name)? = fields.first(where: { $0.0 == "event" })?.1 else { return }
        // The member's own `subscribed` is folded into the group's `subscribed`/`joined`, its
        // `removed` into `left`.
        if name == "subscribed" || name == "removed" { return }
        merger.add(member.index, event: .object(fields + member.fields.filter { f in !fields.contains { $0.0 == f.0 } }))
        scheduleDrain()
    }

    fileprivate func memberLive(_ member: Member) {
        guard members[member.index] === member else { return }
        merger.setPhase(member.index, .live)
        scheduleDrain()
    }

    fileprivate func memberClosed(_ member: Member, code: UInt16, reason: String) {
        guard members[member.index] === member else { return }
        member.subscription = nil
        if reason == "container removed" {
            removeMember(member, reason: "removed")
            return
        }
        if code != WebSocketCloseCode.normalClosure.rawValue {
            merger.add(member.index, event: .object([("event", .string("error")), ("message", .string(reason))] + member.fields))
        }
        merger.setPhase(member.index, .ended)
        scheduleDrain()
    }

    /// Event frames from a member are unmasked server frames with a short header: their JSON payload.
    static func decodeEvent(_ frame: [UInt8]) -> JSONValue? {
        guard frame.count >= 2 else { return nil }
        var offset = 2
        var length = Int(frame[1] & 0x7F)
        if length == 126 {
            guard frame.count >= 4 else { return nil }
            length = Int(frame[2]) << 8 | Int(frame[3])
            offset = 4
        } else if length == 127 {
            return nil
        }
        guard frame.count >= offset + length,
              let object = try? JSONSerialization.jsonObject(with: Data(frame[offset..<offset + length])) else { return nil }
        return jsonValue(object)
    }

    /// Foundation's JSON as a `JSONValue`; object keys sorted, `event` first (events are small
    /// and made by docktail itself).
    static func jsonValue(_ any: Any) -> JSONValue {
        switch any {
        case let s as String: return .string(s)
        case let n as NSNumber:
            if String(describing: type(of: n)).contains("Bool") { return .bool(n.boolValue) }
            let d = n.doubleValue
            return d == d.rounded() && abs(d) < 9e15 ? .int(n.int64Value) : .double(d)
        case let a as [Any]: return .array(a.map(jsonValue))
        case let o as [String: Any]:
            let keys = o.keys.sorted { ($0 == "event" ? "" : $0) < ($1 == "event" ? "" : $1) }
            return .object(keys.map { ($0, jsonValue(o[$0]!)) })
        default: return .null
        }
    }

    // MARK: the merge

    private func scheduleDrain() {
        guard !drainScheduled else { return }
        drainScheduled = true
        loop.execute { [weak self] in
            guard let self else { return }
            self.drainScheduled = false
            self.drain()
        }
    }

    private func drain() {
        guard let ws, !closed else { return }
        while ws.channel.isWritable {
            let out = merger.drain(now: MonotonicClock.wallNanoseconds(), limit: 512)
            if out.isEmpty { break }
            send(out, members: members)
        }
        // Members whose history waited for room may read on.
        for index in paused where !merger.isOverBudget(index) {
            paused.remove(index)
            members[index]?.subscription?.outputBecameWritable()
        }
        armTimer()
        checkEnd()
    }

    /// Sends merged items: history (undroppable) and live lines (droppable) in one write each.
    private func send(_ items: [LogGroupMerger.Out], members: [Int: Member]) {
        guard let ws, !items.isEmpty else { return }
        var live: [UInt8] = []
        var liveLines = 0
        var history: [UInt8] = []
        func flush() {
            if !history.isEmpty { ws.send(encodedFrames: history, lines: 0); history = [] }
            if !live.isEmpty { ws.send(encodedFrames: live, lines: liveLines); live = []; liveLines = 0 }
        }
        for item in items {
            guard let member = members[item.member] ?? self.members[item.member] else { continue }
            switch item.item {
            case .line(let line):
                // (streams and grep were applied by the member's own subscription)
                guard !line.partial else { continue }
                if item.live {
                    if !history.isEmpty { flush() }
                    LogFrameEncoder.appendMemberFrame(line, encoding: key.encoding, tag: member.tag, textPrefix: member.textPrefix, to: &live)
                    liveLines += 1
                } else {
                    if !live.isEmpty { flush() }
                    LogFrameEncoder.appendMemberFrame(line, encoding: key.encoding, tag: member.tag, textPrefix: member.textPrefix, to: &history)
                }
            case .event(let event):
                flush()
                sendEvent(event)
            }
        }
        flush()
    }

    /// Live lines wait for the window: drain again when the oldest is due.
    private func armTimer() {
        guard let due = merger.nextDue() else { return }
        if let t = timerAt, t <= due { return }
        timerAt = due
        let delay = max(0.01, Double(due - MonotonicClock.wallNanoseconds()) / 1e9 + 0.005)
        loop.schedule(after: min(delay, 1)) { [weak self] in
            guard let self else { return }
            self.timerAt = nil
            self.drain()
        }
    }

    /// Without follow (or past `until`), the view ends once every member ended and all is sent.
    private func checkEnd() {
        guard let ws, !resolving, !closed else { return }
        let now = Timestamp.now()
        let finite = !query.follow || (query.until.map { $0 <= now } ?? false)
        guard finite, merger.allEnded, merger.isEmpty else { return }
        closed = true
        ws.close(code: WebSocketCloseCode.normalClosure.rawValue, reason: "end of log")
    }

    private func sendEvent(_ event: JSONValue) {
        guard isJSON, let ws else { return }
        ws.send(encodedFrames: LogSubscription.eventFrame(event))
    }
}

/// The open group views, told about container events so their membership follows the engines.
final class LogGroupDirectory: @unchecked Sendable {
    // Invariant: `groups` is guarded by `lock`.
    private let lock = NSLock()
    private var groups: [ObjectIdentifier: LogGroupSubscription] = [:]

    func add(_ g: LogGroupSubscription) { lock.lock(); groups[ObjectIdentifier(g)] = g; lock.unlock() }
    func remove(_ g: LogGroupSubscription) { lock.lock(); groups.removeValue(forKey: ObjectIdentifier(g)); lock.unlock() }

    func containerEvent(host: String, id: String, name: String, action: String, labels: [String: String], time: Int64) {
        lock.lock()
        let all = Array(groups.values)
        lock.unlock()
        for g in all { g.loop.execute { g.containerEvent(host: host, id: id, name: name, action: action, labels: labels, time: time) } }
    }
}
