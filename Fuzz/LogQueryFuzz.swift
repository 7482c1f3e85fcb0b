// libFuzzer target `log-query`: the whole query of `/logs/{ref}` goes through the request's query
// decoding and LogQuery.parse. It must never trap; a query it accepts must have a tail within
// 0...LogQueryAPI.maxTail (or nil = all), since/until within LogQueryAPI.timestampRange, and an
// engine query that is plain ASCII with no space, CR or LF; a query it rejects must name one
// of the known parameters.

/// Every call into LogQuery's API, in one place. The API is changing (since/until become a
/// range-checked `Timestamp`, tail gets a maximum): adapt only this enum.
enum LogQueryAPI {
    /// Largest tail LogQuery accepts (its documented maximum).
    static let maxTail = LogQuery.maxTail
    /// Range of since/until, in nanoseconds since the epoch: the `Timestamp` type's range.
    static let timestampRange: Range<Int64> = Timestamp.range

    struct Parsed {
        var tail: Int?
        var since: Int64?
        var until: Int64?
        var engineQuery: String
    }

    /// Parses `query`; the error's parameter name when it is rejected.
    static func parse(_ query: [String: String], defaultTail: Int, now: Int64) -> Result<Parsed, LogQuery.InvalidParameter> {
        let q: LogQuery
        do { q = try LogQuery.parse(query, defaultTail: defaultTail, now: now) } catch { return .failure(error) }
        let engine = q.engineQuery(follow: q.follow, tail: q.tail, since: q.since, until: q.until, stdout: q.stdout, stderr: q.stderr)
        return .success(Parsed(tail: q.tail, since: q.since?.nanoseconds, until: q.until?.nanoseconds, engineQuery: engine))
    }
}

func fuzzLogQuery(_ bytes: [UInt8]) {
    let input = String(decoding: bytes, as: UTF8.self)
    let query = HTTPRequest(method: "GET", target: "/logs/x?" + input).query
    let defaultTail = 100
    // A fixed "now" (2026-05-28) keeps runs reproducible.
    let now: Int64 = 1_780_000_000_000_000_000
    let known: Set<String> = ["tail", "since", "until", "stdout", "stderr", "follow", "timestamps", "format", "grep", "icase"]

    switch LogQueryAPI.parse(query, defaultTail: defaultTail, now: now) {
    case .failure(let e):
        precondition(known.contains(e.name) && !e.message.isEmpty, "rejected without naming a known parameter: \(e)")
    case .success(let q):
        if let t = q.tail {
            precondition((0...LogQueryAPI.maxTail).contains(t), "tail out of range: \(t)")
        } else {
            precondition(query["tail"] == "all" || query["tail"] == "-1", "tail nil but not asked for all")
        }
        if query["tail"] == nil { precondition(q.tail == defaultTail, "default tail not applied") }
        for (name, v) in [("since", q.since), ("until", q.until)] {
            precondition((v == nil) == (query[name] == nil), "\(name) dropped or invented")
            if let v { precondition(LogQueryAPI.timestampRange.contains(v), "\(name) out of range: \(v)") }
        }
        precondition(isQuerySafeASCII(q.engineQuery), "engine query not plain ASCII: \(q.engineQuery)")
        precondition(q.engineQuery.contains("timestamps=1"), "engine query without timestamps=1")
    }
}
