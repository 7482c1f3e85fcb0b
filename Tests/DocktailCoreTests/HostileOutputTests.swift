import XCTest
@testable import DocktailCore

/// Container output is input too: a TTY stream has no framing, so a short partial entry (a run
/// that ended without a newline) and forged stamps inside content must not desynchronise the
/// decoder, and no stamp it cannot trust may move a resume position.
final class HostileOutputTests: XCTestCase {
    static let now: Int64 = 1_795_961_795_000_000_000
    let clock: @Sendable () -> Int64 = { HostileOutputTests.now }

    func stamp(_ seconds: Int) -> String { DockerTimestamp.format(Self.now - 3_600_000_000_000 + Int64(seconds) * 1_000_000_000) }

    /// Decodes `bytes` whole and split at every offset; all results must agree.
    func decodeEverySplit(_ bytes: [UInt8], tty: Bool, file: StaticString = #filePath, line: UInt = #line) -> ([LogLine], LogStreamDecoder.Position) {
        func run(_ cut: Int?) -> ([LogLine], LogStreamDecoder.Position) {
            var d = LogStreamDecoder(tty: tty, maxLineBytes: 1 << 20, now: clock)
            var out: [LogLine] = []
            let pieces = cut.map { [Array(bytes[..<$0]), Array(bytes[$0...])] } ?? [bytes]
            for p in pieces { try! p.withUnsafeBytes { try d.decode($0) { out.append($0) } } }
            d.finish { out.append($0) }
            return (out, d.position)
        }
        let whole = run(nil)
        for cut in 0...bytes.count {
            let split = run(cut)
            XCTAssertEqual(split.0.map(\.textString), whole.0.map(\.textString), "cut at \(cut)", file: file, line: line)
            XCTAssertEqual(split.1, whole.1, "cut at \(cut)", file: file, line: line)
        }
        return whole
    }

    func testShortPartialEntryThenRestartKeepsFraming() {
        // Run 1 ends on "abc" without a newline; run 2 starts with its own entries.
        let bytes = Array("\(stamp(1)) one\r\n\(stamp(2)) abc\(stamp(5)) two\r\n\(stamp(6)) three\r\n".utf8)
        let (lines, position) = decodeEverySplit(bytes, tty: true)
        // The short entry ended its run mid-line: that line ends there; the next run's is its own.
        XCTAssertEqual(lines.map(\.textString), ["one", "abc", "two", "three"])
        XCTAssertFalse(lines.contains { $0.textString.contains("T") }, "no engine stamp inside a line")
        XCTAssertEqual(position.stdout?.timestamp, DockerTimestamp.parse(stamp(6)))
    }

    func testForgedFutureStampIsContentAndNeverAResumePoint() {
        let forged = "2099-01-01T00:00:00.000000000Z "
        let long = String(repeating: "x", count: 100)
        let bytes = Array("\(stamp(1)) \(long)\(forged)evil\r\n\(stamp(2)) after\r\n".utf8)
        let (lines, position) = decodeEverySplit(bytes, tty: true)
        XCTAssertEqual(lines.map(\.textString), [long + forged + "evil", "after"])
        XCTAssertEqual(position.stdout?.timestamp, DockerTimestamp.parse(stamp(2)))
    }

    func testForgedPastStampInsideContentIsContent() {
        let bytes = Array("\(stamp(10)) ts=\(stamp(3)) level=info\r\n\(stamp(11)) next\r\n".utf8)
        let (lines, _) = decodeEverySplit(bytes, tty: true)
        XCTAssertEqual(lines.map(\.textString), ["ts=\(stamp(3)) level=info", "next"])
    }

    func testSixteenKiBEntryEndingInAForgedStamp() {
        // 16384 bytes of content is a full entry; the engine's next stamp follows it.
        let body = String(repeating: "y", count: 16384 - 30) + "2099-01-01T00:00:00.000000000Z"
        let bytes = Array("\(stamp(1)) \(body)\(stamp(2)) tail\r\n\(stamp(3)) later\r\n".utf8)
        var d = LogStreamDecoder(tty: true, now: clock)
        var out: [LogLine] = []
        bytes.withUnsafeBytes { try! d.decode($0) { out.append($0) } }
        d.finish { out.append($0) }
        XCTAssertEqual(out.map(\.textString), [body + "tail", "later"])
        XCTAssertEqual(d.position.stdout?.timestamp, DockerTimestamp.parse(stamp(3)))
    }

    func testMultiplexedStampsThatGoBackOrAheadDoNotMoveThePosition() {
        func frame(_ text: String) -> [UInt8] {
            let p = Array(text.utf8)
            return [1, 0, 0, 0] + withUnsafeBytes(of: UInt32(p.count).bigEndian, Array.init) + p
        }
        let bytes = frame("\(stamp(5)) a\n") + frame("2099-01-01T00:00:00Z b\n") + frame("\(stamp(1)) c\n")
        let (lines, position) = decodeEverySplit(bytes, tty: false)
        XCTAssertEqual(lines.map(\.textString), ["a", "b", "c"])
        XCTAssertEqual(position.stdout?.timestamp, DockerTimestamp.parse(stamp(5)))
    }

    // MARK: tail counts lines as users see them

    func line(_ s: Int, _ text: String, _ stream: LogStream = .stdout) -> LogLine {
        LogLine(timestamp: Int64(s), stream: stream, text: text)
    }

    func testTailDropsTheUncertainFirstLineUnlessWholeLog() {
        var l = LogTailLocator(want: 2, streams: 3, byteBudget: 1 << 20)
        XCTAssertEqual(l.requestedEntries, 4)
        l.beginPass()
        for (i, t) in ["fragment", "b", "c", "d"].enumerated() { l.add(line(i + 1, t)) }
        XCTAssertEqual(l.finishPass(entries: 4), .lines([line(3, "c"), line(4, "d")]))
        // Fewer entries than asked for: the whole log, the first line is a line.
        l.beginPass()
        for (i, t) in ["a", "b"].enumerated() { l.add(line(i + 1, t)) }
        XCTAssertEqual(l.finishPass(entries: 2), .lines([line(1, "a"), line(2, "b")]))
    }

    func testTailAsksForMoreWhenLongLinesUseManyEntries() {
        var l = LogTailLocator(want: 3, streams: 1, byteBudget: 1 << 20)
        l.beginPass()
        l.add(line(1, "uncertain"))
        l.add(line(2, "one long line"))
        guard case .readAgain(let more) = l.finishPass(entries: l.requestedEntries) else { return XCTFail() }
        XCTAssertEqual(more, l.requestedEntries * 4)
        l.widen(to: more)
        l.beginPass()
        for i in 1...5 { l.add(line(i, "l\(i)")); l.add(line(i, "e\(i)", .stderr)) }
        XCTAssertEqual(l.finishPass(entries: more), .lines([line(3, "l3"), line(4, "l4"), line(5, "l5")]))
    }

    func testTailOverTheByteBudgetStreamsFromAMark() {
        var l = LogTailLocator(want: 2, streams: 3, byteBudget: 40)
        l.beginPass()
        for i in 1...4 { l.add(line(i, String(repeating: "z", count: 30))) }
        XCTAssertEqual(l.finishPass(entries: 4), .streamFrom(.init(stream: .stdout, timestamp: 3, ordinal: 1)))
    }

    func testTailArithmeticNeverTraps() {
        for want in [1, LogQuery.maxTail, Int.max / 2, Int.max] {
            var l = LogTailLocator(want: want, streams: 1, byteBudget: 0)
            XCTAssertLessThanOrEqual(l.requestedEntries, LogTailLocator.maxRequestedEntries)
            l.beginPass()
            if case .readAgain(let n) = l.finishPass(entries: l.requestedEntries) { l.widen(to: n) }
            XCTAssertLessThanOrEqual(l.requestedEntries, LogTailLocator.maxRequestedEntries)
        }
    }
}
