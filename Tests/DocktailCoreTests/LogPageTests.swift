import XCTest
@testable import DocktailCore

/// History pages (issue 11): `LogPageLocator` fed by a simulated engine whose `tail=K` answers
/// the last K entries of a multiplexed log, decoded by the real `LogStreamDecoder`, so lines
/// over 16 KiB (several entries, one stamp), same-stamp runs cut by the window start and stdout
/// and stderr stamps out of order behave as they do from dockerd. Paging from the newest page to
/// the first must give every line of the log once, in order, while the "container" keeps
/// writing; and `LogPageCursor` must refuse anything it did not issue, without trapping.
final class LogPageTests: XCTestCase {
    /// One engine entry: `content` ends with a newline unless it is a 16 KiB piece of a longer line.
    struct Entry {
        var stream: LogStream
        var ts: Int64
        var content: [UInt8]
    }

    /// A log that grows; stamps from a seeded generator.
    struct SimulatedLog {
        var entries: [Entry] = []
        var rng: UInt64
        var clock: Int64 = 1_000_000_000_000
        var last: [LogStream: Int64] = [:]
        var number = 0

        init(seed: UInt64) { rng = seed | 1 }

        mutating func random(_ n: UInt64) -> UInt64 {
            rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17
            return rng % n
        }

        /// Appends `count` lines: mostly stdout, some stderr; some share their stream's last
        /// stamp (runs), some are stamped just before the other stream's last entry (the
        /// engine's two copiers), some are over 16 KiB (several entries).
        mutating func write(_ count: Int, sameStampPercent: UInt64 = 15, longPercent: UInt64 = 3, invertPercent: UInt64 = 10) {
            for _ in 0..<count {
                number += 1
                let stream: LogStream = random(4) == 0 ? .stderr : .stdout
                clock += 10
                var ts = clock
                if random(100) < invertPercent { ts -= 15 }
                if let l = last[stream] {
                    ts = max(ts, l)
                    if random(100) < sameStampPercent { ts = l }
                }
                last[stream] = ts
                let text = Array("\(stream.name) line \(number)".utf8)
                if random(100) < longPercent {
                    // Two full pieces and a short last one, all with the first piece's stamp.
                    let piece = text + [UInt8](repeating: UInt8(ascii: "x"), count: LogStreamDecoder.ttyEntryLimit - text.count)
                    entries.append(Entry(stream: stream, ts: ts, content: piece))
                    entries.append(Entry(stream: stream, ts: ts, content: [UInt8](repeating: UInt8(ascii: "y"), count: LogStreamDecoder.ttyEntryLimit)))
                    entries.append(Entry(stream: stream, ts: ts, content: Array("end \(number)\n".utf8)))
                } else {
                    entries.append(Entry(stream: stream, ts: ts, content: text + [0x0A]))
                }
            }
        }

        /// After a pause: later entries are stamped after everything written so far (a line
        /// written after a page was read that shares the stamp of that page's newest line is the
        /// one race the pages leave open; see the README).
        mutating func pause() {
            clock += 1_000
            last = [:]
        }

        /// `tail=k` of both streams, decoded as `LogFetch` decodes it; and how many entries came.
        func tail(_ k: Int) -> ([LogLine], Int) {
            let window = entries.suffix(max(0, k))
            return (LogPageTests.decode(window), window.count)
        }

        var allLines: [LogLine] { LogPageTests.decode(entries[...]) }
    }

    static func decode(_ entries: ArraySlice<Entry>) -> [LogLine] {
        var bytes: [UInt8] = []
        for e in entries {
            let payload = Array(DockerTimestamp.format(e.ts).utf8) + [0x20] + e.content
            let n = UInt32(payload.count)
            bytes += [e.stream.rawValue, 0, 0, 0, UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)]
            bytes += payload
        }
        var decoder = LogStreamDecoder(tty: false, maxLineBytes: 1 << 20, now: { Timestamp.upperBound - 1 })
        var out: [LogLine] = []
        try! bytes.withUnsafeBytes { try decoder.decode($0) { out.append($0) } }
        decoder.finish { out.append($0) }
        return out
    }

    /// What `LogPageReader` does: passes until the locator has its page.
    func page(_ log: SimulatedLog, limit: Int, cursor: LogPageCursor, streams: UInt8 = 3, predicate: LogLinePredicate? = nil,
              budget: Int = 1 << 30, passes: inout Int) -> LogPageLocator.Page {
        var locator = LogPageLocator(limit: limit, streams: streams, cursor: cursor, predicate: predicate, byteBudget: budget)
        while true {
            passes += 1
            locator.beginPass()
            let (lines, entries) = log.tail(locator.requestedEntries)
            for line in lines { locator.add(line) }
            switch locator.finishPass(entries: entries) {
            case .readAgain(let more):
                XCTAssertGreaterThan(more, locator.requestedEntries)
                locator.widen(to: more)
            case .page(let p):
                return p
            }
        }
    }

    /// Pages from the newest to the first (the log grows by `writesBetweenPages` lines after
    /// each page) and checks the result against the log as it was when the first page was read.
    func checkPaging(seed: UInt64, lines: Int, limit: Int, streams: UInt8 = 3, predicate: LogLinePredicate? = nil,
                     budget: Int = 1 << 30, writesBetweenPages: Int = 0, sameStampPercent: UInt64 = 15, longPercent: UInt64 = 3,
                     file: StaticString = #filePath, line: UInt = #line) {
        var log = SimulatedLog(seed: seed)
        log.write(lines, sameStampPercent: sameStampPercent, longPercent: longPercent)
        let expected = log.allLines.filter { streams & $0.stream.rawValue != 0 && (predicate?.matches($0) ?? true) }
        var pages: [[LogLine]] = []
        var cursor = LogPageCursor.newest
        var passes = 0
        for _ in 0..<(lines * 4 + 10) {
            let p = page(log, limit: limit, cursor: cursor, streams: streams, predicate: predicate, budget: budget, passes: &passes)
            XCTAssertLessThanOrEqual(p.lines.count, limit, file: file, line: line)
            pages.append(p.lines)
            guard let next = p.cursor else { break }
            XCTAssertFalse(p.lines.isEmpty, "a page with a cursor moves back", file: file, line: line)
            // The cursor survives the round trip a client makes.
            XCTAssertEqual(try LogPageCursor.decode(next.encoded), next, file: file, line: line)
            cursor = next
            if writesBetweenPages > 0 {
                log.pause()
                log.write(writesBetweenPages, sameStampPercent: sameStampPercent, longPercent: longPercent)
            }
        }
        let got = pages.reversed().flatMap { $0 }
        XCTAssertEqual(got.count, expected.count, "seed \(seed) limit \(limit)", file: file, line: line)
        XCTAssertTrue(got == expected, "seed \(seed) limit \(limit): first difference at \(zip(got, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? -1)", file: file, line: line)
    }

    func line(_ ts: Int64, _ stream: LogStream = .stdout, _ text: String) -> LogLine {
        LogLine(timestamp: ts, stream: stream, text: text)
    }

    // MARK: paging a whole log

    func testPagingYieldsEveryLineOnceInOrder() {
        for seed: UInt64 in [1, 2, 3, 4, 5] {
            for limit in [1, 3, 7, 50, 5000] {
                checkPaging(seed: seed &* 7919, lines: 300, limit: limit)
            }
        }
    }

    func testPagingWhileTheContainerKeepsWriting() {
        for seed: UInt64 in [11, 12, 13] {
            for limit in [1, 5, 40] {
                checkPaging(seed: seed, lines: 160, limit: limit, writesBetweenPages: 17)
            }
        }
    }

    func testPagingLongRunsOfOneStamp() {
        // Most lines share their predecessor's stamp, so windows start inside runs; with long
        // lines in the runs too, and while the container keeps writing.
        var log = SimulatedLog(seed: 21)
        log.write(200, sameStampPercent: 90, longPercent: 0)
        XCTAssertLessThan(Set(log.entries.map(\.ts)).count, 60)
        for seed: UInt64 in [21, 22] {
            for limit in [1, 2, 7, 30] { checkPaging(seed: seed, lines: 200, limit: limit, sameStampPercent: 90, longPercent: 0) }
        }
        for limit in [1, 4, 9] {
            checkPaging(seed: 23, lines: 150, limit: limit, sameStampPercent: 80, longPercent: 10)
            checkPaging(seed: 24, lines: 150, limit: limit, writesBetweenPages: 11, sameStampPercent: 80, longPercent: 10)
        }
    }

    func testPagingOneStreamAndAPredicate() {
        let sevens = LogLinePredicate { $0.textString.contains("7") }
        for limit in [1, 4, 25] {
            checkPaging(seed: 31, lines: 300, limit: limit, streams: 1)
            checkPaging(seed: 32, lines: 300, limit: limit, streams: 2)
            checkPaging(seed: 33, lines: 300, limit: limit, predicate: sevens)
            checkPaging(seed: 34, lines: 300, limit: limit, streams: 2, predicate: sevens, writesBetweenPages: 9)
        }
        // Nothing matches: the widening reaches the whole log, which answers an empty last page.
        let none = LogLinePredicate { _ in false }
        checkPaging(seed: 35, lines: 200, limit: 10, predicate: none)
    }

    func testPagingUnderASmallByteBudget() {
        // Pages hold fewer (the newest) lines, still exact; a line over the budget alone still
        // makes a page, so paging always moves.
        for budget in [0, 90, 400, 20_000] {
            checkPaging(seed: 41, lines: 200, limit: 10, budget: budget)
            checkPaging(seed: 42, lines: 120, limit: 3, budget: budget, writesBetweenPages: 5)
        }
    }

    // MARK: the rules one by one

    /// The window starts inside a run of lines stamped 5: their ordinals are not known, so the
    /// page may not reach back to them; the locator reads further.
    func testUncertainRunAtTheWindowStartIsNotPaged() {
        var log = SimulatedLog(seed: 1)
        for (ts, text) in [(1, "a"), (5, "b"), (5, "c"), (5, "d"), (6, "e")] {
            log.entries.append(Entry(stream: .stdout, ts: Int64(ts), content: Array("\(text)\n".utf8)))
        }
        var l = LogPageLocator(limit: 2, streams: 3, cursor: .newest, predicate: nil, byteBudget: 1 << 20)
        XCTAssertEqual(l.requestedEntries, 2 * 2 + LogPageLocator.slackEntries)
        // A window of the last 3 entries by hand: c and d are uncertain, only e is certain.
        l.beginPass()
        for line in log.tail(3).0 { l.add(line) }
        guard case .readAgain = l.finishPass(entries: 3 + 1_000) else { return XCTFail("c and d are uncertain") }
        // The whole log: everything is certain.
        l.beginPass()
        for line in log.tail(5).0 { l.add(line) }
        guard case .page(let p) = l.finishPass(entries: 5) else { return XCTFail() }
        XCTAssertEqual(p.lines.map(\.textString), ["d", "e"])
        // d is the third line stamped 5.
        XCTAssertEqual(p.cursor, LogPageCursor(stdout: .before(5, ordinal: 3), stderr: .upTo(6), hint: 2))
        // The page before: strictly before the third line stamped 5.
        var passes = 0
        let before = page(log, limit: 10, cursor: p.cursor!, passes: &passes)
        XCTAssertEqual(before.lines.map(\.textString), ["a", "b", "c"])
        XCTAssertNil(before.cursor)
    }

    /// A line whose first pieces lie before the window looks like a short line: never paged
    /// from that window.
    func testLineContinuedFromBeforeTheWindowIsNotPaged() {
        var log = SimulatedLog(seed: 1)
        let piece = [UInt8](repeating: UInt8(ascii: "p"), count: LogStreamDecoder.ttyEntryLimit)
        log.entries = [Entry(stream: .stdout, ts: 1, content: piece), Entry(stream: .stdout, ts: 1, content: Array("tail\n".utf8)),
                       Entry(stream: .stdout, ts: 2, content: Array("next\n".utf8))]
        var l = LogPageLocator(limit: 2, streams: 1, cursor: .newest, predicate: nil, byteBudget: 1 << 30)
        l.beginPass()
        for line in log.tail(2).0 { l.add(line) }
        XCTAssertEqual(log.tail(2).0.map(\.textString), ["tail", "next"])
        guard case .readAgain = l.finishPass(entries: 2 + 1_000) else { return XCTFail("'tail' may be a fragment") }
        var passes = 0
        let p = page(log, limit: 2, cursor: .newest, passes: &passes)
        XCTAssertEqual(p.lines.map { $0.text.count }, [LogStreamDecoder.ttyEntryLimit + 4, 4])
        XCTAssertNil(p.cursor)
    }

    /// stderr's only line in the window is its first (uncertain) and newer than older stdout
    /// lines: the page stops after it instead of putting it one page late (out of order).
    func testPagesKeepOrderAcrossStreams() {
        var log = SimulatedLog(seed: 1)
        for i in 1...200 { log.entries.append(Entry(stream: .stdout, ts: Int64(i * 10), content: Array("o\(i)\n".utf8))) }
        log.entries.insert(Entry(stream: .stderr, ts: 1985, content: Array("e\n".utf8)), at: 199)
        var passes = 0
        let p = page(log, limit: 3, cursor: .newest, passes: &passes)
        XCTAssertEqual(p.lines.map(\.textString), ["o199", "e", "o200"])
        XCTAssertEqual(passes, 2, "the first window does not say whether 'e' continues an older line")
        // The lone stderr line bounds its stream afterwards: the next pages need not read back
        // to before it (its ordinal can only be too small, so it is out for sure).
        var cursor = p.cursor!
        var all = p.lines
        var pages = 0
        while true {
            passes = 0
            let q = page(log, limit: 3, cursor: cursor, passes: &passes)
            pages += 1
            if pages == 1 { XCTAssertEqual(passes, 1) }
            all.insert(contentsOf: q.lines, at: 0)
            guard let c = q.cursor else { break }
            cursor = c
        }
        XCTAssertEqual(all, log.allLines)
    }

    /// Stamps out of order across streams do not matter: bounds are per stream.
    func testMisorderedStreams() {
        var log = SimulatedLog(seed: 1)
        log.entries = [Entry(stream: .stdout, ts: 100, content: Array("o1\n".utf8)), Entry(stream: .stderr, ts: 90, content: Array("e1\n".utf8)),
                       Entry(stream: .stdout, ts: 110, content: Array("o2\n".utf8)), Entry(stream: .stderr, ts: 105, content: Array("e2\n".utf8)),
                       Entry(stream: .stdout, ts: 120, content: Array("o3\n".utf8))]
        var got: [String] = []
        var cursor = LogPageCursor.newest
        while true {
            var passes = 0
            let p = page(log, limit: 1, cursor: cursor, passes: &passes)
            got.insert(contentsOf: p.lines.map(\.textString), at: 0)
            guard let c = p.cursor else { break }
            cursor = c
        }
        XCTAssertEqual(got, ["o1", "e1", "o2", "e2", "o3"])
    }

    /// The first page's snapshot: a stream without a line in the page is bounded by what was
    /// read, so lines written later never reach older pages.
    func testFirstPageSnapshotsStreamsWithoutLines() {
        var l = LogPageLocator(limit: 2, streams: 1, cursor: .newest, predicate: nil, byteBudget: 1 << 20)
        l.beginPass()
        for t in 1...4 { l.add(line(Int64(t * 10), .stdout, "o\(t)")) }
        l.add(line(33, .stderr, "e1"))
        l.add(line(33, .stderr, "e2"))
        l.add(line(45, .stderr, "e3"))
        l.add(line(50, .stdout, "o5"))
        guard case .page(let p) = l.finishPass(entries: 1_000) else { return XCTFail() }
        XCTAssertEqual(p.lines.map(\.textString), ["o4", "o5"])
        // stderr (not selected, not in the page): through its last line read, exactly.
        XCTAssertEqual(p.cursor?.stdout, .before(40, ordinal: 1))
        XCTAssertEqual(p.cursor?.stderr, .before(45, ordinal: 2))
        // A stream never seen: up to the newest stamp read.
        var m = LogPageLocator(limit: 1, streams: 3, cursor: .newest, predicate: nil, byteBudget: 1 << 20)
        m.beginPass()
        for t in 1...3 { m.add(line(Int64(t), .stdout, "o")) }
        guard case .page(let q) = m.finishPass(entries: 1_000) else { return XCTFail() }
        XCTAssertEqual(q.cursor, LogPageCursor(stdout: .before(3, ordinal: 1), stderr: .upTo(3), hint: 1))
    }

    func testBudgetEvictsOldestButKeepsOneLine() {
        var l = LogPageLocator(limit: 5, streams: 3, cursor: .newest, predicate: nil, byteBudget: 10)
        l.beginPass()
        for t in 1...4 { l.add(line(Int64(t), .stdout, String(repeating: "z", count: 100))) }
        guard case .page(let p) = l.finishPass(entries: 4) else { return XCTFail() }
        XCTAssertEqual(p.lines.map(\.timestamp), [4])
        XCTAssertEqual(p.cursor?.stdout, .before(4, ordinal: 1))
        // Room for two (each line costs its JSON object and a comma).
        let cost = LogLineJSON.encodedLength(line(1, .stdout, String(repeating: "z", count: 100))) + 1
        var m = LogPageLocator(limit: 5, streams: 3, cursor: .newest, predicate: nil, byteBudget: 2 * cost)
        m.beginPass()
        for t in 1...4 { m.add(line(Int64(t), .stdout, String(repeating: "z", count: 100))) }
        guard case .page(let q) = m.finishPass(entries: 4) else { return XCTFail() }
        XCTAssertEqual(q.lines.map(\.timestamp), [3, 4])
        XCTAssertNotNil(q.cursor)
        // Nothing left out of the whole log: no cursor.
        var n = LogPageLocator(limit: 5, streams: 3, cursor: .newest, predicate: nil, byteBudget: 1 << 20)
        n.beginPass()
        for t in 1...4 { n.add(line(Int64(t), .stdout, "z")) }
        guard case .page(let r) = n.finishPass(entries: 4) else { return XCTFail() }
        XCTAssertEqual(r.lines.count, 4)
        XCTAssertNil(r.cursor)
    }

    func testEmptyLogAndEmptySelection() {
        var l = LogPageLocator(limit: 5, streams: 2, cursor: .newest, predicate: nil, byteBudget: 1 << 20)
        l.beginPass()
        XCTAssertEqual(l.finishPass(entries: 0), .page(.init(lines: [], cursor: nil)))
        l.beginPass()
        for t in 1...3 { l.add(line(Int64(t), .stdout, "o")) }
        XCTAssertEqual(l.finishPass(entries: 3), .page(.init(lines: [], cursor: nil)))
    }

    func testWideningAndHint() {
        let c = LogPageCursor(stdout: .before(100, ordinal: 1), stderr: .before(100, ordinal: 1), hint: 1_000)
        var l = LogPageLocator(limit: 10, streams: 3, cursor: c, predicate: nil, byteBudget: 1 << 20)
        XCTAssertEqual(l.requestedEntries, 1_000 + 20 + LogPageLocator.slackEntries)
        l.beginPass()
        guard case .readAgain(let four) = l.finishPass(entries: l.requestedEntries) else { return XCTFail() }
        XCTAssertEqual(four, l.requestedEntries * 4)
        l.widen(to: four)
        l.beginPass()
        for t in 1...6 { l.add(line(Int64(t), .stdout, "o")) }
        guard case .readAgain(let two) = l.finishPass(entries: l.requestedEntries) else { return XCTFail() }
        XCTAssertEqual(two, l.requestedEntries * 2, "half a page found: twice as many")
    }

    func testArithmeticNeverTraps() {
        for limit in [Int.min, -1, 0, 1, 5000, Int.max / 2, Int.max] {
            for hint in [0, LogPageCursor.maxHint, Int.max] {
                var l = LogPageLocator(limit: limit, streams: 3, cursor: LogPageCursor(stdout: .all, stderr: .all, hint: hint),
                                       predicate: nil, byteBudget: Int.max)
                XCTAssertLessThanOrEqual(l.requestedEntries, LogPageLocator.maxRequestedEntries)
                l.beginPass()
                l.add(line(Timestamp.upperBound - 1, .stdout, "last"))
                l.add(line(Timestamp.upperBound - 1, .stdout, "again"))
                if case .readAgain(let n) = l.finishPass(entries: l.requestedEntries) { l.widen(to: n) }
                l.widen(to: Int.max)
                XCTAssertLessThanOrEqual(l.requestedEntries, LogPageLocator.maxRequestedEntries)
                if case .page(let p) = l.finishPass(entries: l.requestedEntries), let c = p.cursor {
                    XCTAssertEqual(try LogPageCursor.decode(c.encoded), c)
                }
            }
        }
    }

    // MARK: the cursor

    func testCursorRoundTrips() throws {
        let bounds: [LogPageCursor.Bound] = [.all, .upTo(0), .upTo(Timestamp.upperBound - 1), .before(0, ordinal: 1),
                                             .before(1_795_961_795_123_456_789, ordinal: 42),
                                             .before(Timestamp.upperBound - 1, ordinal: LogPageCursor.maxOrdinal)]
        for a in bounds {
            for b in bounds {
                for hint in [0, 1, 123_456, LogPageCursor.maxHint] {
                    let c = LogPageCursor(stdout: a, stderr: b, hint: hint)
                    let e = c.encoded
                    XCTAssertLessThanOrEqual(e.utf8.count, LogPageCursor.maxEncodedLength)
                    XCTAssertTrue(e.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x5F }, e)
                    XCTAssertEqual(try LogPageCursor.decode(e), c)
                }
            }
        }
        XCTAssertEqual(LogPageCursor(stdout: .before(5, ordinal: 3), stderr: .upTo(6), hint: 2).text, "1|b5:3|u6|2")
    }

    func testBase64URL() {
        for n in 0..<40 {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 250) }
            let e = LogPageCursor.base64URL(bytes)
            XCTAssertEqual(LogPageCursor.fromBase64URL(Array(e.utf8)), bytes)
        }
        XCTAssertEqual(LogPageCursor.base64URL(Array("1|a|a|0".utf8)), "MXxhfGF8MA")
    }

    func testForgedCursorsAreRefused() {
        func b64(_ s: String) -> String { LogPageCursor.base64URL(Array(s.utf8)) }
        let hostile: [String] = [
            "", "=", "MXxhfGF8MA==", "MXxhfGF8MA=", "MXxhfGF8M", "MXxhfGF8MB", "MXxhfGF8MA.", "MXxh fGF8MA", "MXxh+GF8MA", "MXxh/GF8MA",
            String(repeating: "A", count: 201), String(repeating: "M", count: 100_000), "é", "\u{0}",
            b64("1|a|a"), b64("1|a|a|0|0"), b64("2|a|a|0"), b64("0|a|a|0"), b64("01|a|a|0"), b64("1|A|a|0"), b64("1|a|a|"),
            b64("1|a|a|-1"), b64("1|a|a|+1"), b64("1|a|a|01"), b64("1|a|a| 1"), b64("1|a|a|1 "), b64("1|a|a|1073741825"),
            b64("1|a|a|99999999999999999999999"), b64("1|ax|a|0"), b64("1|u|a|0"), b64("1|u-1|a|0"), b64("1|u01|a|0"),
            b64("1|u9214646400000000000|a|0"), b64("1|u9223372036854775807|a|0"), b64("1|u9223372036854775808|a|0"),
            b64("1|b5|a|0"), b64("1|b5:|a|0"), b64("1|b:1|a|0"), b64("1|b5:0|a|0"), b64("1|b5:-1|a|0"), b64("1|b5:1:1|a|0"),
            b64("1|b5:2147483649|a|0"), b64("1|b5:01|a|0"), b64("1|b-5:1|a|0"), b64("1|b5:1|a|0\n"), b64("1|b5:1|a|0\u{0}"),
            b64("1|a|a|0|"), b64("|1|a|a|0"), b64("1||a|0"), b64("1|a|a|0".uppercased()),
            LogPageCursor.base64URL([0xFF, 0xFE, 0x7C]), LogPageCursor.base64URL([0x31, 0x7C, 0xC3]),
        ]
        for h in hostile {
            XCTAssertThrowsError(try LogPageCursor.decode(h), h)
        }
        // Values just inside the ranges are fine.
        XCTAssertNoThrow(try LogPageCursor.decode(b64("1|b9214646399999999999:2147483648|u0|1073741824")))
    }

    // MARK: parameters

    func testPageQuery() throws {
        var q = try LogPageQuery.parse([:])
        XCTAssertEqual(q.limit, 500)
        XCTAssertEqual(q.cursor, .newest)
        XCTAssertEqual(q.streams, 3)
        q = try LogPageQuery.parse(["limit": "5000", "stdout": "0"])
        XCTAssertEqual(q.limit, 5000)
        XCTAssertEqual(q.streams, 2)
        let c = LogPageCursor(stdout: .before(7, ordinal: 2), stderr: .upTo(9), hint: 3)
        XCTAssertEqual(try LogPageQuery.parse(["cursor": c.encoded]).cursor, c)
        // The viewer's entry point.
        let ts = "2026-11-30T01:52:50.203945958Z"
        let t = DockerTimestamp.parse(ts)!
        XCTAssertEqual(try LogPageQuery.parse(["before": ts, "stream": "stderr", "ordinal": "4"]).cursor,
                       LogPageCursor(stdout: .before(t, ordinal: 1), stderr: .before(t, ordinal: 4)))
        XCTAssertEqual(try LogPageQuery.parse(["before": ts, "stream": "stdout"]).cursor,
                       LogPageCursor(stdout: .before(t, ordinal: 1), stderr: .before(t, ordinal: 1)))
        XCTAssertEqual(try LogPageQuery.parse(["before": ts]).cursor,
                       LogPageCursor(stdout: .before(t, ordinal: 1), stderr: .before(t, ordinal: 1)))
        let bad: [([String: String], String)] = [
            (["limit": "0"], "limit"), (["limit": "5001"], "limit"), (["limit": "-1"], "limit"), (["limit": "1e3"], "limit"),
            (["limit": ""], "limit"), (["limit": "99999999999999999999"], "limit"), (["limit": " 5"], "limit"),
            (["cursor": "x"], "cursor"), (["cursor": ""], "cursor"), (["cursor": c.encoded + "A"], "cursor"),
            (["before": "soon"], "before"), (["before": ts, "cursor": c.encoded], "before"), (["before": "-1"], "before"),
            (["before": ts, "stream": "both"], "stream"), (["stream": "stdout"], "stream"), (["ordinal": "2"], "ordinal"),
            (["before": ts, "ordinal": "2"], "ordinal"), (["before": ts, "stream": "stdout", "ordinal": "0"], "ordinal"),
            (["before": ts, "stream": "stdout", "ordinal": "2147483649"], "ordinal"),
            (["before": ts, "stream": "stdout", "ordinal": "99999999999999999999999"], "ordinal"),
            (["stdout": "0", "stderr": "0"], "stdout"), (["stderr": "2"], "stderr"),
            (["grep": "(unclosed"], "grep"), (["grep": "a", "icase": "yes"], "icase"),
            (["grep": String(repeating: "a", count: 5000)], "grep"),
        ]
        for (query, name) in bad {
            XCTAssertThrowsError(try LogPageQuery.parse(query), "\(query)") { error in
                XCTAssertEqual((error as? LogQuery.InvalidParameter)?.name, name, "\(query)")
            }
        }
        let grep = try LogPageQuery.parse(["grep": "ERR(OR)?", "icase": "1"]).predicate!
        XCTAssertTrue(grep.matches(line(1, .stdout, "an error here")))
        XCTAssertFalse(grep.matches(line(1, .stdout, "fine")))
        // The stamp is not the text: a pattern for the stamp matches nothing.
        XCTAssertFalse(try LogPageQuery.parse(["grep": "1970"]).predicate!.matches(line(1, .stdout, "x")))
    }

    func testDownloadQueryAndFilename() throws {
        var q = try LogDownloadQuery.parse(["since": "1700000000", "until": "1700000001.5", "stderr": "0", "timestamps": "1"])
        XCTAssertEqual(q.engineQuery, "stdout=1&stderr=0&timestamps=1&follow=0&tail=all&since=1700000000.000000000&until=1700000001.500000000")
        var out: [UInt8] = []
        q.append(line(1, .stdout, "a \"quoted\"\tline"), format: .text, to: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "1970-01-01T00:00:00.000000001Z a \"quoted\"\tline\n")
        q.timestamps = false
        out = []
        q.append(line(1, .stderr, "a \"quoted\"\tline"), format: .text, to: &out)
        q.append(line(1, .stderr, "a \"quoted\"\tline\u{1}"), format: .jsonLines, to: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self),
                       "a \"quoted\"\tline\n{\"ts\":\"1970-01-01T00:00:00.000000001Z\",\"stream\":\"stderr\",\"line\":\"a \\\"quoted\\\"\\tline\\u0001\"}\n")
        for (query, name) in [(["since": "x"], "since"), (["until": "2263-01-01T00:00:00Z"], "until"), (["stdout": "0", "stderr": "0"], "stdout"),
                              (["timestamps": "2"], "timestamps"), (["grep": "a("], "grep")] {
            XCTAssertThrowsError(try LogDownloadQuery.parse(query)) { XCTAssertEqual(($0 as? LogQuery.InvalidParameter)?.name, name) }
        }
        XCTAssertEqual(LogDownloadQuery.filename(containerName: "web.1", extension: "log"), "web.1.log")
        XCTAssertEqual(LogDownloadQuery.filename(containerName: "..\"a/b\\c\r\né", extension: "log"), "_a_b_c____.log")
        XCTAssertEqual(LogDownloadQuery.filename(containerName: "", extension: "jsonl"), "container.jsonl")
        XCTAssertEqual(LogDownloadQuery.filename(containerName: String(repeating: "n", count: 300), extension: "log").count, 104)
    }

    func testLineJSONLengthIsExact() {
        for text in ["", "plain", "q\"b\\n\n r\r t\t", "\u{1}\u{1f}\u{7f}", "é€😀", String(repeating: "\"", count: 50)] {
            for stream in [LogStream.stdout, .stderr] {
                let l = line(1_795_961_795_123_456_789, stream, text)
                var out: [UInt8] = []
                LogLineJSON.append(l, to: &out)
                XCTAssertEqual(out.count, LogLineJSON.encodedLength(l))
                let obj = try! JSONSerialization.jsonObject(with: Data(out)) as! [String: String]
                XCTAssertEqual(obj, ["ts": l.timestampText, "stream": stream.name, "line": text])
            }
        }
        let body = LogPageReader.responseBody(.init(lines: [line(1, .stdout, "a")], cursor: LogPageCursor(stdout: .upTo(1), stderr: .all)))
        let obj = try! JSONSerialization.jsonObject(with: Data(body)) as! [String: Any]
        XCTAssertEqual((obj["lines"] as! [[String: String]]).map { $0["line"] }, ["a"])
        XCTAssertEqual(obj["cursor"] as? String, LogPageCursor(stdout: .upTo(1), stderr: .all).encoded)
        XCTAssertEqual(String(decoding: LogPageReader.responseBody(.init(lines: [], cursor: nil)), as: UTF8.self), #"{"lines":[],"cursor":null}"#)
    }

    // MARK: streamed answers

    func testChunkFraming() {
        XCTAssertEqual(String(decoding: HTTPResponseStream.chunk(Array("hello".utf8)), as: UTF8.self), "5\r\nhello\r\n")
        XCTAssertEqual(HTTPResponseStream.chunk([UInt8](repeating: 1, count: 256 * 1024)).prefix(7), Array("40000\r\n".utf8)[...])
        XCTAssertEqual(String(decoding: HTTPResponseStream.lastChunk, as: UTF8.self), "0\r\n\r\n")
        var r = HTTPResponse(status: 200, body: Array("ignored".utf8))
        r.headers.add("Content-Type", "text/plain")
        r.headers.add("Content-Length", "7")
        r.headers.add("Transfer-Encoding", "gzip")
        let head = String(decoding: HTTPResponseStream.serializedHead(r, chunked: true, keepAlive: true), as: UTF8.self)
        XCTAssertTrue(head.hasPrefix("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nDate: "), head)
        XCTAssertTrue(head.hasSuffix("\r\n\r\n"))
        XCTAssertFalse(head.contains("Content-Length") || head.contains("gzip") || head.contains("Connection"))
        let old = String(decoding: HTTPResponseStream.serializedHead(r, chunked: false, keepAlive: false), as: UTF8.self)
        XCTAssertFalse(old.contains("Transfer-Encoding"))
        XCTAssertTrue(old.contains("Connection: close\r\n"))
    }

    func testRoutesAreProtectedAndDistinct() {
        let r = Router()
        for route in AccessPolicy.allRoutes { r.get(route) { _ in } }
        for (path, pattern) in [("/api/containers/web.1/logs", AccessPolicy.logPage), ("/api/containers/web.1/logs.txt", AccessPolicy.logText),
                                ("/api/containers/a/logs.jsonl", AccessPolicy.logJSONLines), ("/api/containers/logs.txt", AccessPolicy.container)] {
            let res = r.resolve(method: "GET", rawPath: Substring(path))!
            XCTAssertTrue(res.isFound, path)
            XCTAssertEqual(res.access, .protected, path)
            XCTAssertEqual(res.access, pattern.access)
        }
        for path in ["/api/containers/./logs", "/api/containers/../logs.txt", "/api/containers/a%2Fb/logs", "/api/containers/a/logs.csv"] {
            XCTAssertFalse(r.resolve(method: "GET", rawPath: Substring(path))?.isFound ?? false, path)
        }
    }
}
