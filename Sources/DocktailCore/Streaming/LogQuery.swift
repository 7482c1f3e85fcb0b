/// How a client wants a container's log: the query of `/logs/{ref}`, mirroring `docker logs`.
public struct LogQuery: Sendable, Equatable {
    public enum Format: Sendable, Equatable { case json, text }

    /// Last N lines of history; nil = all.
    public var tail: Int?
    /// Nanoseconds since the epoch.
    public var since: Int64?
    public var until: Int64?
    public var stdout = true
    public var stderr = true
    public var follow = true
    public var format = Format.json
    public var timestamps = false

    public init() {}

    /// A parameter that is not valid; the message names it (→ 400).
    public struct InvalidParameter: Error, Equatable, Sendable {
        public let name: String
        public let message: String
    }

    public static func parse(_ query: [String: String], defaultTail: Int, now: Int64 = MonotonicClock.wallNanoseconds()) throws(InvalidParameter) -> LogQuery {
        var q = LogQuery()
        if let t = query["tail"] {
            if t == "all" || t == "-1" { q.tail = nil }
            else if let n = Int(t), n >= 0 { q.tail = n }
            else { throw InvalidParameter(name: "tail", message: "tail must be a non-negative number or 'all'") }
        } else {
            q.tail = defaultTail
        }
        if let s = query["since"] {
            guard let v = parseTime(s, now: now) else { throw InvalidParameter(name: "since", message: "since must be RFC 3339, Unix seconds or a duration like 10m") }
            q.since = v
        }
        if let s = query["until"] {
            guard let v = parseTime(s, now: now) else { throw InvalidParameter(name: "until", message: "until must be RFC 3339, Unix seconds or a duration like 10m") }
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
        return q
    }

    static func flag(_ query: [String: String], _ name: String, default value: Bool) throws(InvalidParameter) -> Bool {
        guard let v = query[name] else { return value }
        switch v {
        case "1", "true": return true
        case "0", "false": return false
        default: throw InvalidParameter(name: name, message: "\(name) must be 0 or 1")
        }
    }

    /// RFC 3339, Unix seconds with an optional fraction, or a duration (`30s`, `10m`, `2h`, `1h30m`) back from now.
    public static func parseTime(_ s: String, now: Int64) -> Int64? {
        if let ts = DockerTimestamp.parse(s) { return ts }
        if let d = parseDuration(s) { return now - d }
        let parts = s.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let first = parts.first, !first.isEmpty, first.allSatisfy(\.isNumber), let secs = Int64(first), secs < 1 << 33 else { return nil }
        var nanos: Int64 = 0
        if parts.count == 2 {
            let frac = parts[1]
            guard !frac.isEmpty, frac.allSatisfy(\.isNumber) else { return nil }
            let digits = String(frac.prefix(9))
            nanos = Int64(digits + String(repeating: "0", count: 9 - digits.count)) ?? 0
        }
        return secs * 1_000_000_000 + nanos
    }

    /// Go-style durations: `1h30m`, `90s`, `250ms`.
    static func parseDuration(_ s: String) -> Int64? {
        var total: Int64 = 0
        var number = ""
        var unit = ""
        var parsedAny = false
        func commit() -> Bool {
            guard !number.isEmpty, let v = Double(number) else { return false }
            let scale: Double
            switch unit {
            case "ns": scale = 1
            case "us", "µs": scale = 1e3
            case "ms": scale = 1e6
            case "s": scale = 1e9
            case "m": scale = 60e9
            case "h": scale = 3600e9
            case "d": scale = 86400e9
            default: return false
            }
            let nanos = v * scale
            // Past ~290 years it would not fit in Int64 nanoseconds.
            guard nanos.isFinite, nanos < 9e18, total < Int64(9e18) - Int64(nanos) else { return false }
            total += Int64(nanos)
            number = ""; unit = ""
            parsedAny = true
            return true
        }
        for c in s {
            if c.isNumber || c == "." {
                if !unit.isEmpty { guard commit() else { return nil } }
                number.append(c)
            } else {
                guard !number.isEmpty else { return nil }
                unit.append(c)
            }
        }
        guard !unit.isEmpty, commit(), parsedAny else { return nil }
        return total
    }

    /// The engine query for this request (`timestamps=1` always: docktail needs them).
    func engineQuery(follow: Bool, tail: Int?, since: Int64?, until: Int64? = nil, stdout: Bool = true, stderr: Bool = true) -> String {
        var parts = ["stdout=\(stdout ? 1 : 0)", "stderr=\(stderr ? 1 : 0)", "timestamps=1", "follow=\(follow ? 1 : 0)"]
        parts.append("tail=\(tail.map(String.init) ?? "all")")
        if let since { parts.append("since=\(DockerTimestamp.engineParameter(since))") }
        if let until { parts.append("until=\(DockerTimestamp.engineParameter(until))") }
        return parts.joined(separator: "&")
    }

    /// The delivery variant: encoding and stream selection.
    var deliveryKey: DeliveryKey {
        DeliveryKey(encoding: format == .json ? .json : (timestamps ? .textTimestamps : .text),
                    streams: (stdout ? 1 : 0) | (stderr ? 2 : 0))
    }

    func selects(_ line: LogLine) -> Bool {
        line.stream == .stdout ? stdout : stderr
    }
}

/// What a subscriber receives: the same encoded bytes go to every subscriber with the same key.
struct DeliveryKey: Hashable, Sendable {
    enum Encoding: Hashable, Sendable { case json, text, textTimestamps }
    var encoding: Encoding
    /// Bit 1 stdout, bit 2 stderr.
    var streams: UInt8

    func selects(_ line: LogLine) -> Bool { streams & line.stream.rawValue != 0 }
}
