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

    /// The engine's TTY logger cuts entries without a newline at 16 KiB.
    static let ttyEntryLimit = 16 * 1024

    private enum TTYState: Sendable {
        case timestamp([UInt8])
        case content(count: Int, timestamp: Int64, timestampText: [UInt8], skip: Bool)
    }

    public let tty: Bool
    private var demux: DockerLogDemultiplexer
    private var assembler: LogLineAssembler
    private var ttyState = TTYState.timestamp([])
    /// Entries at or before this position are skipped (already delivered).
    private var skipThrough: Position
    /// Entries seen in this response, per stream.
    private var seen = Position()
    /// Position of the last entries seen (in this response, or before it for a stream that has none yet).
    public var position: Position {
        Position(stdout: seen.stdout ?? skipThroughInitial.stdout, stderr: seen.stderr ?? skipThroughInitial.stderr)
    }
    private let skipThroughInitial: Position
    /// Messages the engine sent in-band on stream 3.
    public private(set) var engineErrors: [String] = []

    public init(tty: Bool, maxLineBytes: Int = 1024 * 1024, resumeAfter: Position? = nil) {
        self.tty = tty
        self.demux = DockerLogDemultiplexer(maxFrameBytes: max(4 * 1024 * 1024, maxLineBytes + 1024))
        self.assembler = LogLineAssembler(maxLineBytes: maxLineBytes)
        self.skipThrough = resumeAfter ?? Position()
        self.skipThroughInitial = resumeAfter ?? Position()
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

    public mutating func finish(emit: (LogLine) -> Void) {
        assembler.finish(emit: emit)
    }

    public mutating func takeEngineErrors() -> [String] {
        defer { engineErrors = [] }
        return engineErrors
    }

    /// Records the entry's position; false when it was delivered before (resume).
    private mutating func admit(_ stream: LogStream, _ timestamp: Int64) -> Bool {
        // `since` is inclusive, so a resumed stream repeats every entry stamped `since`: count them afresh.
        let n = seen.advance(stream, timestamp)
        guard let skip = skipThrough[stream] else { return true }
        if skip.covers(timestamp, n) { return false }
        skipThrough[stream] = nil
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
            let now = MonotonicClock.wallNanoseconds()
            guard admit(stream, now) else { return }
            let text = Array(DockerTimestamp.format(now).utf8)
            text.withUnsafeBytes { assembler.add(stream: stream, timestamp: now, timestampText: $0, content: payload, emit: emit) }
            return
        }
        guard admit(stream, ts) else { return }
        assembler.add(stream: stream, timestamp: ts, timestampText: tsText,
                      content: UnsafeRawBufferPointer(rebasing: payload[(space + 1)...]), emit: emit)
    }

    /// The TTY stream: entries `TIMESTAMP SP content` back to back, each ending at a newline or
    /// after 16 KiB of content.
    private mutating func decodeTTY(_ input: UnsafeRawBufferPointer, emit: (LogLine) -> Void) {
        var i = 0
        let n = input.count
        while i < n {
            switch ttyState {
            case .timestamp(var text):
                let c = input[i]
                i += 1
                if c == 0x20 {
                    let ts = text.withUnsafeBytes { DockerTimestamp.parse($0) } ?? MonotonicClock.wallNanoseconds()
                    let skip = !admit(.stdout, ts)
                    ttyState = .content(count: 0, timestamp: ts, timestampText: text, skip: skip)
                } else if text.count > 40 {
                    // Not a timestamp: treat what we have as content stamped now.
                    let now = MonotonicClock.wallNanoseconds()
                    let stamp = Array(DockerTimestamp.format(now).utf8)
                    _ = admit(.stdout, now)
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
                while end < maxEnd && input[end] != 0x0A { end += 1 }
                let sawNewline = end < maxEnd
                if sawNewline { end += 1 }
                let piece = UnsafeRawBufferPointer(rebasing: input[i..<end])
                if !skip {
                    tsText.withUnsafeBytes { assembler.add(stream: .stdout, timestamp: ts, timestampText: $0, content: piece, emit: emit) }
                }
                let newCount = count + piece.count
                i = end
                if sawNewline || newCount >= Self.ttyEntryLimit {
                    ttyState = .timestamp([])
                } else {
                    ttyState = .content(count: newCount, timestamp: ts, timestampText: tsText, skip: skip)
                }
            }
        }
    }
}
