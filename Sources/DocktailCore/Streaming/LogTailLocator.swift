/// Finds the last `want` lines of a log as a user sees them. Pure: the driver (`LogSubscription`)
/// performs the engine reads it asks for.
///
/// The engine's `tail=N` counts *entries*, not lines: a line over 16 KiB is several entries, and
/// with one stream selected the count still includes the other stream. So docktail asks for
/// `requestedEntries` entries of both streams, and:
/// - the first line of each stream in the answer is *uncertain*: its first entry may continue a
///   line that began before the window, so it counts only when the answer is the whole log
///   (fewer entries than asked for);
/// - with fewer than `want` certain lines and more log before the window, it asks again for
///   four times as many entries (overflow-checked, capped);
/// - the lines are kept in a ring bounded by `want` lines and `byteBudget` bytes. When the
///   budget evicted lines that are needed, the answer is a *start mark* instead, and the
///   driver streams from there (`since` the mark's stamp, skipping entries before it).
struct LogTailLocator: Sendable {
    /// Where a line starts: its stream, its first entry's stamp, and its number among the
    /// lines of that stream that start with that stamp.
    struct StartMark: Sendable, Equatable {
        var stream: LogStream
        var timestamp: Int64
        var ordinal: Int
    }

    enum Outcome: Sendable, Equatable {
        /// Read `entries` more: call `beginPass()` and feed the new answer.
        case readAgain(entries: Int)
        /// These are the lines, oldest first.
        case lines([LogLine])
        /// Too large to hold: stream from this mark on.
        case streamFrom(StartMark)
        /// Nothing selected in the log.
        case empty
    }

    private struct Slot: Sendable {
        var mark: StartMark
        var line: LogLine?
        var uncertain: Bool
    }

    let want: Int
    /// Bit 1 stdout, bit 2 stderr.
    let streams: UInt8
    /// Lines that count besides the stream selection (`grep`): the last `want` *matching* lines
    /// are found, walking back as far as the log goes.
    let predicate: (@Sendable (LogLine) -> Bool)?
    /// The oldest stamp of the current answer (how far back a search has looked).
    private(set) var oldestSeen: Int64?
    let byteBudget: Int
    /// Never ask the engine for more entries than this (Int32 range: engines parse `tail` as int).
    static let maxRequestedEntries = 1 << 30
    private(set) var requestedEntries: Int

    private var ring: [Slot] = []
    private var head = 0
    private var keptBytes = 0
    /// Slots from `head` up to this many places on hold no line any more (their payloads were
    /// dropped for the budget): eviction resumes here, so each slot is visited once.
    private var evictedRun = 0
    private var firstSeen: UInt8 = 0
    private var lastStart: [LogStream: (Int64, Int)] = [:]
    private var certainLines = 0

    /// Lines counted so far in this answer (certain ones: a search's progress).
    var matchedLines: Int { certainLines }

    init(want: Int, streams: UInt8, byteBudget: Int, predicate: (@Sendable (LogLine) -> Bool)? = nil) {
        self.predicate = predicate
        // `LogQuery` caps tail far lower; the cap here keeps the arithmetic below in range anyway.
        self.want = min(max(1, want), Self.maxRequestedEntries)
        self.streams = streams
        self.byteBudget = max(0, byteBudget)
        // One more than wanted covers the uncertain first line when lines are short; with one
        // stream selected the other stream's entries count too, so start wider.
        let (doubled, o) = self.want.multipliedReportingOverflow(by: 2)
        let base = streams == 3 ? self.want + 2 : (o ? Self.maxRequestedEntries : max(doubled + 2, 100))
        self.requestedEntries = min(base, Self.maxRequestedEntries)
    }

    /// Starts reading a new answer (the first one, or after `.readAgain`).
    mutating func beginPass() {
        ring.removeAll(keepingCapacity: true)
        head = 0
        keptBytes = 0
        evictedRun = 0
        firstSeen = 0
        lastStart = [:]
        certainLines = 0
        oldestSeen = nil
    }

    /// One line of the answer, in order (lines of both streams, whatever is selected).
    mutating func add(_ line: LogLine) {
        let bit = line.stream.rawValue
        let uncertain = firstSeen & bit == 0
        firstSeen |= bit
        let ordinal: Int
        if let (ts, n) = lastStart[line.stream], ts == line.timestamp { ordinal = n + 1 } else { ordinal = 1 }
        lastStart[line.stream] = (line.timestamp, ordinal)
        if oldestSeen == nil || line.timestamp < oldestSeen! { oldestSeen = line.timestamp }
        guard streams & bit != 0, predicate?(line) ?? true else { return }
        if !uncertain { certainLines += 1 }
        let slot = Slot(mark: StartMark(stream: line.stream, timestamp: line.timestamp, ordinal: ordinal), line: line, uncertain: uncertain)
        keptBytes += line.storage.count
        // Room for `want` certain lines plus the (at most two) uncertain ones.
        if ring.count < want + 2 {
            ring.append(slot)
        } else {
            if let old = ring[head].line { keptBytes -= old.storage.count }
            ring[head] = slot
            head = (head + 1) % ring.count
            // The oldest slot left the ring: the run of emptied slots starts one later.
            evictedRun = max(0, evictedRun - 1)
        }
        // Over budget: drop line payloads oldest first, keeping their marks. The emptied slots
        // form a run from the oldest one; it only grows, so no slot is looked at twice.
        while keptBytes > byteBudget && evictedRun < ring.count {
            let i = (head + evictedRun) % ring.count
            if let old = ring[i].line {
                keptBytes -= old.storage.count
                ring[i].line = nil
            }
            evictedRun += 1
        }
    }

    /// The answer ended after `entries` entries (both streams): decide.
    func finishPass(entries: Int) -> Outcome {
        let wholeLog = entries < requestedEntries
        if !wholeLog && certainLines < want && requestedEntries < Self.maxRequestedEntries {
            let (more, o) = requestedEntries.multipliedReportingOverflow(by: 4)
            return .readAgain(entries: o ? Self.maxRequestedEntries : min(more, Self.maxRequestedEntries))
        }
        var ordered: [Slot] = []
        ordered.reserveCapacity(ring.count)
        for k in 0..<ring.count {
            let slot = ring[(head + k) % ring.count]
            if wholeLog || !slot.uncertain { ordered.append(slot) }
        }
        let chosen = ordered.suffix(want)
        guard let first = chosen.first else { return .empty }
        if chosen.allSatisfy({ $0.line != nil }) { return .lines(chosen.map { $0.line! }) }
        return .streamFrom(first.mark)
    }

    /// Asks for more entries next time (after `.readAgain`).
    mutating func widen(to entries: Int) {
        requestedEntries = min(max(entries, requestedEntries), Self.maxRequestedEntries)
    }
}
