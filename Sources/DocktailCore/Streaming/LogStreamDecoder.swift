/// Turns a `GET /containers/{id}/logs?timestamps=1` body into lines: the multiplexed stream
/// for non-TTY containers, the raw stream for TTY ones. Pure and resumable.
///
/// It also remembers the position of the last entry (its timestamp, and how many entries carried
/// that same timestamp) so a stream re-opened with `since=` can skip what was already delivered:
/// the engine's `since` is inclusive.
public struct LogStreamDecoder: Sendable {
    /// A point in one stream: up to and including the `count`-th entry stamped `timestamp`.
    public struct Mark: Sendable, Equatable {
        public var timestamp: Int64
        public var count: Int
        public init(timestamp: Int64, count: Int) { self.timestamp = timestamp; self.count = count }

        /// Whether an entry stamped `ts`, the `n`-th with that stamp, lies at or before this mark.
        func covers(_ ts: Int64, _ n: Int) -> Bool { ts < timestamp || (ts == timestamp && n <= count) }
    }

    /// Position in a container's log, per stream. The engine stamps stdout and stderr in two
    /// separate readers, so stamps only increase within a stream, not across the two.
    public struct Position: Sendable, Equatable {
        public var stdout: Mark?
        public var stderr: Mark?
        public init(stdout: Mark? = nil, stderr: Mark? = nil) { self.stdout = stdout; self.stderr = stderr }

        public subscript(stream: LogStream) -> Mark? {
            get { stream == .stdout ? stdout : stderr }
            set { if stream == .stdout { stdout = newValue } else { stderr = newValue } }
        }

        /// The `since` to resume from: the older of the two marks (inclusive; the rest is skipped).
        public var resumeTimestamp: Int64? {
            switch (stdout, stderr) {
            case let (a?, b?): return min(a.timestamp, b.timestamp)
            case let (a?, nil): return a.timestamp
            case let (nil, b?): return b.timestamp
            default: return nil
            }
        }

        /// Counts an entry; returns its number among entries of its stream with the same stamp.
        mutating func advance(_ stream: LogStream, _ ts: Int64) -> Int {
            if let m = self[stream], m.timestamp == ts { self[stream]!.count += 1 } else { self[stream] = Mark(timestamp: ts, count: 1) }
            return self[stream]!.count
        }
    }

    public enum DecodeError: Error, Equatable, Sendable {
        case demux(DockerLogDemultiplexer.DemuxError)
    }

    /// The engine's log copier cuts entries without a newline at 16 KiB; a shorter entry
    /// without one only ends a run (the process exited, or docktail read to the end).
    static let ttyEntryLimit = 16 * 1024
    /// Longest engine stamp (`2262-01-01T00:00:00.123456789Z` plus the space), in bytes.
    static let maxStampBytes = 31

    private enum TTYState: Sendable {
        /// Expecting `TIMESTAMP SP` (the bytes so far).
        case timestamp([UInt8])
        case content(count: Int, timestamp: Int64, timestampText: [UInt8], skip: Bool)
    }

    public let tty: Bool
    private var demux: DockerLogDemultiplexer
    private var assembler: LogLineAssembler
    private var ttyState = TTYState.timestamp([])
    /// TTY: bytes at the end of a read that may begin an engine stamp (at most `maxStampBytes`).
    private var carry: [UInt8] = []
    /// Entries at or before this position are skipped (already delivered).
    private var skipThrough: Position
    /// Entries seen in this response, per stream (trusted stamps only).
    private var seen = Position()
    /// `seen` as of the last entry after which no line of its stream was unfinished: a stream
    /// resumed from here re-reads the first pieces of a line cut by a failure, instead of losing them.
    private var committed = Position()
    /// Where to resume: after the last entry that completed a line (in this response, or
    /// before it for a stream that has none yet).
    public var position: Position {
        Position(stdout: committed.stdout ?? skipThroughInitial.stdout, stderr: committed.stderr ?? skipThroughInitial.stderr)
    }
    /// TTY: recognise the end of a run inside content (a short entry followed by an engine
    /// stamp). Only a read that can span runs needs it (history, not a followed run).
    public var detectsRunBoundaries: Bool
    private let skipThroughInitial: Position
    /// Messages the engine sent in-band on stream 3.
    public private(set) var engineErrors: [String] = []
    /// Entries (frames of stdout or stderr) in this response, skipped ones included.
    public private(set) var entryCount = 0
    /// Entries whose stamp could not be trusted (see `isTrusted`).
    public private(set) var untrustedStamps = 0
    /// How far ahead of docktail's clock an engine stamp may be and still move a position.
    public let maxClockSkewNanoseconds: Int64
    private let now: @Sendable () -> Int64

    public init(tty: Bool, maxLineBytes: Int = 1024 * 1024, resumeAfter: Position? = nil,
                maxClockSkewNanoseconds: Int64 = 10_000_000_000, detectsRunBoundaries: Bool = true,
                now: @escaping @Sendable () -> Int64 = { MonotonicClock.wallNanoseconds() }) {
        self.detectsRunBoundaries = detectsRunBoundaries
        self.tty = tty
        self.demux = DockerLogDemultiplexer(maxFrameBytes: max(4 * 1024 * 1024, maxLineBytes + 1024))
        self.assembler = LogLineAssembler(maxLineBytes: maxLineBytes)
        self.skipThrough = resumeAfter ?? Position()
        self.skipThroughInitial = resumeAfter ?? Position()
        self.maxClockSkewNanoseconds = maxClockSkewNanoseconds
        self.now = now
    }

    public mutating func decode(_ input: UnsafeRawBufferPointer, emit: (LogLine) -> Void) throws(DecodeError) {
        if tty { decodeTTY(input, emit: emit); return }
        // Move the demultiplexer out while its callback mutates the rest of self (no CoW copy).
        var demux = self.demux
        self.demux = DockerLogDemultiplexer(maxFrameBytes: 0)
        defer { self.demux = demux }
        do {
            try demux.decode(input) { type, payload in
                switch type {
                case 1, 2: entry(stream: LogStream(rawValue: type)!, payload: payload, emit: emit)
                case 3: engineErrors.append(String(decoding: payload, as: UTF8.self))
                default: break // stdin: never sent for logs
                }
            }
        } catch {
            throw .demux(error)
        }
    }

    private mutating func commitIfLineDone(_ stream: LogStream) {
        if !assembler.hasPendingLine(stream) { committed[stream] = seen[stream] }
    }

    public mutating func finish(emit: (LogLine) -> Void) {
        if !carry.isEmpty, case .content(_, let ts, let tsText, let skip) = ttyState, !skip {
            // The response ended inside what looked like the start of a stamp: it was content.
            let rest = carry
            tsText.withUnsafeBytes { st in rest.withUnsafeBytes { assembler.add(stream: .stdout, timestamp: ts, timestampText: st, content: $0, emit: emit) } }
        }
        carry = []
        assembler.finish(emit: emit)
        committed = seen
    }

    /// Previews of lines still being written (see `LogLineAssembler.partialLines`).
    public func partialLines() -> [LogLine] { assembler.partialLines() }
    public var pendingBytes: Int { assembler.pendingBytes }

    public mutating func takeEngineErrors() -> [String] {
        defer { engineErrors = [] }
        return engineErrors
    }

    /// A stamp may move a resume position only when it does not go back within its stream and
    /// is not in the future: a container cannot then hide later lines behind a forged stamp.
    private func isTrusted(_ stream: LogStream, _ timestamp: Int64) -> Bool {
        if let last = seen[stream] ?? skipThroughInitial[stream], timestamp < last.timestamp { return false }
        let (limit, o) = now().addingReportingOverflow(maxClockSkewNanoseconds)
        return o || timestamp <= limit
    }

    /// An entry without a stamp docktail can read (never from an engine asked for timestamps):
    /// delivered, but it cannot be placed, so it neither ends a resume's skipping nor moves a position.
    private mutating func admitUnstamped() {
        entryCount += 1
        untrustedStamps += 1
    }

    /// Records the entry's position; false when it was delivered before (resume).
    private mutating func admit(_ stream: LogStream, _ timestamp: Int64, mayMovePosition: Bool = true) -> Bool {
        entryCount += 1
        if let skip = skipThrough[stream] {
            // `since` is inclusive, so a resumed stream repeats every entry stamped `since`:
            // count them afresh; what the mark covers was delivered before.
            let n = seen[stream].map { $0.timestamp == timestamp ? $0.count + 1 : 1 } ?? 1
            if skip.covers(timestamp, n) {
                _ = seen.advance(stream, timestamp)
                return false
            }
            skipThrough[stream] = nil
        }
        if mayMovePosition && isTrusted(stream, timestamp) {
            _ = seen.advance(stream, timestamp)
        } else {
            // Delivered, but never a resume point (a resumed stream may repeat it: better than a gap).
            untrustedStamps += 1
        }
        return true
    }

    /// A non-TTY frame: `TIMESTAMP SP content`.
    private mutating func entry(stream: LogStream, payload: UnsafeRawBufferPointer, emit: (LogLine) -> Void) {
        var space = 0
        let limit = min(payload.count, 40)
        while space < limit && payload[space] != 0x20 { space += 1 }
        let tsText = UnsafeRawBufferPointer(rebasing: payload[0..<space])
        guard space < payload.count, let ts = DockerTimestamp.parse(tsText) else {
            // No timestamp (should not happen with timestamps=1): stamp it now.
            let now = Timestamp(clamping: MonotonicClock.wallNanoseconds()).nanoseconds
            admitUnstamped()
            let text = Array(DockerTimestamp.format(now).utf8)
            text.withUnsafeBytes { assembler.add(stream: stream, timestamp: now, timestampText: $0, content: payload, emit: emit) }
            return
        }
        guard admit(stream, ts) else { return }
        let content = UnsafeRawBufferPointer(rebasing: payload[(space + 1)...])
        assembler.add(stream: stream, timestamp: ts, timestampText: tsText, content: content, emit: emit)
        // The copier cuts a line without a newline into 16 KiB entries; a shorter entry without
        // one is the end of a run (the process exited mid-line): the line ends with it, and the
        // next run starts a line of its own.
        if content.count < Self.ttyEntryLimit, content.last != 0x0A { assembler.endLine(stream: stream, emit: emit) }
        commitIfLineDone(stream)
    }

    /// The TTY stream: entries `TIMESTAMP SP content` back to back with no framing. An entry
    /// ends after a newline, after 16 KiB of content, or, when a run ended on a partial line,
    /// where the next engine stamp begins. That last boundary can only be recognised by its
    /// shape, so a stamp inside content counts as one only when it is well formed, not older
    /// than the entry it would end, not in the future, and not at the start of the content
    /// (an entry is never empty). Container output that fakes a stamp can at worst split its own
    /// line there; it cannot move a resume position (see `isTrusted`) or hide other lines.
    private mutating func decodeTTY(_ input: UnsafeRawBufferPointer, emit: (LogLine) -> Void) {
        if carry.isEmpty {
            decodeTTYBytes(input, emit: emit)
        } else {
            var joined = carry
            carry = []
            joined.append(contentsOf: input)
            joined.withUnsafeBytes { decodeTTYBytes($0, emit: emit) }
        }
    }

    private static let stampShape: [UInt8] = Array("0000-00-00T00:00:00".utf8)

    /// Where the framing says a stamp must be (after a newline or 16 KiB): the engine's stamps of
    /// one stream do not go back, and none lies a day ahead. Anything else means the bytes are
    /// not where the decoder thinks, and they are kept as content.
    private func isPlausibleFramingStamp(_ ts: Int64) -> Bool {
        if let last = seen[.stdout] ?? skipThroughInitial[.stdout], ts < last.timestamp { return false }
        let (limit, o) = now().addingReportingOverflow(86_400_000_000_000)
        return o || ts <= limit
    }

    /// A stamp inside content starts a new run only if it is already past (the run began
    /// before docktail read it), at least a millisecond after the entry it would end (a
    /// restart takes time), and not older than the stream's trusted position.
    private func isPlausibleRunStart(_ ts: Int64, after entry: Int64) -> Bool {
        guard ts >= entry.addingReportingOverflow(1_000_000).partialValue, ts <= now() else { return false }
        if let last = seen[.stdout] ?? skipThroughInitial[.stdout], ts < last.timestamp { return false }
        return true
    }

    private enum StampMatch { case stamp(length: Int, timestamp: Int64), none, needMore }

    /// Whether `b[i...]` begins `YYYY-MM-DDTHH:MM:SS[.fraction]Z SP` (the engine's form).
    private static func stamp(in b: UnsafeRawBufferPointer, at i: Int) -> StampMatch {
        let n = b.count
        @inline(__always) func digit(_ k: Int) -> Bool { b[k] >= 0x30 && b[k] <= 0x39 }
        // Fixed part `YYYY-MM-DDTHH:MM:SS`, checked as far as the bytes go.
        let shape = stampShape
        for k in 0..<shape.count {
            guard i + k < n else { return .needMore }
            if shape[k] == 0x30 { guard digit(i + k) else { return .none } } else if b[i + k] != shape[k] { return .none }
        }
        var j = i + shape.count
        if j < n && b[j] == 0x2E {
            j += 1
            let start = j
            while j < n && j - start < 9 && digit(j) { j += 1 }
            if j == n { return .needMore }
            guard j > start else { return .none }
        }
        guard j < n else { return .needMore }
        guard b[j] == 0x5A else { return .none }
        guard j + 1 < n else { return .needMore }
        guard b[j + 1] == 0x20 else { return .none }
        guard let ts = DockerTimestamp.parse(UnsafeRawBufferPointer(rebasing: b[i...j])) else { return .none }
        return .stamp(length: j + 2 - i, timestamp: ts)
    }

    private mutating func decodeTTYBytes(_ input: UnsafeRawBufferPointer, emit: (LogLine) -> Void) {
        var i = 0
        let n = input.count
        while i < n {
            switch ttyState {
            case .timestamp(var text):
                let c = input[i]
                i += 1
                if c == 0x20, let ts = text.withUnsafeBytes({ DockerTimestamp.parse($0) }), isPlausibleFramingStamp(ts) {
                    let skip = !admit(.stdout, ts)
                    ttyState = .content(count: 0, timestamp: ts, timestampText: text, skip: skip)
                } else if c == 0x20 || text.count >= Self.maxStampBytes {
                    // Not an engine stamp where one must be: the bytes are content (stamped now).
                    let now = Timestamp(clamping: self.now()).nanoseconds
                    let stamp = Array(DockerTimestamp.format(now).utf8)
                    admitUnstamped()
                    text.append(c)
                    stamp.withUnsafeBytes { st in text.withUnsafeBytes { assembler.add(stream: .stdout, timestamp: now, timestampText: st, content: $0, emit: emit) } }
                    ttyState = .content(count: text.count, timestamp: now, timestampText: stamp, skip: false)
                } else {
                    text.append(c)
                    ttyState = .timestamp(text)
                }
            case .content(let count, let ts, let tsText, let skip):
                var end = i
                let maxEnd = min(n, i + (Self.ttyEntryLimit - count))
                var next: (length: Int, timestamp: Int64)?
                var needMore = false
                while end < maxEnd {
                    let c = input[end]
                    if c == 0x0A { break }
                    // A stamp can only start with the digit 1 or 2 (years 1970 to 2261).
                    if detectsRunBoundaries && (c == 0x31 || c == 0x32) && count + (end - i) > 0 {
                        switch Self.stamp(in: input, at: end) {
                        case .stamp(let length, let t) where isPlausibleRunStart(t, after: ts):
                            next = (length, t)
                        case .needMore:
                            needMore = true
                        default:
                            break
                        }
                        if next != nil || needMore { break }
                    }
                    end += 1
                }
                let sawNewline = end < maxEnd && next == nil && !needMore
                if sawNewline { end += 1 }
                let piece = UnsafeRawBufferPointer(rebasing: input[i..<end])
                if !skip && !piece.isEmpty {
                    tsText.withUnsafeBytes { assembler.add(stream: .stdout, timestamp: ts, timestampText: $0, content: piece, emit: emit) }
                }
                let newCount = count + piece.count
                i = end
                if needMore {
                    // Maybe a stamp cut by the read: keep the bytes for the next one.
                    carry = Array(UnsafeRawBufferPointer(rebasing: input[end...]))
                    ttyState = .content(count: newCount, timestamp: ts, timestampText: tsText, skip: skip)
                    return
                }
                if let next {
                    // The entry ended short (a run ended on a partial line): so does its line;
                    // a new entry starts here.
                    if !skip { assembler.endLine(stream: .stdout, emit: emit) }
                    commitIfLineDone(.stdout)
                    let text = Array(UnsafeRawBufferPointer(rebasing: input[end..<(end + next.length - 1)]))
                    i = end + next.length
                    // A boundary found by shape never moves the resume position.
                    let skipNext = !admit(.stdout, next.timestamp, mayMovePosition: false)
                    ttyState = .content(count: 0, timestamp: next.timestamp, timestampText: text, skip: skipNext)
                } else if sawNewline || newCount >= Self.ttyEntryLimit {
                    commitIfLineDone(.stdout)
                    ttyState = .timestamp([])
                } else {
                    ttyState = .content(count: newCount, timestamp: ts, timestampText: tsText, skip: skip)
                }
            }
        }
    }
}
