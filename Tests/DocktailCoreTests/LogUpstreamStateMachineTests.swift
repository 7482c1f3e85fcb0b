import XCTest
@testable import DocktailCore

/// Every transition of the upstream protocol, and each race found in the field, without
/// sockets or an engine.
final class LogUpstreamStateMachineTests: XCTestCase {
    typealias M = LogUpstreamStateMachine
    let running = M.Snapshot(running: true, restarting: false, startedAt: 1_000, exitCode: 0)
    let exited = M.Snapshot(running: false, restarting: false, startedAt: 1_000, exitCode: 3)
    let restarting = M.Snapshot(running: false, restarting: true, startedAt: 1_000, exitCode: 1)

    func following() -> M {
        var m = M(linger: 5)
        XCTAssertEqual(m.handle(.subscribed), [.inspect])
        XCTAssertEqual(m.handle(.inspected(.success(running))), [.openStream(.history)])
        XCTAssertEqual(m.handle(.streamEnded(nil)), [.serveWaiting, .upstreamOpen(true), .openStream(.follow)])
        XCTAssertEqual(m.state, .streaming(.follow))
        return m
    }

    func testAttachLoadsHistoryThenFollows() {
        _ = following()
    }

    /// (`now` is 0 in these tests: a re-read after a stop reads up to the inspect's moment.)
    func testRunEndsThenInspectThenTailIsRereadThenStopped() {
        var m = following()
        XCTAssertEqual(m.handle(.engineDied(exitCode: 3, time: 2_000)), [.marker(.end(exitCode: 3, time: 2_000))])
        XCTAssertEqual(m.handle(.streamEnded(nil)), [.inspect])
        XCTAssertEqual(m.handle(.inspected(.success(exited))), [.openStream(.tailReread(until: 0))])
        XCTAssertEqual(m.handle(.streamEnded(nil)), [.upstreamOpen(false), .flushMarkers])
        XCTAssertEqual(m.state, .stopped(exitCode: 3, restarting: false))
        // Started again: restart marker, inspect, follow.
        XCTAssertEqual(m.handle(.engineStarted(time: 3_000)), [.marker(.restart(time: 3_000)), .inspect])
        XCTAssertEqual(m.handle(.inspected(.success(M.Snapshot(running: true, restarting: false, startedAt: 2_990, exitCode: 0)))),
                       [.flushMarkersThroughRestart, .upstreamOpen(true), .openStream(.follow)])
    }

    func testAStoppedContainerGetsOneEndWithoutEvents() {
        var m = M(linger: 5)
        _ = m.handle(.subscribed)
        _ = m.handle(.inspected(.success(exited)))
        _ = m.handle(.streamEnded(nil)) // history
        _ = m.handle(.streamEnded(nil)) // follow ends at once
        // No die event will come (it died long ago): wait for it, then the inspect's word.
        var stopped = exited
        stopped.finishedAt = 4_000
        let waiting = m.handle(.inspected(.success(stopped)))
        guard case .scheduleTimer(let delay, let token)? = waiting.last else { return XCTFail("\(waiting)") }
        XCTAssertEqual(delay, M.eventWait)
        XCTAssertEqual(m.handle(.timerFired(token: token)), [.marker(.end(exitCode: 3, time: 4_000)), .openStream(.tailReread(until: 0))])
        XCTAssertEqual(m.handle(.streamEnded(nil)), [.upstreamOpen(false), .flushMarkers])
    }

    func testCrashLoopWaitsForStartAndCostsAFewRequestsPerRestart() {
        var m = following()
        var requests = 0
        for run in 1...50 {
            let t = Int64(run) * 10_000
            var actions = m.handle(.engineDied(exitCode: 1, time: t))
            actions += m.handle(.streamEnded(nil))
            // The engine says Running=true, Restarting=true between runs: not running.
            actions += m.handle(.inspected(.success(restarting)))
            actions += m.handle(.streamEnded(nil))
            XCTAssertEqual(m.state, .stopped(exitCode: 1, restarting: true))
            actions += m.handle(.engineStarted(time: t + 5_000))
            actions += m.handle(.inspected(.success(M.Snapshot(running: true, restarting: false, startedAt: t + 4_999, exitCode: 0))))
            XCTAssertEqual(m.state, .streaming(.follow))
            requests += actions.filter { if case .openStream = $0 { return true }; return $0 == .inspect }.count
            XCTAssertEqual(actions.filter { if case .marker(.end) = $0 { return true }; return false }.count, 1, "run \(run)")
            XCTAssertEqual(actions.filter { if case .marker(.restart) = $0 { return true }; return false }.count, 1, "run \(run)")
        }
        XCTAssertLessThanOrEqual(requests, 50 * 4)
    }

    func testRestartingWithoutAStartEventIsRecheckedWithBackoff() {
        var m = following()
        _ = m.handle(.engineDied(exitCode: 1, time: 2_000))
        _ = m.handle(.streamEnded(nil))
        _ = m.handle(.inspected(.success(restarting)))
        let actions = m.handle(.streamEnded(nil))
        guard case .scheduleTimer(let delay, let token)? = actions.last else { return XCTFail("\(actions)") }
        XCTAssertEqual(delay, 1)
        XCTAssertEqual(m.handle(.timerFired(token: token + 1)), [], "a stale timer does nothing")
        XCTAssertEqual(m.handle(.timerFired(token: token)), [.inspect])
        let again = m.handle(.inspected(.success(restarting)))
        guard case .scheduleTimer(let second, _)? = again.last else { return XCTFail("\(again)") }
        XCTAssertEqual(second, 2, "backed off")
    }

    func testANewRunSeenByInspectWaitsForItsEventsThenRereadsOnlyTheOldRun() {
        // The follow of run 1 ends; the inspect already sees run 2 (started at 5_000); the
        // events (on another connection) lag behind.
        var m = following()
        XCTAssertEqual(m.handle(.streamEnded(nil)), [.inspect])
        let run2 = M.Snapshot(running: true, restarting: false, startedAt: 5_000, exitCode: 0)
        let waiting = m.handle(.inspected(.success(run2)))
        guard case .scheduleTimer = waiting.last else { return XCTFail("\(waiting)") }
        XCTAssertEqual(m.handle(.engineDied(exitCode: 2, time: 4_000)), [.marker(.end(exitCode: 2, time: 4_000))])
        XCTAssertEqual(m.handle(.engineStarted(time: 5_001)),
                       [.marker(.restart(time: 5_001)), .openStream(.tailReread(until: 4_999))])
        XCTAssertEqual(m.handle(.streamEnded(nil)), [.flushMarkersThroughRestart, .openStream(.follow)])
    }

    func testStartDuringTheInspectAfterEndIsNotLost() {
        // die, stream ends, inspect in flight; the start event arrives before the (stale)
        // inspect answer that still says "restarting".
        var m = following()
        _ = m.handle(.engineDied(exitCode: 1, time: 2_000))
        _ = m.handle(.streamEnded(nil))
        XCTAssertEqual(m.handle(.engineStarted(time: 3_000)), [.marker(.restart(time: 3_000))])
        XCTAssertEqual(m.handle(.inspected(.success(restarting))), [.openStream(.tailReread(until: nil))])
        XCTAssertEqual(m.handle(.streamEnded(nil)), [.flushMarkersThroughRestart, .openStream(.follow)], "follows the new run, no second end")
    }

    func testMissedEventsAreRecoveredFromInspect() {
        var m = following()
        _ = m.handle(.streamEnded(nil))
        // The container restarted while the events stream was down: StartedAt moved, and no
        // event comes before the deadline.
        let waiting = m.handle(.inspected(.success(M.Snapshot(running: true, restarting: false, startedAt: 9_000_000_000, exitCode: 0))))
        guard case .scheduleTimer(_, let token)? = waiting.last else { return XCTFail() }
        XCTAssertEqual(m.handle(.timerFired(token: token)), [.marker(.end(exitCode: 0, time: 9_000_000_000)), .marker(.restart(time: 9_000_000_000)),
                                                             .openStream(.tailReread(until: 8_999_999_999))])
        XCTAssertEqual(m.handle(.streamEnded(nil)), [.flushMarkersThroughRestart, .openStream(.follow)])
        // The late events are recognised as old.
        XCTAssertEqual(m.handle(.engineDied(exitCode: 0, time: 8_000_000_000)), [])
    }

    func testARestartSeenInTheLogSilencesItsLateEvent() {
        var m = following()
        _ = m.handle(.engineDied(exitCode: 0, time: 2_000))
        _ = m.handle(.restartSeenInLog(time: 3_000_000_000))
        XCTAssertEqual(m.handle(.engineStarted(time: 2_999_000_000)), [])
    }

    func testAStartDuringTheTailRereadFollowsTheNewRun() {
        var m = following()
        _ = m.handle(.streamEnded(nil))
        _ = m.handle(.engineDied(exitCode: 0, time: 2_000))
        XCTAssertEqual(m.handle(.inspected(.success(exited))), [.openStream(.tailReread(until: 0))])
        XCTAssertEqual(m.handle(.engineStarted(time: 3_000)), [.marker(.restart(time: 3_000))])
        XCTAssertEqual(m.handle(.streamEnded(nil)), [.inspect], "not stopped: the new run is followed")
        XCTAssertEqual(m.handle(.inspected(.success(M.Snapshot(running: true, restarting: false, startedAt: 2_999, exitCode: 0)))),
                       [.flushMarkersThroughRestart, .openStream(.follow)])
    }

    func testAStartWhileWaitingForTheDieRereadsUpToIt() {
        var m = following()
        _ = m.handle(.streamEnded(nil))
        let waiting = m.handle(.inspected(.success(exited)))
        guard case .scheduleTimer = waiting.last else { return XCTFail("\(waiting)") }
        // The next run's start comes first (its die was lost): one end, one restart.
        XCTAssertEqual(m.handle(.engineStarted(time: 3_000)),
                       [.marker(.end(exitCode: 0, time: 3_000)), .marker(.restart(time: 3_000)), .openStream(.tailReread(until: 2_999))])
        XCTAssertEqual(m.handle(.streamEnded(nil)), [.flushMarkersThroughRestart, .openStream(.follow)])
    }

    func testALateStartOfARunShownByInspectAddsNoMarker() {
        var m = following()
        _ = m.handle(.streamEnded(nil))
        let waiting = m.handle(.inspected(.success(M.Snapshot(running: true, restarting: false, startedAt: 5_000_000_000, exitCode: 0))))
        guard case .scheduleTimer(_, let token)? = waiting.last else { return XCTFail() }
        _ = m.handle(.timerFired(token: token))
        _ = m.handle(.streamEnded(nil))
        XCTAssertEqual(m.handle(.engineStarted(time: 5_000_000_100)), [], "the shown run's own start")
        XCTAssertEqual(m.handle(.engineDied(exitCode: 1, time: 6_000_000_000)), [.marker(.end(exitCode: 1, time: 6_000_000_000))])
    }

    func testALineFromTheFutureCannotSilenceEvents() {
        var m = following()
        m.now = 1_000_000_000
        _ = m.handle(.engineDied(exitCode: 0, time: 2_000))
        XCTAssertEqual(m.handle(.restartSeenInLog(time: 9_000_000_000_000_000_000)), [])
        XCTAssertEqual(m.handle(.engineStarted(time: 3_000)), [.marker(.restart(time: 3_000))])
    }

    func testUpstreamCountStaysBalancedThroughEveryPath() {
        var m = following()
        var balance = 1
        func apply(_ actions: [M.Action]) {
            for a in actions { if case .upstreamOpen(let open) = a { balance += open ? 1 : -1; XCTAssert((0...1).contains(balance)) } }
        }
        apply(m.handle(.streamEnded(nil)))
        apply(m.handle(.engineDied(exitCode: 0, time: 2_000)))
        apply(m.handle(.inspected(.success(exited))))
        apply(m.handle(.engineStarted(time: 3_000)))
        apply(m.handle(.streamEnded(nil)))
        apply(m.handle(.inspected(.success(running))))
        apply(m.handle(.streamEnded(.engine("gone"))))
        apply(m.handle(.engineBack))
        apply(m.handle(.inspected(.success(running))))
        apply(m.handle(.lastSubscriberLeft))
        apply(m.handle(.lingerExpired(generation: 2)))
        XCTAssertEqual(m.state, .closed)
        XCTAssertEqual(balance, 0)
    }

    func testRepeatedEventsCountOnce() {
        var m = following()
        XCTAssertEqual(m.handle(.engineDied(exitCode: 1, time: 2_000)).count, 1)
        XCTAssertEqual(m.handle(.engineDied(exitCode: 1, time: 2_000)), [])
        XCTAssertEqual(m.handle(.engineStarted(time: 3_000)).count, 1)
        XCTAssertEqual(m.handle(.engineStarted(time: 3_000)), [])
    }

    func testEngineFailureBacksOffAndAnnouncesOnce() {
        var m = following()
        let first = m.handle(.streamEnded(.engine("connection refused")))
        XCTAssertEqual(first, [.upstreamOpen(false), .closeStream, .announceEngineLost("connection refused"), .scheduleTimer(after: 0.5, token: 1)])
        XCTAssertEqual(m.handle(.timerFired(token: 1)), [.inspect])
        let second = m.handle(.inspected(.failure(.engine("connection refused"))))
        XCTAssertEqual(second, [.scheduleTimer(after: 1, token: 2)], "announced once per outage")
        // The engine is back: retry at once, resume (not reload) since a position exists.
        XCTAssertEqual(m.handle(.engineBack), [.inspect])
        XCTAssertEqual(m.state, .inspecting(.attach(first: false)))
        XCTAssertEqual(m.handle(.inspected(.success(running))), [.upstreamOpen(true), .openStream(.follow)])
    }

    func testLingerAndItsRaces() {
        var m = following()
        XCTAssertEqual(m.handle(.lastSubscriberLeft), [.scheduleLinger(after: 5, generation: 2)])
        // Someone subscribes before the linger fires: the linger is void.
        XCTAssertEqual(m.handle(.subscribed), [])
        XCTAssertEqual(m.handle(.lingerExpired(generation: 2)), [])
        XCTAssertEqual(m.handle(.lastSubscriberLeft), [.scheduleLinger(after: 5, generation: 4)])
        XCTAssertEqual(m.handle(.lingerExpired(generation: 4)), [.upstreamOpen(false), .closeStream, .shutDown])
        XCTAssertEqual(m.state, .closed)
        // Late answers after shutdown reopen nothing.
        XCTAssertEqual(m.handle(.inspected(.success(running))), [])
        XCTAssertEqual(m.handle(.engineStarted(time: 99_000)), [])
        XCTAssertEqual(m.handle(.streamEnded(nil)), [])
        XCTAssertEqual(m.handle(.subscribed), [], "a closed machine is replaced, not revived")
    }

    func testRemovalFromAnyState() {
        var m = following()
        XCTAssertEqual(m.handle(.engineDestroyed), [.upstreamOpen(false), .closeStream, .removed])
        XCTAssertEqual(m.handle(.engineDestroyed), [])
        var n = M(linger: 5)
        _ = n.handle(.subscribed)
        XCTAssertEqual(n.handle(.inspected(.failure(.notFound))), [.closeStream, .removed])
    }

    func testFlappingStreamOfARunningContainerBacksOff() {
        var m = following()
        var sawTimer = false
        for _ in 0..<5 {
            _ = m.handle(.streamEnded(nil))
            _ = m.handle(.inspected(.success(running)))
            let actions = m.handle(.streamEnded(nil))
            if actions.contains(where: { if case .scheduleTimer = $0 { return true }; return false }) { sawTimer = true; break }
        }
        XCTAssertTrue(sawTimer, "a run whose stream keeps ending is not re-followed in a tight loop")
    }
}

/// The fan-out: ring and catch-up budgets in bytes, markers in line order, `until`.
final class LogFanOutTests: XCTestCase {
    final class Sub: LogFanOutSubscriber {
        var wantsLines: Bool { false }
        let query: LogQuery
        let key: DeliveryKey
        init(_ q: LogQuery = LogQuery()) { query = q; key = q.deliveryKey }
    }

    func line(_ ts: Int64, _ text: String) -> LogLine { LogLine(timestamp: ts, stream: .stdout, text: text) }

    func texts(_ sends: [LogFanOut<Sub>.Send]) -> [String] {
        var out: [String] = []
        for s in sends {
            switch s {
            case .frames(let bytes, _), .event(let bytes):
                var i = 0
                while i < bytes.count {
                    var len = Int(bytes[i + 1] & 0x7F), off = 2
                    if len == 126 { len = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3]); off = 4 }
                    let payload = String(decoding: bytes[(i + off)..<(i + off + len)], as: UTF8.self)
                    if let r = payload.range(of: #""line":""#) { out.append(String(payload[r.upperBound...].dropLast(2))) }
                    else if let r = payload.range(of: #""event":""#) { out.append("<" + String(payload[r.upperBound...].prefix { $0 != "\"" }) + ">") }
                    i += off + len
                }
            case .own(let lines): out += lines.map(\.textString)
            case .startCatchUp: out.append("<catch-up>")
            case .finish: out.append("<finish>")
            }
        }
        return out
    }

    func testRestartMarkerGoesBetweenRunsInOneBatch() {
        var f = LogFanOut<Sub>(ringLines: 100, ringBytes: 1 << 20, catchUpBytes: 1 << 20)
        f.ringLoaded(wholeLog: true)
        let s = Sub()
        _ = f.serve(s)
        f.addMarker(.end(exitCode: 1, time: 15))
        f.addMarker(.restart(time: 20))
        let out = f.publish([line(10, "run1-b"), line(14, "run1-c"), line(16, "run1-late"), line(21, "run2-a"), line(22, "run2-b")])
        XCTAssertEqual(texts(out[0].1), ["run1-b", "run1-c", "run1-late", "<end>", "<restart>", "run2-a", "run2-b"])
        XCTAssertTrue(f.pendingMarkers.isEmpty)
    }

    func testEndWaitsForAFlush() {
        var f = LogFanOut<Sub>(ringLines: 100, ringBytes: 1 << 20, catchUpBytes: 1 << 20)
        f.ringLoaded(wholeLog: true)
        let s = Sub()
        _ = f.serve(s)
        f.addMarker(.end(exitCode: 0, time: 5))
        XCTAssertEqual(texts(f.publish([line(6, "last words")])[0].1), ["last words"])
        XCTAssertEqual(texts(f.flushMarkers()[0].1), ["<end>"])
    }

    func testRingIsBoundedInBytes() {
        var f = LogFanOut<Sub>(ringLines: 1000, ringBytes: 10_000, catchUpBytes: 1 << 20)
        for i in 0..<100 { _ = f.publish([line(Int64(i), String(repeating: "x", count: 1000))]) }
        XCTAssertLessThanOrEqual(f.ring.bytes, 10_000)
        XCTAssertGreaterThan(f.ring.count, 0)
    }

    func testCatchUpBudgetDropsOldestAndCountsExactly() {
        var f = LogFanOut<Sub>(ringLines: 10, ringBytes: 1 << 20, catchUpBytes: 50_000)
        f.ringLoaded(wholeLog: false)
        var q = LogQuery()
        q.tail = 1000
        let s = Sub(q)
        XCTAssertEqual(texts(f.serve(s)), ["<catch-up>"])
        var written = 0
        for i in 0..<1000 { _ = f.publish([line(Int64(100 + i), "line \(i) " + String(repeating: "y", count: 90))]); written += 1 }
        f.addMarker(.restart(time: 5_000))
        _ = f.flushMarkers()
        let joined = texts(f.completeCatchUp(s, after: LogStreamDecoder.Position()))
        guard joined.first == "<dropped>" else { return XCTFail("\(joined.prefix(3))") }
        let lines = joined.filter { $0.hasPrefix("line ") }
        XCTAssertTrue(joined.contains("<restart>"))
        // Lines kept + dropped = lines written; what is kept is the newest, in order.
        let keptFirst = Int(lines.first!.split(separator: " ")[1])!
        XCTAssertEqual(lines.count, 1000 - keptFirst)
        XCTAssertEqual(lines.last!.hasPrefix("line 999"), true)
    }

    func testUntilCutsTheSharedStreamAndFinishes() {
        var f = LogFanOut<Sub>(ringLines: 100, ringBytes: 1 << 20, catchUpBytes: 1 << 20)
        f.ringLoaded(wholeLog: true)
        var q = LogQuery()
        q.until = Timestamp(nanoseconds: 25)
        let s = Sub(q)
        let other = Sub()
        _ = f.serve(s)
        _ = f.serve(other)
        let out = f.publish([line(20, "before"), line(30, "after")])
        let mine = out.first { $0.0 === s }!.1
        XCTAssertEqual(texts(mine), ["before", "<finish>"])
        XCTAssertFalse(f.contains(s))
        XCTAssertEqual(texts(out.first { $0.0 === other }!.1), ["before", "after"])
    }
}
