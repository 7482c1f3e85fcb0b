/// Turns a `GET /containers/{id}/logs?timestamps=1` body into lines: the multiplexed stream
/// for non-TTY containers, the raw stream for TTY ones. Pure and resumable.
///
/// It also remembers the position of the last entry (its timestamp, and how many entries carried
/// that same timestamp) so a stream re-opened with `since=` can skip what was already delivered:
/// the engine's `since` is inclusive.
public struct LogStreamDecoder: Sendable {
    /// Position in a container's log: entries up to and including the `count`-th entry stamped `timestamp`.
    public struct Position: Sendable, Equatable {
        public var timestamp: Int64
        public var count: Int
        public init(timestamp: Int64, count: Int) { self.timestamp = timestamp; self.count = count }
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
    private var skipThrough: Position?
    /// Position of the last entry seen in this stream.
    private var seen: Position?
    /// Position of the last entry seen (in this stream, or before it when it has none yet).
    public var position: Position? { seen ?? skipThroughInitial }
    private let skipThroughInitial: Position?
    /// Messages the engine sent in-band on stream 3.
    public private(set) var engineErrors: [String] = []

    public init(tty: Bool, maxLineBytes: Int = 1024 * 1024, resumeAfter: Position? = nil) {
        self.tty = tty
        self.demux = DockerLogDemultiplexer(maxFrameBytes: max(4 * 1024 * 1024, maxLineBytes + 1024))
        self.assembler = LogLineAssembler(maxLineBytes: maxLineBytes)
        self.skipThrough = resumeAfter
        self.skipThroughInitial = resumeAfter
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
    private mutating func admit(_ timestamp: Int64) -> Bool {
        // `since` is inclusive, so a resumed stream repeats every entry stamped `since`: count them afresh.
        if let p = seen, p.timestamp == timestamp { seen!.count += 1 } else { seen = Position(timestamp: timestamp, count: 1) }
        guard let skip = skipThrough else { return true }
        if timestamp < skip.timestamp { return false }
        if timestamp == skip.timestamp && seen!.count <= skip.count { return false }
        skipThrough = nil
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
            guard admit(now) else { return }
            let text = Array(DockerTimestamp.format(now).utf8)
            text.withUnsafeBytes { assembler.add(stream: stream, timestamp: now, timestampText: $0, content: payload, emit: emit) }
            return
        }
        guard admit(ts) else { return }
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
                    let skip = !admit(ts)
                    ttyState = .content(count: 0, timestamp: ts, timestampText: text, skip: skip)
                } else if text.count > 40 {
                    // Not a timestamp: treat what we have as content stamped now.
                    let now = MonotonicClock.wallNanoseconds()
                    let stamp = Array(DockerTimestamp.format(now).utf8)
                    _ = admit(now)
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
