import Foundation
import Logging
import XCTest
@testable import DocktailCore

/// Every time and number a client sends is range-checked before any arithmetic: none of these
/// values may trap, and each out-of-range one is refused with the parameter's name.
final class TimestampTests: XCTestCase {
    func testTimestampRange() {
        XCTAssertNil(Timestamp(nanoseconds: -1))
        XCTAssertNil(Timestamp(nanoseconds: Int64.max))
        XCTAssertNil(Timestamp(nanoseconds: Timestamp.upperBound))
        XCTAssertNotNil(Timestamp(nanoseconds: Timestamp.upperBound - 1))
        XCTAssertNil(Timestamp(seconds: Int64.max))
        XCTAssertNil(Timestamp(seconds: Int64.min))
        XCTAssertNil(Timestamp(seconds: -1, fractionNanoseconds: 500_000_000))
        XCTAssertNil(Timestamp(seconds: 1, fractionNanoseconds: 1_000_000_000))
        XCTAssertEqual(Timestamp(seconds: 1_700_000_000, fractionNanoseconds: 7)?.engineParameter, "1700000000.000000007")
        XCTAssertEqual(Timestamp.epoch.subtractingClampedToEpoch(TimeSpan(nanoseconds: TimeSpan.maximum)!), .epoch)
        XCTAssertNil(Timestamp(nanoseconds: Timestamp.upperBound - 1)!.adding(TimeSpan(nanoseconds: 1)!))
        XCTAssertEqual(Timestamp(clamping: Int64.min), .epoch)
        XCTAssertEqual(Timestamp(clamping: Int64.max).nanoseconds, Timestamp.upperBound - 1)
    }

    func testEngineTimestampsOutsideTheRangeAreRefused() {
        XCTAssertNil(DockerTimestamp.parse("2300-01-01T00:00:00Z"))
        XCTAssertNil(DockerTimestamp.parse("1677-01-01T00:00:00Z"))
        XCTAssertNil(DockerTimestamp.parse("0001-01-01T00:00:00Z"))
        XCTAssertNil(DockerTimestamp.parse("9999-12-31T23:59:59.999999999Z"))
        XCTAssertNil(DockerTimestamp.parse("1970-01-01T00:00:00+01:00"))
        XCTAssertEqual(DockerTimestamp.parse("1969-12-31T23:00:00-01:00"), 0)
        XCTAssertEqual(DockerTimestamp.parse("2261-12-31T23:59:59Z"), Timestamp.upperBound - 1_000_000_000)
        // Formatting and engine parameters of any Int64 never trap (they clamp).
        for v: Int64 in [Int64.min, Int64.min + 1, -1, -999_999_999, 0, Int64.max] {
            _ = DockerTimestamp.format(v)
            XCTAssertFalse(DockerTimestamp.engineParameter(v).contains("-"))
        }
    }

    func testDurations() {
        XCTAssertEqual(TimeSpan.parse("90s")?.nanoseconds, 90_000_000_000)
        XCTAssertEqual(TimeSpan.parse("1h30m")?.nanoseconds, 5_400_000_000_000)
        XCTAssertEqual(TimeSpan.parse("1.5h")?.nanoseconds, 5_400_000_000_000)
        XCTAssertEqual(TimeSpan.parse("250ms")?.nanoseconds, 250_000_000)
        XCTAssertEqual(TimeSpan.parse("0.000000001s")?.nanoseconds, 1)
        XCTAssertEqual(TimeSpan.parse("2d")?.nanoseconds, 172_800_000_000_000)
        for bad in ["", "5", "-5m", "1e308s", "NaNs", "infh", "5x", "h", ".s", "1..2s", "١٢٣s", "999999999999h",
                    "99999999999999999999h", "36601d", String(repeating: "9", count: 70) + "s"] {
            XCTAssertNil(TimeSpan.parse(bad), bad)
        }
    }

    func testHostileQueryValuesAreRefusedByName() {
        let now: Int64 = 1_795_961_795_000_000_000
        let refused: [(String, String)] = [
            ("since", "2300-01-01T00:00:00Z"), ("since", "1600-01-01T00:00:00Z"), ("since", "-1.5"), ("since", "-9223372036"),
            ("since", "99999999999999999999"), ("until", "9223372036.854775807"), ("since", "999999999h"), ("since", "-5m"),
            ("since", ""), ("until", "1e308s"), ("tail", "4611686018427387905"), ("tail", "9223372036854775808"),
            ("tail", "-2"), ("tail", "1e5"), ("tail", "0x10"), ("tail", " 5"), ("tail", "+5"), ("tail", "100001"),
        ]
        for (k, v) in refused {
            XCTAssertThrowsError(try LogQuery.parse([k: v, "stdout": "0"], defaultTail: 100, now: now), "\(k)=\(v)") {
                XCTAssertEqual(($0 as! LogQuery.InvalidParameter).name, k)
            }
        }
        // A duration back past 1970 means everything.
        XCTAssertEqual(try LogQuery.parse(["since": "500000h"], defaultTail: 1, now: now).since, .epoch)
        XCTAssertEqual(try LogQuery.parse(["tail": "100000", "stderr": "0"], defaultTail: 1, now: now).tail, 100_000)
        XCTAssertEqual(try LogQuery.parse(["since": "0"], defaultTail: 1, now: now).since, .epoch)
    }
}

/// The engine's clock judges its own stamps: the skew comes from the `Date` of its answers,
/// and a hostile `Date` is ignored rather than trusted or allowed to trap.
final class EngineClockTests: XCTestCase {
    func head(date: String) -> HTTPResponseParser.Head {
        var h = HTTPHeaders()
        h.add("Date", date)
        return HTTPResponseParser.Head(status: 200, headers: h)
    }

    func testSkewFromTheDateHeader() {
        let client = DockerClient(name: "e", endpoint: DockerEndpoint(url: "unix:///tmp/x.sock")!, limits: EngineLimits(),
                                  logger: Logger(label: "test"))
        client.noteDate(head(date: HTTPDate.format(Date().addingTimeInterval(3600))))
        XCTAssertEqual(Double(client.clockSkewNanoseconds) / 1e9, 3600, accuracy: 2)
        XCTAssertEqual(Double(client.engineNow() - MonotonicClock.wallNanoseconds()) / 1e9, 3600, accuracy: 2)
        // Within a second and a half: no skew (the header has whole seconds).
        client.noteDate(head(date: HTTPDate.format(Date())))
        XCTAssertEqual(client.clockSkewNanoseconds, 0)
        for bad in ["Fri, 31 Dec 99999 23:59:59 GMT", "yesterday", "Thu, 01 Jan 1960 00:00:00 GMT", String(repeating: "x", count: 100)] {
            client.noteDate(head(date: bad))
            XCTAssertEqual(client.clockSkewNanoseconds, 0, bad)
        }
    }
}
