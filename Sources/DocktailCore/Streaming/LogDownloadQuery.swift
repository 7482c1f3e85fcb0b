/// The query of `GET /api/containers/{ref}/logs.txt` and `.jsonl`: a container's history as a
/// file, streamed from the engine (`follow=0`), never held whole.
///
///     since, until            as for `/logs/{ref}` (RFC 3339, Unix seconds, or a duration back
///                             from now); inclusive, as the engine and `docker logs` apply them
///     stdout=0|1, stderr=0|1  stream selection (not both 0)
///     timestamps=0|1          `.txt`: each line prefixed by its RFC 3339 stamp and a space
///     grep=PATTERN[&icase=1]  only lines whose text matches
public struct LogDownloadQuery: Sendable {
    public enum Format: Sendable, Equatable {
        /// One line of text per log line (`.txt`).
        case text
        /// One `{"ts","stream","line"}` object per line (`.jsonl`, JSON Lines).
        case jsonLines
    }

    public var since: Timestamp?
    public var until: Timestamp?
    public var stdout = true
    public var stderr = true
    public var timestamps = false
    public var predicate: LogLinePredicate?

    public init() {}

    public static func parse(_ query: [String: String], now: Int64 = MonotonicClock.wallNanoseconds()) throws(LogQuery.InvalidParameter) -> LogDownloadQuery {
        var q = LogDownloadQuery()
        let now = Timestamp(clamping: now)
        if let s = query["since"] {
            guard let v = LogQuery.parseTime(s, now: now) else { throw LogQuery.InvalidParameter(name: "since", message: LogQuery.timeMessage("since")) }
            q.since = v
        }
        if let s = query["until"] {
            guard let v = LogQuery.parseTime(s, now: now) else { throw LogQuery.InvalidParameter(name: "until", message: LogQuery.timeMessage("until")) }
            q.until = v
        }
        q.stdout = try LogQuery.flag(query, "stdout", default: true)
        q.stderr = try LogQuery.flag(query, "stderr", default: true)
        if !q.stdout && !q.stderr { throw LogQuery.InvalidParameter(name: "stdout", message: "stdout and stderr cannot both be 0") }
        q.timestamps = try LogQuery.flag(query, "timestamps", default: false)
        q.predicate = try LogLinePredicate.parse(query)
        return q
    }

    /// The engine request: the selected streams, stamped, not followed, from the first entry.
    var engineQuery: String {
        LogQuery().engineQuery(follow: false, tail: nil, since: since, until: until, stdout: stdout, stderr: stderr)
    }

    /// Appends `line` in `format` (a newline ends every line).
    func append(_ line: LogLine, format: Format, to out: inout [UInt8]) {
        switch format {
        case .jsonLines:
            LogLineJSON.append(line, to: &out)
        case .text:
            line.storage.withUnsafeBytes { raw in
                if timestamps {
                    out.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[0..<line.timestampLength]))
                    out.append(0x20)
                }
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[line.timestampLength...]))
            }
        }
        out.append(0x0A)
    }

    /// A name for `Content-Disposition` (RFC 6266): the container's name with anything but
    /// `[A-Za-z0-9_.-]` replaced by `_`, at most 100 bytes, never starting with a dot (no
    /// hidden file, no quote or backslash to escape), plus `extension`.
    static func filename(containerName: String, extension ext: String) -> String {
        var out: [UInt8] = []
        for b in containerName.utf8.prefix(100) {
            let ok = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b == 0x2D || b == 0x2E
            out.append(ok ? b : 0x5F)
        }
        while out.first == 0x2E { out.removeFirst() }
        if out.isEmpty { out = Array("container".utf8) }
        return String(decoding: out, as: UTF8.self) + "." + ext
    }
}
