import XCTest
@testable import DocktailCore

final class StreamingTests: XCTestCase {
    func line(_ ts: Int64, _ stream: LogStream, _ text: String) -> LogLine {
        LogLine(timestamp: ts, stream: stream, text: text)
    }

    /// The join after a catch-up is per stream: stamps only grow within one stream.
    func testJoinFilterIsPerStream() {
        let lines = [line(5, .stdout, "o5"), line(3, .stderr, "e3"), line(6, .stdout, "o6a"), line(6, .stdout, "o6b"),
                     line(4, .stderr, "e4"), line(7, .stdout, "o7")]
        // History ended at stdout (6, first of two lines stamped 6) and stderr (3).
        var filter = LogStreamDecoder.Position(stdout: .init(timestamp: 6, count: 1), stderr: .init(timestamp: 3, count: 1))
        let out = LogFanOut<LogSubscription>.filterJoin(lines, query: LogQuery(), filter: &filter)
        XCTAssertEqual(out.map(\.textString), ["o6b", "e4", "o7"])
        XCTAssertNil(filter.stdout)
        XCTAssertNil(filter.stderr)
        // A filter that the batch has not passed yet stays for the next batch.
        var pending = LogStreamDecoder.Position(stdout: .init(timestamp: 9, count: 1))
        XCTAssertEqual(LogFanOut<LogSubscription>.filterJoin(lines, query: LogQuery(), filter: &pending).map(\.textString), ["e3", "e4"])
        XCTAssertEqual(pending.stdout, .init(timestamp: 9, count: 1))
        // Stream selection and `since` apply too.
        var q = LogQuery()
        q.stderr = false
        q.since = Timestamp(nanoseconds: 6)
        var none = LogStreamDecoder.Position()
        XCTAssertEqual(LogFanOut<LogSubscription>.filterJoin(lines, query: q, filter: &none).map(\.textString), ["o6a", "o6b", "o7"])
    }

    /// Under backpressure the oldest log lines go first; control frames and a frame already
    /// partly written never do.
    func testOutputQueueDropsOldestLinesOnly() {
        var q = OutputQueue()
        q.append([1, 1, 1, 1], lines: 1)       // partly on the wire below
        q.consume(2)
        q.append([2, 2, 2, 2], lines: 2)
        q.append([9, 9], lines: 0)             // control frame
        q.append([3, 3, 3, 3], lines: 3)       // over the limit: the oldest whole droppable goes
        XCTAssertEqual(q.dropOldest(downTo: 10), 2)
        XCTAssertEqual(q.takeUnannouncedDrops(), 2)
        XCTAssertEqual(q.byteCount, 2 + 2 + 4)
        XCTAssertEqual(OutputQueueTests.drain(&q), [1, 1, 9, 9, 3, 3, 3, 3])
        XCTAssertEqual(q.takeUnannouncedDrops(), 0)
        XCTAssertEqual(q.droppedTotal, 2)
        XCTAssertEqual(q.controlBytes, 0)
    }

    func testRingKeepsNewest() {
        var ring = LogRing(capacity: 3)
        for i in 1...5 { ring.append(line(Int64(i), .stdout, "\(i)")) }
        XCTAssertEqual(ring.lines.map(\.textString), ["3", "4", "5"])
        XCTAssertEqual(ring.oldest?.textString, "3")
        XCTAssertEqual(ring.evicted, 2)
    }

    func testJSONEscapingMatchesFoundation() throws {
        let samples = ["plain", "quote \" and \\ backslash", "tab\tnew\nline\r", "\u{1}\u{1f}", "é€😀", String(repeating: "a\"", count: 40),
                       "12345678\"12345678", "<script>alert(1)</script>"]
        for s in samples {
            var out: [UInt8] = []
            JSONValue.appendString(s, to: &out)
            let decoded = try JSONSerialization.jsonObject(with: Data(out), options: [.fragmentsAllowed]) as? String
            XCTAssertEqual(decoded, s)
            var bytes = Array(s.utf8)
            let length = bytes.withUnsafeMutableBytes { LogFrameEncoder.escapedLength(UnsafeRawBufferPointer($0)) }
            XCTAssertEqual(length + 2, out.count, s)
        }
    }
}

/// The output budget: dropping is exact, oldest first, never control data, and O(1) amortised.
final class OutputQueueTests: XCTestCase {
    /// Writes the whole queue out, a few slices at a time, as a socket would take it.
    static func drain(_ q: inout OutputQueue) -> [UInt8] {
        var written: [UInt8] = []
        while !q.isEmpty {
            let n = q.withIOVecs(max: 3) { iov, count -> Int in
                var total = 0
                for k in 0..<count {
                    let base = iov[k].iov_base!.assumingMemoryBound(to: UInt8.self)
                    written += UnsafeBufferPointer(start: base, count: iov[k].iov_len)
                    total += iov[k].iov_len
                }
                return total
            }
            q.consume(n)
        }
        return written
    }

    func testDropAccountingIsExactUnderALongBurst() {
        var q = OutputQueue()
        var appended = 0, kept = 0
        for i in 0..<100_000 {
            q.append([UInt8(i % 251), 0, 0, 0], lines: 1)
            appended += 1
            if i % 1000 == 0 { q.append([255], lines: 0) }
            q.dropOldest(downTo: 4000)
        }
        let out = Self.drain(&q)
        kept = out.filter { $0 != 255 }.count / 4
        XCTAssertEqual(kept + q.droppedTotal, appended)
        XCTAssertEqual(out.filter { $0 == 255 }.count, 100, "control data is never dropped")
        XCTAssertEqual(q.byteCount, 0)
        XCTAssertEqual(q.controlBytes, 0)
    }

    func testDroppingLooksAtEachChunkOnce() {
        // A cursor makes each chunk examined at most once: O(1) amortised per append.
        var q = OutputQueue()
        for i in 0..<200_000 {
            q.append([1, 2, 3, 4], lines: 1)
            if i % 7 == 0 { q.append([9], lines: 0) }
            q.dropOldest(downTo: 64)
        }
        XCTAssertEqual(q.droppedTotal + (q.byteCount - q.controlBytes) / 4, 200_000)
        XCTAssertLessThanOrEqual(q.dropExaminations, 200_000 + 200_000 / 7 + 1)
    }
}
