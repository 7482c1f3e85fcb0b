import XCTest
@testable import DocktailCore

final class LogDecodingTests: XCTestCase {
    func decodeLines(_ body: [UInt8], tty: Bool, chunks: [[UInt8]]? = nil, maxLine: Int = 1 << 20, resume: LogStreamDecoder.Position? = nil) throws -> [LogLine] {
        var d = LogStreamDecoder(tty: tty, maxLineBytes: maxLine, resumeAfter: resume)
        var out: [LogLine] = []
        for c in chunks ?? [body] {
            try c.withUnsafeBytes { try d.decode($0) { out.append($0) } }
        }
        d.finish { out.append($0) }
        return out
    }

    func testDemultiplexerSplitEverywhere() throws {
        let frames: [UInt8] = [1, 0, 0, 0, 0, 0, 0, 3] + Array("ab\n".utf8) + [2, 0, 0, 0, 0, 0, 0, 0] + [2, 0, 0, 0, 0, 0, 0, 2] + Array("c\n".utf8)
        for chunks in splits(frames) {
            var d = DockerLogDemultiplexer()
            var got: [(UInt8, [UInt8])] = []
            for c in chunks { try c.withUnsafeBytes { try d.decode($0) { got.append(($0, Array($1))) } } }
            XCTAssertEqual(got.map(\.0), [1, 2, 2])
            XCTAssertEqual(got.map(\.1), [Array("ab\n".utf8), [], Array("c\n".utf8)])
            XCTAssertTrue(d.isAtFrameBoundary)
        }
        var d = DockerLogDemultiplexer(maxFrameBytes: 10)
        XCTAssertThrowsError(try ([1, 0, 0, 0, 0, 0, 1, 0] as [UInt8]).withUnsafeBytes { try d.decode($0) { _, _ in } })
        var d2 = DockerLogDemultiplexer()
        XCTAssertThrowsError(try ([9, 0, 0, 0, 0, 0, 0, 0] as [UInt8]).withUnsafeBytes { try d2.decode($0) { _, _ in } })
    }

    /// Recorded from a real engine (fx1): stdout and stderr, invalid UTF-8, a 40,000-byte line
    /// split by the engine into three frames, and a last line with no newline.
    func testRecordedMultiplexedStream() throws {
        let (_, body) = try responseBody(fixture("engine-logs-multiplexed.http"))
        let expected = try decodeLines(body, tty: false)
        // err2 arrives between the frames of the long stdout line; each stream is joined apart.
        XCTAssertEqual(expected.map(\.stream), [.stderr, .stdout, .stdout, .stdout, .stderr, .stdout, .stdout])
        XCTAssertEqual(expected.map { String($0.textString.prefix(10)) }, ["err1", "out1", "bad \u{FFFD}\u{FFFD} utf", "out2", "err2", "xxxxxxxxxx", "last"])
        XCTAssertEqual(expected[5].text.count, 40000)
        XCTAssertTrue(expected[5].text.allSatisfy { $0 == UInt8(ascii: "x") })
        // The long line keeps the timestamp of its first frame.
        XCTAssertEqual(expected[5].timestampText, "2026-11-29T15:59:05.769144440Z")
        XCTAssertEqual(expected[6].textString, "last")
        XCTAssertTrue(expected[0].timestampText.hasSuffix("Z"))
        // Same lines whatever the split (every offset of the first 2 KiB, then coarser).
        for cut in Array(1..<2048) + Array(stride(from: 2048, to: body.count, by: 997)) {
            let got = try decodeLines(body, tty: false, chunks: [Array(body[..<cut]), Array(body[cut...])])
            XCTAssertEqual(got, expected, "cut at \(cut)")
        }
        XCTAssertEqual(try decodeLines(body, tty: false, chunks: pieces(body, size: 1)), expected)
    }

    /// Recorded TTY stream (fx2): raw, `\r\n`, ANSI colours, a 20,000-byte line over two entries.
    func testRecordedTTYStream() throws {
        let (_, body) = try responseBody(fixture("engine-logs-tty.http"))
        let expected = try decodeLines(body, tty: true)
        XCTAssertEqual(expected.map(\.textString).map { String($0.prefix(12)) }, ["hello", "\u{1B}[31mred\u{1B}[0m", "yyyyyyyyyyyy", "end"])
        XCTAssertEqual(expected[2].text.count, 20000)
        XCTAssertFalse(expected.contains { $0.text.contains(0x0D) })
        for cut in stride(from: 1, to: body.count, by: 13) {
            XCTAssertEqual(try decodeLines(body, tty: true, chunks: [Array(body[..<cut]), Array(body[cut...])]), expected, "cut at \(cut)")
        }
    }

    func testTruncationKeepsMemoryBounded() throws {
        let (_, body) = try responseBody(fixture("engine-logs-multiplexed.http"))
        let lines = try decodeLines(body, tty: false, maxLine: 1024)
        let long = lines[5]
        XCTAssertTrue(long.textString.hasSuffix("…[line truncated]"))
        XCTAssertLessThanOrEqual(long.text.count, 1024 + LogLineAssembler.truncationMarker.count)
    }

    func testInvalidUTF8AndCarriageReturns() throws {
        let t = "2026-11-29T10:00:00Z "
        let payload = Array(t.utf8) + [0x61, 0xFF, 0xC3, 0x0D, 0x0A] + Array(t.utf8) + Array("é".utf8) + Array(t.utf8) + [0xA9] + Array("\n".utf8)
        var lines: [LogLine] = []
        var a = LogLineAssembler()
        let ts = Array("T".utf8)
        ts.withUnsafeBytes { tsb in
            payload.withUnsafeBytes { a.add(stream: .stdout, timestamp: 0, timestampText: tsb, content: $0) { lines.append($0) } }
        }
        XCTAssertEqual(lines.map(\.textString), ["2026-11-29T10:00:00Z a\u{FFFD}\u{FFFD}", "2026-11-29T10:00:00Z é2026-11-29T10:00:00Z \u{FFFD}"])
    }

    func testResumeSkipsDeliveredEntries() throws {
        func frame(_ stream: UInt8, _ text: String) -> [UInt8] {
            let p = Array(text.utf8)
            return [stream, 0, 0, 0, UInt8(p.count >> 24), UInt8(p.count >> 16 & 0xFF), UInt8(p.count >> 8 & 0xFF), UInt8(p.count & 0xFF)] + p
        }
        let t1 = "2026-11-29T10:00:00.000000001Z", t2 = "2026-11-29T10:00:00.000000002Z"
        let stream = frame(1, "\(t1) a\n") + frame(1, "\(t2) b\n") + frame(2, "\(t2) c\n") + frame(1, "\(t2) d\n")
        var d = LogStreamDecoder(tty: false)
        var first: [LogLine] = []
        try Array(stream.prefix(stream.count - frame(1, "\(t2) d\n").count)).withUnsafeBytes { try d.decode($0) { first.append($0) } }
        XCTAssertEqual(first.map(\.textString), ["a", "b", "c"])
        // The engine's `since` is inclusive: it repeats both entries stamped t2.
        let again = frame(1, "\(t2) b\n") + frame(2, "\(t2) c\n") + frame(1, "\(t2) d\n")
        let resumed = try decodeLines(again, tty: false, resume: d.position)
        XCTAssertEqual(resumed.map(\.textString), ["d"])
        // Stamps only grow within a stream: an stderr entry older than the stdout mark is new.
        let p = LogStreamDecoder.Position(stdout: .init(timestamp: 5, count: 1), stderr: .init(timestamp: 2, count: 1))
        XCTAssertEqual(p.resumeTimestamp, 2)
    }

    func testTimestamps() {
        XCTAssertEqual(DockerTimestamp.parse("1970-01-01T00:00:01Z"), 1_000_000_000)
        XCTAssertEqual(DockerTimestamp.parse("2026-11-29T14:16:35.218193371Z"), 1_795_961_795_218_193_371)
        XCTAssertEqual(DockerTimestamp.parse("2026-11-29T14:16:35.2Z"), 1_795_961_795_200_000_000)
        XCTAssertEqual(DockerTimestamp.parse("2026-11-29T15:16:35+01:00"), 1_795_961_795_000_000_000)
        XCTAssertNil(DockerTimestamp.parse("2026-13-29T14:16:35Z"))
        XCTAssertNil(DockerTimestamp.parse("yesterday"))
        XCTAssertEqual(DockerTimestamp.format(1_795_961_795_218_193_371), "2026-11-29T14:16:35.218193371Z")
        XCTAssertEqual(DockerTimestamp.engineParameter(1_795_961_795_000_000_007), "1795961795.000000007")
    }

    func testLogQuery() throws {
        let now: Int64 = 1_000_000 * 1_000_000_000
        let q = try LogQuery.parse(["tail": "5", "since": "10m", "until": "1700000000.5", "stderr": "0", "format": "text", "timestamps": "1"], defaultTail: 100, now: now)
        XCTAssertEqual(q.tail, 5)
        XCTAssertEqual(q.since?.nanoseconds, now - 600 * 1_000_000_000)
        XCTAssertEqual(q.until?.nanoseconds, 1_700_000_000_500_000_000)
        XCTAssertFalse(q.stderr)
        XCTAssertEqual(q.deliveryKey, DeliveryKey(encoding: .textTimestamps, streams: 1))
        XCTAssertEqual(try LogQuery.parse([:], defaultTail: 100).tail, 100)
        XCTAssertNil(try LogQuery.parse(["tail": "all"], defaultTail: 100).tail)
        XCTAssertEqual(try LogQuery.parse(["since": "2026-11-29T14:16:35Z"], defaultTail: 1).since?.nanoseconds, 1_795_961_795_000_000_000)
        XCTAssertEqual(try LogQuery.parse(["since": "1h30m"], defaultTail: 1, now: now).since?.nanoseconds, now - 5400 * 1_000_000_000)
        for (k, v) in [("tail", "-5"), ("tail", "x"), ("since", "soon"), ("stdout", "2"), ("format", "xml"), ("follow", "yes")] {
            XCTAssertThrowsError(try LogQuery.parse([k: v], defaultTail: 1)) { XCTAssertEqual(($0 as! LogQuery.InvalidParameter).name, k) }
        }
        XCTAssertThrowsError(try LogQuery.parse(["stdout": "0", "stderr": "0"], defaultTail: 1))
        // Absurd durations are refused, not overflowed.
        XCTAssertThrowsError(try LogQuery.parse(["since": "99999999999999999999h"], defaultTail: 1))
    }

    func testFrameEncodingOnce() {
        let line = LogLine(timestamp: 1, timestampText: Array("T".utf8), stream: .stderr, text: Array("a\"b\\c\u{1}".utf8))
        var out: [UInt8] = []
        XCTAssertEqual(LogFrameEncoder.append([line], key: DeliveryKey(encoding: .json, streams: 3), to: &out), 1)
        XCTAssertEqual(String(decoding: out[2...], as: UTF8.self), #"{"ts":"T","stream":"stderr","line":"a\"b\\c\u0001"}"#)
        out = []
        XCTAssertEqual(LogFrameEncoder.append([line], key: DeliveryKey(encoding: .text, streams: 1), to: &out), 0)
        XCTAssertEqual(LogFrameEncoder.append([line], key: DeliveryKey(encoding: .textTimestamps, streams: 2), to: &out), 1)
        XCTAssertEqual(String(decoding: out[2...], as: UTF8.self), "T a\"b\\c\u{1}")
    }
}
