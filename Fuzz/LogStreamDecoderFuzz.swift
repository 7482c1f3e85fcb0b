#if canImport(Glibc)
import Glibc
#endif
// libFuzzer targets `log-stream-decoder-mux` and `log-stream-decoder-tty`: LogStreamDecoder on an
// engine log body, multiplexed or raw (TTY), with a small maxLineBytes. For any split of the input
// it must emit the same lines (timestamp, its text, stream, text), the same engine errors and the
// same error, then the same lines from finish(). Every line's text is valid UTF-8 without a
// newline and at most maxLineBytes plus the truncation marker; its timestamp text is an RFC 3339
// timestamp that parses to its timestamp. After a resume mark, the first stdout line is not older
// than the mark.
//
// When the first byte has bit 7 set, a few valid entries come before the rest of the input (so
// the fuzzer starts from deep states), and with bit 6 too, the decoder resumes after the first.


private let fuzzMaxLineBytes = 4096

private struct FuzzLine: Equatable {
    var timestamp: Int64
    var timestampText: [UInt8]
    var stream: LogStream
    var text: [UInt8]
}

/// Entries placed before the input. The first one's timestamp is the resume mark.
private let resumeMarkText = "2020-01-02T03:04:05.123456789Z"
private let prefixEntries: [(UInt8, String)] = [
    (1, resumeMarkText + " hello\n"),
    (2, "2020-01-02T03:04:05.5Z warn: h\u{E9}llo \u{1F600}\r\n"),
    (1, "2020-01-02T03:04:06Z a line split over entries, "),
    (1, "2020-01-02T03:04:06.000000001Z and its end\n"),
    (3, "engine: something went wrong"),
    (2, "2020-01-02T03:04:07+01:00 " + String(repeating: "long \u{E9}", count: 800) + "\n"),
    (1, "2020-01-02T03:04:08Z last line without a newline"),
]

private func prefixStream(tty: Bool, count: Int) -> [UInt8] {
    var out: [UInt8] = []
    for (type, text) in prefixEntries.prefix(count) {
        let payload = Array(text.utf8)
        if tty {
            if type == 1 || type == 2 { out += payload }
        } else {
            let n = payload.count
            out += [type, 0, 0, 0, UInt8(n >> 24 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + payload
        }
    }
    return out
}

func fuzzLogStreamDecoder(_ bytes: [UInt8], tty: Bool) {
    var stream = bytes
    var resume: LogStreamDecoder.Position?
    let mark = DockerTimestamp.parse(resumeMarkText)!
    if let b = bytes.first, b & 0x80 != 0 {
        stream = prefixStream(tty: tty, count: 1 + Int(b & 0x07) % prefixEntries.count) + bytes.dropFirst()
        if b & 0x40 != 0 { resume = LogStreamDecoder.Position(stdout: .init(timestamp: mark, count: 1)) }
    }

    struct Outcome {
        var lines: [FuzzLine] = []
        var engineErrors: [String] = []
        var error: LogStreamDecoder.DecodeError?
    }

    func run(_ pieces: [[UInt8]]) -> Outcome {
        var decoder = LogStreamDecoder(tty: tty, maxLineBytes: fuzzMaxLineBytes, resumeAfter: resume)
        var o = Outcome()
        let emit: (LogLine) -> Void = { line in
            o.lines.append(FuzzLine(timestamp: line.timestamp, timestampText: Array(line.storage[..<line.timestampLength]),
                                    stream: line.stream, text: Array(line.text)))
        }
        for piece in pieces {
            let failure: LogStreamDecoder.DecodeError? = piece.withUnsafeBytes { p in
                do throws(LogStreamDecoder.DecodeError) {
                    try decoder.decode(p, emit: emit)
                    return nil
                } catch {
                    return error
                }
            }
            o.engineErrors += decoder.takeEngineErrors()
            if let failure { o.error = failure; return o }
        }
        decoder.finish(emit: emit)
        return o
    }

    // Entries without a usable timestamp are stamped with the wall clock, which differs between
    // runs: a stamp taken during the runs matches any other such stamp.
    let t0 = MonotonicClock.wallNanoseconds()
    let whole = run([stream])
    let splits = fuzzSplits(stream, seed: bytes, byteByByteUpTo: 256).map(run)
    let t1 = MonotonicClock.wallNanoseconds()
    func isNowStamp(_ l: FuzzLine) -> Bool { l.timestamp >= t0 && l.timestamp <= t1 }
    func same(_ a: FuzzLine, _ b: FuzzLine) -> Bool {
        if a == b { return true }
        guard a.stream == b.stream, a.text == b.text, isNowStamp(a), isNowStamp(b) else { return false }
        return a.timestampText == b.timestampText
            || (a.timestampText == Array(DockerTimestamp.format(a.timestamp).utf8) && b.timestampText == Array(DockerTimestamp.format(b.timestamp).utf8))
    }

    let maxText = fuzzMaxLineBytes + LogLineAssembler.truncationMarker.count
    for line in whole.lines {
        precondition(UTF8Validator.isValid(line.text), "line text is not valid UTF-8")
        precondition(!line.text.contains(0x0A), "line text contains a newline")
        precondition(line.timestampText.withUnsafeBytes { DockerTimestamp.parse($0) } == line.timestamp,
                     "timestamp text '\(String(decoding: line.timestampText, as: UTF8.self))' is not the line's timestamp \(line.timestamp)")
        precondition(line.text.count <= maxText, "line text of \(line.text.count) bytes (limit \(maxText))")
    }
    if tty { precondition(whole.lines.allSatisfy { $0.stream == .stdout } && whole.engineErrors.isEmpty, "TTY output on stderr or stream 3") }
    if resume != nil, let first = whole.lines.first(where: { $0.stream == .stdout }) {
        precondition(first.timestamp >= mark, "resumed stream delivered \(first.timestamp), older than the mark \(mark)")
    }
    for split in splits {
        if getenv("DOCKTAIL_FUZZ_DEBUG") != nil, !(split.lines.count == whole.lines.count && zip(split.lines, whole.lines).allSatisfy(same)) {
            for (name, o) in [("whole", whole), ("split", split)] {
                fputs(name + "\n", stderr)
                for l in o.lines { fputs("   \(l.timestamp) \(String(decoding: l.timestampText, as: UTF8.self)) \(l.stream) \(Array(l.text.suffix(12))) \(l.text.count)\n", stderr) }
            }
        }
        precondition(split.error == whole.error, "split changed the error: \(String(describing: whole.error)) vs \(String(describing: split.error))")
        precondition(split.engineErrors == whole.engineErrors, "split changed the engine errors")
        precondition(split.lines.count == whole.lines.count && zip(split.lines, whole.lines).allSatisfy(same),
                     "split changed the lines: \(whole.lines.count) vs \(split.lines.count); first difference at \(split.lines.indices.first { $0 >= whole.lines.count || !same(split.lines[$0], whole.lines[$0]) } ?? split.lines.count)")
    }
}
