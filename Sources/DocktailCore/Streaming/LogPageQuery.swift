/// The query of `GET /api/containers/{ref}/logs`: one page of history, newest first.
///
///     limit=N                 lines per page, 1…5000 (default 500)
///     cursor=C                the page before the one that returned C (opaque, see LogPageCursor)
///     before=TS&stream=S[&ordinal=K]
///                             the viewer's entry point: lines of stream S strictly before the K-th
///                             (default 1st) line of S stamped TS, and lines of the other stream
///                             stamped strictly before TS
///     stdout=0|1, stderr=0|1  stream selection (not both 0)
///     grep=PATTERN[&icase=1]  only lines whose text matches
///
/// Every value is range-checked; a bad one is a 400 naming its parameter.
public struct LogPageQuery: Sendable {
    public var limit = LogPageQuery.defaultLimit
    /// Where the page ends (`LogPageCursor.newest` for the newest page).
    public var cursor = LogPageCursor.newest
    public var stdout = true
    public var stderr = true
    public var predicate: LogLinePredicate?

    public static let defaultLimit = 500
    public static let maxLimit = 5000
    /// Largest `ordinal` accepted with `before`.
    public static let maxOrdinal = LogPageCursor.maxOrdinal

    public init() {}

    /// Bit 1 stdout, bit 2 stderr.
    var streams: UInt8 { (stdout ? 1 : 0) | (stderr ? 2 : 0) }

    public static func parse(_ query: [String: String], now: Int64 = MonotonicClock.wallNanoseconds()) throws(LogQuery.InvalidParameter) -> LogPageQuery {
        var q = LogPageQuery()
        if let l = query["limit"] {
            guard l.utf8.count <= 4, l.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = Int(l), (1...maxLimit).contains(n) else {
                throw LogQuery.InvalidParameter(name: "limit", message: "limit must be a whole number from 1 to \(maxLimit)")
            }
            q.limit = n
        }
        if let c = query["cursor"] {
            do {
                q.cursor = try LogPageCursor.decode(c)
            } catch {
                throw LogQuery.InvalidParameter(name: "cursor", message: "\(error.message): pass back a cursor this server returned")
            }
        }
        if let b = query["before"] {
            guard query["cursor"] == nil else {
                throw LogQuery.InvalidParameter(name: "before", message: "before cannot be combined with cursor")
            }
            guard let ts = LogQuery.parseTime(b, now: Timestamp(clamping: now)) else {
                throw LogQuery.InvalidParameter(name: "before", message: LogQuery.timeMessage("before"))
            }
            var ordinal = 1
            if let k = query["ordinal"] {
                guard k.utf8.count <= 10, k.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = Int(k), (1...maxOrdinal).contains(n) else {
                    throw LogQuery.InvalidParameter(name: "ordinal", message: "ordinal must be a whole number from 1 to \(maxOrdinal)")
                }
                ordinal = n
            }
            let t = ts.nanoseconds
            switch query["stream"] {
            case "stdout"?: q.cursor = LogPageCursor(stdout: .before(t, ordinal: ordinal), stderr: .before(t, ordinal: 1))
            case "stderr"?: q.cursor = LogPageCursor(stdout: .before(t, ordinal: 1), stderr: .before(t, ordinal: ordinal))
            case nil:
                guard query["ordinal"] == nil else {
                    throw LogQuery.InvalidParameter(name: "ordinal", message: "ordinal needs stream (stdout or stderr)")
                }
                q.cursor = LogPageCursor(stdout: .before(t, ordinal: 1), stderr: .before(t, ordinal: 1))
            default:
                throw LogQuery.InvalidParameter(name: "stream", message: "stream must be stdout or stderr")
            }
        } else {
            for name in ["stream", "ordinal"] where query[name] != nil {
                throw LogQuery.InvalidParameter(name: name, message: "\(name) is only meaningful with before")
            }
        }
        q.stdout = try LogQuery.flag(query, "stdout", default: true)
        q.stderr = try LogQuery.flag(query, "stderr", default: true)
        if !q.stdout && !q.stderr { throw LogQuery.InvalidParameter(name: "stdout", message: "stdout and stderr cannot both be 0") }
        q.predicate = try LogLinePredicate.parse(query)
        return q
    }
}
