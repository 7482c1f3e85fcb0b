import XCTest
@testable import DocktailCore

/// The group merge and the group page cursor, without sockets.
final class LogGroupTests: XCTestCase {
    func line(_ ts: Int64, _ text: String) -> LogLine { LogLine(timestamp: ts, stream: .stdout, text: text) }

    func texts(_ out: [LogGroupMerger.Out]) -> [String] {
        out.compactMap { if case .line(let l) = $0.item { return l.textString } else { return nil } }
    }

    /// History leaves in stamp order, and only once no member can still send an older line: a
    /// member that has sent nothing yet holds everything back until its first line or its end.
    func testHistoryWaitsForEveryMemberAndMergesByStamp() {
        var m = LogGroupMerger(window: 50_000_000, memberBudget: 1 << 20)
        m.addMember(0); m.addMember(1)
        m.add(0, lines: [line(10, "a10"), line(30, "a30")])
        XCTAssertEqual(texts(m.drain(now: 1_000)), [], "member 1 has said nothing yet")
        m.add(1, lines: [line(20, "b20")])
        XCTAssertEqual(texts(m.drain(now: 1_000)), ["a10", "b20"], "a30 waits: member 1 may still send up to 30")
        m.setPhase(1, .ended)
        XCTAssertEqual(texts(m.drain(now: 1_000)), ["a30"])
        m.setPhase(0, .ended)
        XCTAssertTrue(m.allEnded && m.isEmpty)
    }

    /// A live line waits at most the window for older lines of silent members.
    func testLiveLinesWaitTheWindowOnly() {
        var m = LogGroupMerger(window: 100, memberBudget: 1 << 20)
        m.addMember(0); m.addMember(1)
        m.setPhase(0, .live); m.setPhase(1, .live)
        m.add(0, lines: [line(1_000, "x")])
        XCTAssertEqual(texts(m.drain(now: 1_050)), [], "within the window")
        XCTAssertEqual(m.nextDue(), 1_100)
        XCTAssertEqual(texts(m.drain(now: 1_100)), ["x"])
        // A late line (older than what left) goes at once.
        m.add(1, lines: [line(900, "late")])
        XCTAssertEqual(texts(m.drain(now: 1_100)), ["late"])
    }

    /// Events follow their member's lines; a live member over budget is flushed whatever the
    /// order, so a merge holds at most its budget per member.
    func testEventsKeepTheirPlaceAndBudgetsHold() {
        var m = LogGroupMerger(window: 1_000_000_000, memberBudget: 2048)
        m.addMember(0); m.addMember(1)
        m.setPhase(0, .live); m.setPhase(1, .history)
        let big = String(repeating: "z", count: 500)
        m.add(0, lines: (1...10).map { line(Int64($0), big) })
        m.add(0, event: .object([("event", .string("end"))]))
        XCTAssertTrue(m.isOverBudget(0))
        let flushed = m.takeOverBudget()
        XCTAssertFalse(flushed.isEmpty)
        XCTAssertTrue(flushed.allSatisfy { $0.member == 0 && $0.live })
        XCTAssertLessThanOrEqual(m.queuedBytes(of: 0), 2048)
        // Member 1 (history, silent) still holds the rest back; its end lets all go, the event last.
        m.setPhase(1, .ended)
        let rest = m.drain(now: 0)
        if case .event = rest.last?.item {} else { XCTFail("the member's event comes after its lines") }
        XCTAssertTrue(m.isEmpty)
        // Removing a member hands back what it queued.
        m.addMember(2)
        m.add(2, lines: [line(5, "q")])
        XCTAssertEqual(texts(m.removeMember(2)), ["q"])
    }

    func testGroupPageCursorRoundTripAndHostileInput() throws {
        var members: [String: LogPageCursor?] = [:]
        members["local/0123456789abcdef"] = .some(LogPageCursor(stdout: .before(1_700_000_000_000_000_000, ordinal: 2), stderr: .upTo(5), hint: 42))
        members["other/fedcba9876543210"] = .some(nil)
        let c = LogGroupPageCursor(members: members)
        XCTAssertEqual(try LogGroupPageCursor.decode(c.encoded), c)
        let hostile = ["", "Zm9v", String(repeating: "A", count: 7000),
                       LogPageCursor.base64URL(Array("g1|k=a,a,99999999999999999999".utf8)),
                       LogPageCursor.base64URL(Array("g1|k=b-1:1,a,0".utf8)),
                       LogPageCursor.base64URL(Array("g1|k=b9223372036854775807:1,a,0".utf8)),
                       LogPageCursor.base64URL(Array("g1|k=b1:0,a,0".utf8)),
                       LogPageCursor.base64URL(Array("g1|k=a,a,01".utf8)),
                       LogPageCursor.base64URL(Array("g1|k=-|k=-".utf8)),
                       LogPageCursor.base64URL(Array("g1|=a,a,0".utf8)),
                       LogPageCursor.base64URL(Array("g2|k=-".utf8)),
                       LogPageCursor.base64URL(Array(("g1" + String(repeating: "|k=-", count: 49)).utf8)),
                       LogPageCursor.base64URL(Array("g1|b=-|a=-".utf8))]
        for text in hostile {
            XCTAssertThrowsError(try LogGroupPageCursor.decode(text), text)
        }
    }
}
