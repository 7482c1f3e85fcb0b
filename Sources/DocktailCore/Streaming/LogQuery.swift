/// How a client wants a container's log: the query of `/logs/{ref}`, mirroring `docker logs`.
public struct LogQuery: Sendable, Equatable {
    public enum Format: Sendable, Equatable { case json, text }

    /// Last N lines of history (as the user sees them: a line over 16 KiB is one line); nil = all.
    public var tail: Int?
    public var since: Timestamp?
    public var until: Timestamp?
    public var stdout = true
    public var stderr = true
    public var follow = true
    public var format = Format.json
    public var timestamps = false
    /// `grep=PATTERN` (`icase=1`): only matching lines, history and live alike.
    public var grep: GrepFilter?

    /// Largest `tail` a client may ask for; `tail=all` streams any amount without holding it.
    public static let maxTail = 100_000

    public init() {}

    /// A parameter that is not valid; the message names it (→ 400).
    public struct InvalidParameter: Error, Equatable, Sendable {
        public let name: String
        public let message: String
    }

    /// Documented ranges: `tail` 0...100000 or `all` (`-1`); `since`/`until` RFC 3339 or Unix
    /// seconds between 1970 and 2262, or a duration back from now of at most 100 years
    /// (clamped to 1970); flags 0/1/true/false; `format` json or text.
    public static func parse(_ query: [String: String], defaultTail: Int, now: Int64 = MonotonicClock.wallNanoseconds()) throws(InvalidParameter) -> LogQuery {
        var q = LogQuery()
        let now = Timestamp(clamping: now)
        if let t = query["tail"] {
            if t == "all" || t == "-1" { q.tail = nil }
            else if t.utf8.count <= 7, t.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = Int(t), n <= maxTail { q.tail = n }
            else { throw InvalidParameter(name: "tail", message: "tail must be a whole number from 0 to \(maxTail), or 'all'") }
        } else {
            q.tail = min(max(defaultTail, 0), maxTail)
        }
        if let s = query["since"] {
            guard let v = parseTime(s, now: now) else { throw InvalidParameter(name: "since", message: timeMessage("since")) }
            q.since = v
        }
        if let s = query["until"] {
            guard let v = parseTime(s, now: now) else { throw InvalidParameter(name: "until", message: timeMessage("until")) }
            q.until = v
        }
        q.stdout = try flag(query, "stdout", default: true)
        q.stderr = try flag(query, "stderr", default: true)
        if !q.stdout && !q.stderr { throw InvalidParameter(name: "stdout", message: "stdout and stderr cannot both be 0") }
        q.follow = try flag(query, "follow", default: true)
        q.timestamps = try flag(query, "timestamps", default: false)
        switch query["format"] ?? "json" {
        case "json": q.format = .json
        case "text": q.format = .text
        default: throw InvalidParameter(name: "format", message: "format must be json or text")
        }
        q.grep = try GrepFilter.parse(query)
        return q
    }

    static func timeMessage(_ name: String) -> String {
        "\(name) must be an RFC 3339 time or Unix seconds between 1970 and 2262, or a duration like 10m (at most 100 years)"
    }

    static func flag(_ query: [String: String], _ name: String, default value: Bool) throws(InvalidParameter) -> Bool {
        guard let v = query[name] else { return value }
        switch v {
        case "1", "true": return true
        case "0", "false": return false
        default: throw InvalidParameter(name: name, message: "\(name) must be 0 or 1")
        }
    }

    /// RFC 3339, Unix seconds with an optional fraction, or a duration (`30s`, `10m`, `2h`,
    /// `1h30m`) back from `now`. Nil when malformed or out of range.
    public static func parseTime(_ s: String, now: Timestamp) -> Timestamp? {
        guard !s.isEmpty, s.utf8.count <= 64 else { return nil }
        if let ts = DockerTimestamp.parse(s) { return Timestamp(nanoseconds: ts) }
        if let span = TimeSpan.parse(s) { return now.subtractingClampedToEpoch(span) }
        let parts = s.utf8.split(separator: UInt8(ascii: "."), maxSplits: 1, omittingEmptySubsequences: false)
        let isDigit: (UInt8) -> Bool = { $0 >= 0x30 && $0 <= 0x39 }
        guard let first = parts.first, !first.isEmpty, first.count <= 11, first.allSatisfy(isDigit),
              let secs = Int64(String(decoding: first, as: UTF8.self)) else { return nil }
        var nanos: Int64 = 0
        if parts.count == 2 {
            let frac = parts[1]
            guard !frac.isEmpty, frac.count <= 64, frac.allSatisfy(isDigit) else { return nil }
            for (i, c) in frac.prefix(9).enumerated() { nanos += Int64(c - 0x30) * pow10(8 - i) }
        }
        return Timestamp(seconds: secs, fractionNanoseconds: nanos)
    }

    private static func pow10(_ e: Int) -> Int64 {
        var v: Int64 = 1
        for _ in 0..<e { v *= 10 }
        return v
    }

    /// Go-style durations: `1h30m`, `90s`, `250ms` (see `TimeSpan.parse`).
    static func parseDuration(_ s: String) -> Int64? { TimeSpan.parse(s)?.nanoseconds }

    /// The engine query for this request (`timestamps=1` always: docktail needs them).
    func engineQuery(follow: Bool, tail: Int?, since: Timestamp?, until: Timestamp? = nil, stdout: Bool = true, stderr: Bool = true) -> String {
        var parts = ["stdout=\(stdout ? 1 : 0)", "stderr=\(stderr ? 1 : 0)", "timestamps=1", "follow=\(follow ? 1 : 0)"]
        parts.append("tail=\(tail.map { String(max($0, 0)) } ?? "all")")
        if let since { parts.append("since=\(since.engineParameter)") }
        if let until { parts.append("until=\(until.engineParameter)") }
        return parts.joined(separator: "&")
    }

    /// The delivery variant: encoding, stream selection and pattern.
    var deliveryKey: DeliveryKey {
        DeliveryKey(encoding: format == .json ? .json : (timestamps ? .textTimestamps : .text),
                    streams: (stdout ? 1 : 0) | (stderr ? 2 : 0), grep: grep)
    }

    func selects(_ line: LogLine) -> Bool {
        (line.stream == .stdout ? stdout : stderr) && (grep?.matches(line) ?? true)
    }
}

/// A compiled `grep` pattern with what it was made from (two requests with the same pattern and
/// flag share one delivery variant, so their frames are encoded once).
public struct GrepFilter: Hashable, Sendable {
    public let source: String
    public let caseInsensitive: Bool
    public let pattern: GrepPattern

    public init(_ source: String, caseInsensitive: Bool) throws(GrepPattern.SyntaxError) {
        self.source = source
        self.caseInsensitive = caseInsensitive
        self.pattern = try GrepPattern(source, caseInsensitive: caseInsensitive)
    }

    public static func == (a: GrepFilter, b: GrepFilter) -> Bool { a.source == b.source && a.caseInsensitive == b.caseInsensitive }
    public func hash(into h: inout Hasher) { h.combine(source); h.combine(caseInsensitive) }

    /// Matches a line's text (never its stamp), its first `maxExaminedBytes` only: matching is
    /// linear, but a long line times a large program is still CPU on an event loop.
    @inline(__always)
    public func matches(_ line: LogLine) -> Bool {
        line.storage.withUnsafeBytes { raw in
            let end = min(raw.count, line.timestampLength + Self.maxExaminedBytes)
            return pattern.matches(UnsafeRawBufferPointer(rebasing: raw[line.timestampLength..<end]))
        }
    }

    /// Bytes of a line a pattern looks at.
    public static let maxExaminedBytes = 64 * 1024

    /// `grep` and `icase`: nil without `grep`; a pattern that does not compile (or is longer
    /// than `GrepLimits.maxPatternBytes`) is a 400 naming `grep`, with the offset it points at.
    static func parse(_ query: [String: String]) throws(LogQuery.InvalidParameter) -> GrepFilter? {
        let icase = try LogQuery.flag(query, "icase", default: false)
        guard let source = query["grep"] else { return nil }
        guard !source.isEmpty else { throw LogQuery.InvalidParameter(name: "grep", message: "needs a pattern") }
        do {
            return try GrepFilter(source, caseInsensitive: icase)
        } catch {
            throw LogQuery.InvalidParameter(name: "grep", message: "\(error.description)")
        }
    }
}

/// What a subscriber receives: the same encoded bytes go to every subscriber with the same key.
struct DeliveryKey: Hashable, Sendable {
    enum Encoding: Hashable, Sendable { case json, text, textTimestamps }
    var encoding: Encoding
    /// Bit 1 stdout, bit 2 stderr.
    var streams: UInt8
    var grep: GrepFilter?

    init(encoding: Encoding, streams: UInt8, grep: GrepFilter? = nil) {
        self.encoding = encoding
        self.streams = streams
        self.grep = grep
    }

    @inline(__always)
    func selects(_ line: LogLine) -> Bool { streams & line.stream.rawValue != 0 && (grep?.matches(line) ?? true) }
}
