/// What the fan-out needs of a subscriber.
protocol LogFanOutSubscriber: AnyObject {
    var query: LogQuery { get }
    var key: DeliveryKey { get }
    /// Lines rather than shared frames (a merged group view re-orders and tags them).
    var wantsLines: Bool { get }
}

/// The lines side of a `LogHub`: the ring for new subscribers, catch-up buffers, join filters,
/// lifecycle markers in line order, and the encoding of every frame once per variant. Pure: it
/// returns what each subscriber gets (`Send`s, in order) and the hub's driver delivers them.
///
/// Budgets are bytes: the ring holds at most `ringBytes` (and `ringLines` lines), a catch-up
/// buffer at most `catchUpBytes`; a catch-up buffer over its budget drops its oldest lines and
/// the subscriber is told exactly how many (`dropped`) when it joins.
struct LogFanOut<Subscriber: LogFanOutSubscriber> {
    /// One instruction for one subscriber.
    enum Send {
        /// Encoded frames shared by every subscriber of one variant; `lines` of them may be
        /// dropped under backpressure.
        case frames([UInt8], lines: Int)
        /// Lines only this subscriber gets (encoded by it).
        case own([LogLine])
        /// An encoded event frame (never dropped).
        case event([UInt8])
        /// The ring does not cover this subscriber's request: it reads its history itself.
        case startCatchUp
        /// `until` reached: close with 1000 after what was sent.
        case finish
    }

    private enum Item {
        case line(LogLine)
        case marker(LogUpstreamStateMachine.Marker)
    }

    private struct Entry {
        let subscriber: Subscriber
        /// Items kept while the subscriber reads older history from the engine (its selected
        /// lines and the markers); items before `catchUpHead` were dropped.
        var catchUp: [Item]?
        var catchUpHead = 0
        var catchUpBytes = 0
        /// Markers met while dropping the catch-up's oldest lines.
        var keptMarkers: [LogUpstreamStateMachine.Marker] = []
        /// Stamps of the lines dropped from the catch-up, per stream (index = raw value - 1): at
        /// the join, those the subscriber's own history covered are not counted as missed.
        var droppedStamps: [[Int64]] = [[], []]
        var catchUpDropped = 0
        /// After a catch-up: live lines at or before these marks were in its history already.
        var joinFilter: LogStreamDecoder.Position?
    }

    let ringLines: Int
    let ringBytes: Int
    let catchUpBytes: Int
    private(set) var ring: LogRing
    /// True when the ring holds the container's whole log.
    var ringComplete = false
    /// Set while the container is stopped: new subscribers get `end` after their lines.
    var stoppedExitCode: Int?
    private var entries: [ObjectIdentifier: Entry] = [:]
    /// Markers waiting for the lines before them.
    private(set) var pendingMarkers: [LogUpstreamStateMachine.Marker] = []
    /// Lines published (for metrics).
    private(set) var published = 0

    init(ringLines: Int, ringBytes: Int, catchUpBytes: Int) {
        self.ringLines = ringLines
        self.ringBytes = ringBytes
        self.catchUpBytes = max(1, catchUpBytes)
        self.ring = LogRing(capacity: ringLines, byteLimit: ringBytes)
    }

    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }
    var subscribers: [Subscriber] { entries.values.map(\.subscriber) }
    /// Subscribers neither catching up nor filtering their join.
    var liveSubscribers: [Subscriber] { entries.values.filter { $0.catchUp == nil && $0.joinFilter == nil }.map(\.subscriber) }

    func contains(_ s: Subscriber) -> Bool { entries[ObjectIdentifier(s)] != nil }

    mutating func remove(_ s: Subscriber) { entries.removeValue(forKey: ObjectIdentifier(s)) }

    mutating func removeAll() -> [Subscriber] {
        defer { entries.removeAll() }
        return subscribers
    }

    mutating func ringLoaded(wholeLog: Bool) {
        if !wholeLog { ring.removeFirstLinePerStream() }
        ringComplete = wholeLog && ring.evicted == 0
    }

    // MARK: events

    static func eventFrame(_ event: JSONValue) -> [UInt8] {
        WebSocketFrameEncoder.encode(opcode: .text, payload: event.encoded())
    }

    /// `end` and `restart` carry their time (the run's end, the new run's start; RFC 3339, the
    /// engine's clock) when it is known.
    static func markerFrame(_ m: LogUpstreamStateMachine.Marker) -> [UInt8] {
        switch m {
        case .end(let code, let time):
            var fields: [(String, JSONValue)] = [("event", .string("end")), ("exitCode", .int(Int64(code)))]
            if time > 0 { fields.append(("time", .string(DockerTimestamp.format(time)))) }
            return eventFrame(.object(fields))
        case .restart(let time):
            var fields: [(String, JSONValue)] = [("event", .string("restart"))]
            if time > 0 { fields.append(("time", .string(DockerTimestamp.format(time)))) }
            return eventFrame(.object(fields))
        }
    }

    var stoppedFrame: [UInt8]? { stoppedExitCode.map { Self.markerFrame(.end(exitCode: $0, time: 0)) } }

    /// The same event to every subscriber (in catch-up or not: events are not lines).
    func broadcast(_ frame: [UInt8]) -> [(Subscriber, [Send])] {
        entries.values.map { ($0.subscriber, [.event(frame)]) }
    }

    // MARK: subscribers

    /// A new subscriber, served from the ring when it covers the request.
    mutating func serve(_ s: Subscriber) -> [Send] {
        let q = s.query
        let lines = ring.lines
        let since = q.since?.nanoseconds
        let selected = lines.filter { q.selects($0) && (since == nil || $0.timestamp >= since!) }
        // The ring covers the request when it holds the whole log, when its oldest line is older
        // than `since` (then every line since is in it), or when it has `tail` selected lines.
        var covered = ringComplete
        if !covered {
            if let since {
                // (a second of margin: stdout and stderr stamps may interleave slightly out of
                // order; `since` is at least the epoch, so this cannot overflow)
                covered = ring.oldest.map { $0.timestamp < since - 1_000_000_000 } ?? false
            } else if let tail = q.tail {
                covered = selected.count >= tail
            }
        }
        if covered {
            var initial = Array(selected)
            if let tail = q.tail, initial.count > tail { initial = Array(initial.suffix(tail)) }
            if let until = q.until?.nanoseconds { initial.removeAll { $0.timestamp > until } }
            entries[ObjectIdentifier(s)] = Entry(subscriber: s)
            var sends: [Send] = [.own(initial)]
            if let stopped = stoppedFrame { sends.append(.event(stopped)) }
            return sends
        }
        // The ring's lines are in the engine's log before the subscriber asks for its history, so
        // its history covers them: the buffer starts with what comes next.
        entries[ObjectIdentifier(s)] = Entry(subscriber: s, catchUp: [])
        return [.startCatchUp]
    }

    /// The subscriber sent its history up to `after` (per stream): what came since, and the
    /// lines lost to the catch-up budget.
    mutating func completeCatchUp(_ s: Subscriber, after: LogStreamDecoder.Position) -> [Send] {
        guard var entry = entries[ObjectIdentifier(s)], let buffered = entry.catchUp else { return [] }
        var filter = after
        var sends: [Send] = []
        // Lines dropped from the buffer that the subscriber's history did not cover: missed.
        var missed = 0
        for stream in [LogStream.stdout, .stderr] {
            let stamps = entry.droppedStamps[Int(stream.rawValue) - 1]
            guard let mark = after[stream] else { missed += stamps.count; continue }
            var sameStamp = 0
            for ts in stamps {
                if ts == mark.timestamp { sameStamp += 1 }
                if !mark.covers(ts, ts == mark.timestamp ? sameStamp : 1) { missed += 1 }
            }
        }
        if missed > 0 {
            sends.append(.event(Self.eventFrame(.object([("event", .string("dropped")), ("count", .int(Int64(missed)))]))))
        }
        for m in entry.keptMarkers { sends.append(.event(Self.markerFrame(m))) }
        var run: [LogLine] = []
        for item in buffered[entry.catchUpHead...] {
            switch item {
            case .line(let line): run.append(line)
            case .marker(let m):
                let own = Self.filterJoin(run, query: s.query, filter: &filter)
                if !own.isEmpty { sends.append(.own(own)) }
                run = []
                sends.append(.event(Self.markerFrame(m)))
            }
        }
        let own = Self.filterJoin(run, query: s.query, filter: &filter)
        if !own.isEmpty { sends.append(.own(own)) }
        entry.catchUp = nil
        entry.keptMarkers = []
        entry.droppedStamps = [[], []]
        entry.catchUpHead = 0
        entry.catchUpBytes = 0
        entry.catchUpDropped = 0
        entry.joinFilter = filter.stdout == nil && filter.stderr == nil ? nil : filter
        entries[ObjectIdentifier(s)] = entry
        if let stopped = stoppedFrame { sends.append(.event(stopped)) }
        return sends
    }

    /// Lines after the join point, per stream. A stream's mark is cleared at its first newer
    /// line, so the filter ends as soon as the hub has caught up with the subscriber's history.
    static func filterJoin(_ lines: [LogLine], query q: LogQuery, filter: inout LogStreamDecoder.Position) -> [LogLine] {
        var out: [LogLine] = []
        var counts: [LogStream: (Int64, Int)] = [:]
        let since = q.since?.nanoseconds
        for line in lines where q.selects(line) {
            if let since, line.timestamp < since { continue }
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

    // MARK: lines and markers

    mutating func addMarker(_ m: LogUpstreamStateMachine.Marker) {
        pendingMarkers.append(m)
        switch m {
        case .end(_, let t): endedAt = t
        case .restart: endedAt = nil
        }
    }

    /// Time of the last `end` with no `restart` after it: the run shown has ended.
    private var endedAt: Int64?
    /// Restarts put in because a line of a new run came before its event.
    private var synthesizedRestarts: [Int64] = []
    /// A line stamped this long after a run's end belongs to a later run (the copier of a dying
    /// run may stamp its last lines a moment after the `die`; a restart takes longer).
    static var newRunMargin: Int64 { LogUpstreamStateMachine.runEndMargin }

    static func saturatingAdd(_ a: Int64, _ b: Int64) -> Int64 {
        let (v, o) = a.addingReportingOverflow(b)
        return o ? (b > 0 ? Int64.max : Int64.min) : v
    }

    mutating func takeSynthesizedRestarts() -> [Int64] {
        defer { synthesizedRestarts = [] }
        return synthesizedRestarts
    }

    /// Every pending marker goes out now (the lines before them were all published).
    mutating func flushMarkers() -> [(Subscriber, [Send])] {
        guard !pendingMarkers.isEmpty else { return [] }
        let markers = pendingMarkers
        pendingMarkers = []
        return distribute(segments: [.markers(markers)])
    }

    /// The markers up to and including the last pending `restart` go out now.
    mutating func flushMarkersThroughRestart() -> [(Subscriber, [Send])] {
        guard let cut = pendingMarkers.lastIndex(where: { if case .restart = $0 { return true }; return false }) else { return [] }
        let markers = Array(pendingMarkers[...cut])
        pendingMarkers.removeFirst(cut + 1)
        return distribute(segments: [.markers(markers)])
    }

    private enum Segment {
        case lines([LogLine])
        case markers([LogUpstreamStateMachine.Marker])
    }

    /// Puts a batch in the ring and hands it to every subscriber, each variant encoded once. A
    /// pending `restart` marker goes out right before the first line of its run (stamped at or
    /// after it), with every marker before it; `end` markers alone wait for a flush, since the
    /// last lines of a run may be stamped after its `die`.
    mutating func publish(_ lines: [LogLine]) -> [(Subscriber, [Send])] {
        guard !lines.isEmpty else { return [] }
        published += lines.count
        for line in lines { ring.append(line) }
        if ring.evicted > 0 { ringComplete = false }
        var segments: [Segment] = []
        var start = 0
        for i in lines.indices {
            // A line of a run no event announced yet (the engine's events come on another
            // connection): it gets its `restart` now; the machine ignores the late event.
            if let ended = endedAt, lines[i].timestamp > Self.saturatingAdd(ended, Self.newRunMargin),
               restartIndex(before: lines[i].timestamp) == nil {
                addMarker(.restart(time: lines[i].timestamp))
                synthesizedRestarts.append(lines[i].timestamp)
            }
            guard let cut = restartIndex(before: lines[i].timestamp) else { continue }
            if start < i { segments.append(.lines(Array(lines[start..<i]))) }
            segments.append(.markers(Array(pendingMarkers[...cut])))
            pendingMarkers.removeFirst(cut + 1)
            start = i
        }
        segments.append(.lines(start == 0 ? lines : Array(lines[start...])))
        return distribute(segments: segments)
    }

    /// Index of the last pending `restart` marker stamped at or before `ts`.
    private func restartIndex(before ts: Int64) -> Int? {
        var found: Int?
        for (i, m) in pendingMarkers.enumerated() {
            if case .restart(let t) = m, t <= ts { found = i }
        }
        return found
    }

    private mutating func distribute(segments: [Segment]) -> [(Subscriber, [Send])] {
        var out: [(Subscriber, [Send])] = []
        out.reserveCapacity(entries.count)
        // Per segment, each variant (encoding × stream selection) is encoded once.
        var encoded: [[DeliveryKey: ([UInt8], Int)]] = Array(repeating: [:], count: segments.count)
        var markerFrames: [Int: [[UInt8]]] = [:]
        // Each entry is taken out while it is updated: its catch-up buffer is then referenced
        // once, so appending does not copy it (a copy per batch would be quadratic).
        for oid in Array(entries.keys) {
            guard var entry = entries.removeValue(forKey: oid) else { continue }
            let s = entry.subscriber
            var sends: [Send] = []
            var finished = false
            for (k, segment) in segments.enumerated() where !finished {
                switch segment {
                case .markers(let markers):
                    if entry.catchUp != nil {
                        entry.catchUp!.append(contentsOf: markers.map { .marker($0) })
                    } else {
                        if markerFrames[k] == nil { markerFrames[k] = markers.map(Self.markerFrame) }
                        sends += markerFrames[k]!.map { .event($0) }
                    }
                case .lines(let lines):
                    if entry.catchUp != nil {
                        appendCatchUp(&entry, lines)
                        continue
                    }
                    let until = s.query.until?.nanoseconds
                    // (stdout and stderr interleave: any line past `until`, not only the last)
                    if entry.joinFilter != nil || (until != nil && lines.contains { $0.timestamp > until! }) {
                        var own = lines
                        if var filter = entry.joinFilter {
                            own = Self.filterJoin(lines, query: s.query, filter: &filter)
                            entry.joinFilter = filter.stdout == nil && filter.stderr == nil ? nil : filter
                        } else {
                            own = lines.filter { s.query.selects($0) }
                        }
                        if let until, let cut = own.firstIndex(where: { $0.timestamp > until }) {
                            own.removeSubrange(cut...)
                            finished = true
                        } else if let until, lines.contains(where: { $0.timestamp > until }) {
                            finished = true
                        }
                        if !own.isEmpty { sends.append(.own(own)) }
                        if finished { sends.append(.finish) }
                        continue
                    }
                    if s.wantsLines {
                        let own = lines.filter { s.key.selects($0) }
                        if !own.isEmpty { sends.append(.own(own)) }
                        continue
                    }
                    if encoded[k][s.key] == nil {
                        var bytes: [UInt8] = []
                        bytes.reserveCapacity(lines.count * 100)
                        let n = LogFrameEncoder.append(lines, key: s.key, to: &bytes)
                        encoded[k][s.key] = (bytes, n)
                    }
                    let (bytes, n) = encoded[k][s.key]!
                    if n > 0 { sends.append(.frames(bytes, lines: n)) }
                }
            }
            if !finished { entries[oid] = entry }
            if !sends.isEmpty { out.append((s, sends)) }
        }
        return out
    }

    /// Most lines one catch-up may drop (8 bytes of stamp each); past it the subscriber is too
    /// far behind to be told exactly what it missed, and is closed instead (`Send.finish` is not
    /// used: the driver closes with 1008).
    static var maxCatchUpDrops: Int { 1 << 18 }

    /// Subscribers whose catch-up dropped more than `maxCatchUpDrops` lines.
    mutating func takeHopelessCatchUps() -> [Subscriber] {
        var out: [Subscriber] = []
        for (oid, e) in entries where e.catchUpDropped > Self.maxCatchUpDrops {
            out.append(e.subscriber)
            entries.removeValue(forKey: oid)
        }
        return out
    }

    /// Appends the subscriber's lines to its catch-up buffer; past its byte budget the oldest
    /// lines go (counted exactly). A head index makes dropping O(1) amortised per line; a marker
    /// met while dropping is kept aside (the lines around it are gone, its order among markers is not).
    private func appendCatchUp(_ entry: inout Entry, _ lines: [LogLine]) {
        let q = entry.subscriber.query
        for line in lines where q.selects(line) {
            entry.catchUp!.append(.line(line))
            entry.catchUpBytes += line.storage.count
        }
        while entry.catchUpBytes > catchUpBytes && entry.catchUpHead < entry.catchUp!.count {
            switch entry.catchUp![entry.catchUpHead] {
            case .line(let l):
                entry.catchUpBytes -= l.storage.count
                entry.catchUpDropped += 1
                entry.droppedStamps[Int(l.stream.rawValue) - 1].append(l.timestamp)
            case .marker(let m):
                entry.keptMarkers.append(m)
            }
            entry.catchUp![entry.catchUpHead] = .line(.empty)
            entry.catchUpHead += 1
        }
        if entry.catchUpHead > 1024 && entry.catchUpHead * 2 > entry.catchUp!.count {
            entry.catchUp!.removeFirst(entry.catchUpHead)
            entry.catchUpHead = 0
        }
    }
}
