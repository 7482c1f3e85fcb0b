/// Reads one page of a group's history (`GET /api/groups/{kind}/{name}/logs`), on the request's
/// loop: each member's page (`LogPageReader`, at most `concurrency` engine reads at once), merged
/// by stamp, the newest `limit` kept. A member whose page was taken whole moves to its page's
/// cursor; one that gave part of its page is read again with exactly that many lines (from the
/// same bound: the same lines), so its cursor sits right before the oldest line it gave; one that
/// gave nothing keeps its bound. So the cursors stay exact for every member.
final class LogGroupPageReader: @unchecked Sendable {
    // Invariant: confined to `loop.queue`.
    struct Member {
        var key: String
        var client: DockerClient
        var info: ContainerInfo
        /// Where its next page ends: `.newest` on the first page; nil: its log is all paged.
        var cursor: LogPageCursor?
    }

    struct Result {
        var lines: [(member: Int, line: LogLine)]
        var cursor: LogGroupPageCursor?
    }

    let loop: EventLoop
    let limit: Int
    let streams: UInt8
    let predicate: LogLinePredicate?
    let byteBudget: Int
    let maxLineBytes: Int
    let metrics: any StreamingMetrics
    let passTimeoutSeconds: Double
    let members: [Member]
    static let concurrency = 4

    private var pages: [Int: LogPageLocator.Page] = [:]
    private var pending: [Int] = []
    private var running = 0
    private var failed: DockerError?
    private var completion: ((Swift.Result<Result, DockerError>) -> Void)?
    private var readers: [ObjectIdentifier: LogPageReader] = [:]

    init(loop: EventLoop, members: [Member], limit: Int, streams: UInt8, predicate: LogLinePredicate?, byteBudget: Int,
         maxLineBytes: Int, metrics: any StreamingMetrics, passTimeoutSeconds: Double) {
        self.loop = loop
        self.members = members
        self.limit = limit
        self.streams = streams
        self.predicate = predicate
        // Each member's page is at most the budget's share; the merged page stays within it.
        self.byteBudget = byteBudget
        self.maxLineBytes = maxLineBytes
        self.metrics = metrics
        self.passTimeoutSeconds = passTimeoutSeconds
    }

    func start(_ completion: @escaping (Swift.Result<Result, DockerError>) -> Void) {
        self.completion = completion
        pending = members.indices.filter { members[$0].cursor != nil }
        if pending.isEmpty { finish(); return }
        pump()
    }

    private func pump() {
        while running < Self.concurrency, let i = pending.first {
            pending.removeFirst()
            running += 1
            read(member: i, limit: limit, cursor: members[i].cursor!) { [self] result in
                running -= 1
                switch result {
                case .success(let page): pages[i] = page
                case .failure(.notFound): pages[i] = LogPageLocator.Page(lines: [], cursor: nil)
                case .failure(let e): failed = failed ?? e
                }
                if failed != nil { fail() } else if pending.isEmpty && running == 0 { merge() } else { pump() }
            }
        }
    }

    private func read(member i: Int, limit: Int, cursor: LogPageCursor, _ done: @escaping (Swift.Result<LogPageLocator.Page, DockerError>) -> Void) {
        let m = members[i]
        let locator = LogPageLocator(limit: limit, streams: streams, cursor: cursor, predicate: predicate,
                                     byteBudget: max(64 * 1024, byteBudget / max(1, members.count)))
        let reader = LogPageReader(loop: loop, client: m.client, info: m.info, locator: locator, maxLineBytes: maxLineBytes,
                                   metrics: metrics, passTimeoutSeconds: passTimeoutSeconds)
        let id = ObjectIdentifier(reader)
        readers[id] = reader
        reader.start { [self] result in
            readers.removeValue(forKey: id)
            done(result)
        }
    }

    /// The newest `limit` lines of all pages; the members that gave part of theirs are read again.
    private func merge() {
        // A merge from the newest end: each step takes the member whose last untaken line is the
        // newest. What a member gives is so always the newest part of its page (a suffix, in its
        // own order), which is what a re-read with that many lines returns.
        var remainingCount: [Int: Int] = [:]
        for (i, page) in pages { remainingCount[i] = page.lines.count }
        var picked: [(member: Int, line: LogLine)] = []
        var taken: [Int: Int] = [:]
        while picked.count < limit {
            var best: (i: Int, ts: Int64)?
            for (i, left) in remainingCount where left > 0 {
                let ts = pages[i]!.lines[left - 1].timestamp
                if best == nil || ts > best!.ts || (ts == best!.ts && i > best!.i) { best = (i, ts) }
            }
            guard let b = best else { break }
            let left = remainingCount[b.i]!
            picked.append((b.i, pages[b.i]!.lines[left - 1]))
            remainingCount[b.i] = left - 1
            taken[b.i, default: 0] += 1
        }
        let lines = Array(picked.reversed())
        var cursors: [Int: LogPageCursor?] = [:]
        var rereads: [(Int, Int)] = []
        for (i, page) in pages {
            let n = taken[i] ?? 0
            if n == page.lines.count {
                cursors[i] = page.cursor
            } else if n == 0 {
                // Nothing of it in this page: the same bound next time, now fixed (a first page
                // pins it at the newest line it read, so later lines stay out).
                cursors[i] = Self.pinned(members[i].cursor!, page: page)
            } else {
                rereads.append((i, n))
            }
        }
        guard !rereads.isEmpty else { complete(lines, cursors); return }
        // At most `concurrency` engine reads at once, as for the first pass.
        var queue = rereads
        var inFlight = 0
        var finalCursors = cursors
        func next() {
            while inFlight < Self.concurrency, !queue.isEmpty {
                let (i, n) = queue.removeFirst()
                inFlight += 1
                let bound = Self.pinned(members[i].cursor!, page: pages[i]!)
                read(member: i, limit: n, cursor: bound) { [self] result in
                    inFlight -= 1
                    switch result {
                    case .success(let page): finalCursors[i] = page.cursor
                    case .failure(let e): failed = failed ?? e
                    }
                    if failed != nil { if inFlight == 0 { fail() }; return }
                    if queue.isEmpty && inFlight == 0 { complete(lines, finalCursors) } else { next() }
                }
            }
        }
        next()
    }

    /// The member's bound, with `all` replaced by "up to the newest line its page read" (what a
    /// first page saw: lines written after it belong to no older page).
    static func pinned(_ cursor: LogPageCursor, page: LogPageLocator.Page) -> LogPageCursor {
        guard let newest = page.lines.map(\.timestamp).max() ?? page.cursor.flatMap({ c -> Int64? in
            switch (c.stdout, c.stderr) {
            case (.upTo(let a), _), (_, .upTo(let a)): return a
            case (.before(let a, _), _), (_, .before(let a, _)): return a
            default: return nil
            }
        }) else { return cursor }
        var c = cursor
        if case .all = c.stdout { c.stdout = .upTo(newest) }
        if case .all = c.stderr { c.stderr = .upTo(newest) }
        return c
    }

    private func complete(_ lines: [(member: Int, line: LogLine)], _ cursors: [Int: LogPageCursor?]) {
        var out: [String: LogPageCursor?] = [:]
        for (i, m) in members.enumerated() {
            if let c = cursors[i] { out[m.key] = c } else { out[m.key] = .some(m.cursor) }
        }
        let done = out.values.allSatisfy { $0 == nil }
        finish(Result(lines: lines, cursor: done ? nil : LogGroupPageCursor(members: out)))
    }

    private func finish(_ result: Result = Result(lines: [], cursor: nil)) {
        guard let c = completion else { return }
        completion = nil
        c(.success(result))
    }

    private func fail() {
        guard let c = completion, let e = failed else { return }
        completion = nil
        for r in readers.values { r.cancel() }
        readers = [:]
        c(.failure(e))
    }
}
