/// Finds one page of a container's history: the newest `limit` lines inside a cursor's bounds
/// that pass the request's filter, oldest first, and the cursor of the page before it. Pure:
/// the driver (`LogPageReader`) performs the engine reads it asks for.
///
/// Engine facts it is built on (Docker 20.10, json-file): `tail=K` returns the last K *entries*
/// of the whole log, both streams counted whatever is selected, and a line over 16 KiB is
/// several entries (all carrying the stamp of its first); `since`/`until` apply only after those
/// K are picked, so they cannot find "the K lines before T", and reading `tail=K` costs the
/// engine O(K). So each pass reads `tail=requestedEntries` of both streams, no time bounds, and:
///
/// - counts, per stream, each line's *ordinal* among the lines of that stream with its stamp
///   (stamps only grow within a stream, so a stamp and an ordinal name one line for good);
/// - treats as *uncertain* the first line of each stream in the window and every line sharing
///   its stamp: the first may continue a line that began before the window, and their ordinals
///   may miss same-stamped lines before it. They count only when the answer is the whole log
///   (fewer entries than asked for). A page never reaches back past an uncertain line that might
///   belong to it, so pages are in log order across both streams, not just within each;
/// - keeps, in a ring bounded by `limit` lines and `byteBudget` bytes (the lines' JSON size),
///   the newest lines that pass the filter: stream selection, the predicate (grep) and the
///   cursor's per-stream bounds. When the budget evicts, the page simply holds fewer, newest
///   lines, still exact (and at least one, so paging always moves);
/// - with fewer than `limit` such lines after the newest uncertain one and more log before the
///   window, asks again for twice (half of them found) or four times as many entries
///   (overflow-checked, capped): at worst the whole log, which is what a rare `grep` match costs.
///
/// The next cursor bounds each stream by its oldest line in the page; a stream without one keeps
/// its bound, or on the first page gets the snapshot of what was read (through its last line,
/// or up to the newest stamp read when it had none), so lines written later never appear in
/// older pages. It is nil once the answer was the whole log and nothing passing the filter was
/// left out.
///
/// Stamps a hostile TTY container forges can repeat a (stamp, ordinal) of its own stream; that
/// can repeat or skip its own lines between pages, never another container's or crash anything.
struct LogPageLocator: Sendable {
    struct Page: Sendable, Equatable {
        /// Oldest first.
        var lines: [LogLine]
        /// The page before this one; nil when this page reaches the first line.
        var cursor: LogPageCursor?
    }

    enum Outcome: Sendable, Equatable {
        /// Read `entries` entries: call `widen(to:)`, `beginPass()` and feed the new answer.
        case readAgain(entries: Int)
        case page(Page)
    }

    private struct Slot: Sendable {
        var line: LogLine
        var ordinal: Int
        /// The line's number in this pass (both streams).
        var sequence: Int
        var uncertain: Bool
        /// Its bytes in the JSON answer.
        var cost: Int
        /// About how many entries came before it in the window.
        var entryStart: Int
    }

    /// One stream in the current window.
    private struct StreamState: Sendable {
        /// Stamp of the stream's first line in the window (nil: none yet).
        var firstStamp: Int64?
        var lastStamp: Int64 = 0
        var lastOrdinal = 0
        var lastUncertain = false
    }

    /// The engine cuts lines into entries of this many bytes (its copier's buffer).
    static let entryBytes = 16 * 1024
    /// Never ask the engine for more entries than this (Int32 range: engines parse `tail` as int).
    static let maxRequestedEntries = 1 << 30
    /// Entries asked for beyond a page's lines: the uncertain first lines, the other stream.
    static let slackEntries = 64

    let limit: Int
    /// Bit 1 stdout, bit 2 stderr.
    let streams: UInt8
    let bounds: LogPageCursor
    let predicate: LogLinePredicate?
    let byteBudget: Int
    private(set) var requestedEntries: Int

    /// The kept lines are `ring[ringStart...]`, oldest first (a queue: appended at the end,
    /// taken from the front, compacted now and then).
    private var ring: [Slot] = []
    private var ringStart = 0
    private var ringCount: Int { ring.count - ringStart }
    private var keptBytes = 0
    private var sequence = 0
    private var estimatedEntries = 0
    private var state = [StreamState(), StreamState()]
    private var newestStamp: Int64?
    /// Sequence of the newest uncertain line that might belong to the page (0: none).
    private var lastRelevantUncertain = 0
    /// Lines passing the filter since then.
    private var certainSinceUncertain = 0
    /// Lines passing the filter that are not in the ring (older than `limit`, or evicted).
    private var leftOut = 0

    /// `limit` is brought into 1…`maxRequestedEntries`; the first read asks for the cursor's
    /// hint plus twice the page plus `slackEntries`.
    init(limit: Int, streams: UInt8, cursor: LogPageCursor, predicate: LogLinePredicate?, byteBudget: Int) {
        self.limit = min(max(1, limit), Self.maxRequestedEntries)
        self.streams = streams
        self.bounds = cursor
        self.predicate = predicate
        self.byteBudget = max(0, byteBudget)
        let (twice, o1) = self.limit.multipliedReportingOverflow(by: 2)
        let (withHint, o2) = twice.addingReportingOverflow(max(0, cursor.hint))
        let (total, o3) = withHint.addingReportingOverflow(Self.slackEntries)
        self.requestedEntries = o1 || o2 || o3 ? Self.maxRequestedEntries : min(total, Self.maxRequestedEntries)
    }

    /// Starts reading a new answer (the first one, or after `.readAgain`).
    mutating func beginPass() {
        ring.removeAll(keepingCapacity: true)
        ringStart = 0
        keptBytes = 0
        sequence = 0
        estimatedEntries = 0
        state = [StreamState(), StreamState()]
        newestStamp = nil
        lastRelevantUncertain = 0
        certainSinceUncertain = 0
        leftOut = 0
    }

    /// One line of the answer, in order (lines of both streams, whatever is selected).
    mutating func add(_ line: LogLine) {
        sequence += 1
        let ts = line.timestamp
        let textBytes = max(0, line.storage.count - line.timestampLength)
        let entryStart = estimatedEntries
        estimatedEntries += textBytes == 0 ? 1 : 1 + (textBytes - 1) / Self.entryBytes
        let index = Int(line.stream.rawValue) - 1
        var s = state[index]
        let ordinal: Int
        let uncertain: Bool
        let first = s.firstStamp == nil
        if let firstStamp = s.firstStamp {
            ordinal = s.lastStamp == ts ? s.lastOrdinal + 1 : 1
            uncertain = ts == firstStamp
        } else {
            s.firstStamp = ts
            ordinal = 1
            uncertain = true
        }
        s.lastStamp = ts
        s.lastOrdinal = ordinal
        s.lastUncertain = uncertain
        state[index] = s
        if newestStamp.map({ ts > $0 }) ?? true { newestStamp = ts }
        guard streams & line.stream.rawValue != 0 else { return }
        let bound = bounds[line.stream]
        let matches = predicate?.matches(line) ?? true
        // An uncertain line that might belong to the page: the page may only hold lines after
        // it, unless the answer is the whole log. Its ordinal can only be too small, so a bound
        // that excludes it now excludes it for sure; the first line may be the tail of a longer
        // line, so its text says nothing about whether the whole line matches.
        if uncertain && bound.admits(ts, ordinal: ordinal) && (first || matches) {
            lastRelevantUncertain = sequence
            certainSinceUncertain = 0
        }
        guard matches, bound.admits(ts, ordinal: ordinal) else { return }
        if !uncertain { certainSinceUncertain += 1 }
        push(Slot(line: line, ordinal: ordinal, sequence: sequence, uncertain: uncertain,
                  cost: LogLineJSON.encodedLength(line) + 1, entryStart: entryStart))
    }

    private mutating func push(_ slot: Slot) {
        ring.append(slot)
        keptBytes += slot.cost
        if ringCount > limit { popOldest() }
        // Over budget: the oldest go (they come on a later page); the newest line always stays.
        while keptBytes > byteBudget && ringCount > 1 { popOldest() }
    }

    private mutating func popOldest() {
        keptBytes -= ring[ringStart].cost
        ring[ringStart].line.storage = []
        ringStart += 1
        leftOut += 1
        // Compacted once half is dead: O(1) amortised, at most twice `limit` slots held.
        if ringStart >= 64 && ringStart * 2 >= ring.count {
            ring.removeFirst(ringStart)
            ringStart = 0
        }
    }

    /// The answer ended after `entries` entries (both streams): decide.
    func finishPass(entries: Int) -> Outcome {
        let wholeLog = entries < requestedEntries
        if !wholeLog && certainSinceUncertain < limit && requestedEntries < Self.maxRequestedEntries {
            let factor = certainSinceUncertain * 2 >= limit ? 2 : 4
            let (more, o) = requestedEntries.multipliedReportingOverflow(by: factor)
            return .readAgain(entries: o ? Self.maxRequestedEntries : min(more, Self.maxRequestedEntries))
        }
        let slots = ring[ringStart...].filter { wholeLog || $0.sequence > lastRelevantUncertain }
        let lines = slots.map(\.line)
        if wholeLog && leftOut == 0 { return .page(Page(lines: lines, cursor: nil)) }
        return .page(Page(lines: lines, cursor: nextCursor(slots, entries: entries, wholeLog: wholeLog)))
    }

    private func nextCursor(_ slots: [Slot], entries: Int, wholeLog: Bool) -> LogPageCursor {
        // (`slots` are all certain unless the answer was the whole log: their ordinals are exact.)
        var next = bounds
        for stream in [LogStream.stdout, .stderr] {
            if let oldest = slots.first(where: { $0.line.stream == stream }) {
                next[stream] = .before(Timestamp(clamping: oldest.line.timestamp).nanoseconds, ordinal: oldest.ordinal)
            } else if case .all = bounds[stream] {
                // The first page's snapshot of a stream it has no line of.
                let s = state[Int(stream.rawValue) - 1]
                if s.firstStamp != nil {
                    let last = Timestamp(clamping: s.lastStamp).nanoseconds
                    next[stream] = (!s.lastUncertain || wholeLog) && s.lastOrdinal < LogPageCursor.maxOrdinal
                        ? .before(last, ordinal: s.lastOrdinal + 1) : .upTo(last)
                } else if let newest = newestStamp {
                    next[stream] = .upTo(Timestamp(clamping: newest).nanoseconds)
                }
            }
        }
        let after = slots.first.map { estimatedEntries - $0.entryStart } ?? 0
        next.hint = min(max(0, min(after, entries)), LogPageCursor.maxHint)
        return next
    }

    /// Asks for more entries next time (after `.readAgain`).
    mutating func widen(to entries: Int) {
        requestedEntries = min(max(entries, requestedEntries), Self.maxRequestedEntries)
    }
}
