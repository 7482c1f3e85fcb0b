/// A moment as nanoseconds since the Unix epoch, always inside `Timestamp.range`.
///
/// Every time a client or an engine sends goes through this type before any arithmetic: it can
/// only be built by a range check, and it only moves by overflow-reporting operations, so no
/// value from outside can make docktail trap.
///
/// Range: 1970-01-01T00:00:00Z (inclusive) to 2262-01-01T00:00:00Z (exclusive). Engines have no
/// log entry before the epoch, and Int64 nanoseconds end in April 2262.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let nanoseconds: Int64

    /// 2262-01-01T00:00:00Z in nanoseconds.
    public static let upperBound: Int64 = 9_214_646_400 * 1_000_000_000
    public static let range: Range<Int64> = 0..<upperBound
    public static let epoch = Timestamp(unchecked: 0)

    private init(unchecked nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    /// Nil when outside `range`.
    public init?(nanoseconds: Int64) {
        guard Self.range.contains(nanoseconds) else { return nil }
        self.nanoseconds = nanoseconds
    }

    /// Seconds plus a fraction in nanoseconds (0..<1e9); nil when outside `range`.
    public init?(seconds: Int64, fractionNanoseconds: Int64 = 0) {
        guard (0..<1_000_000_000).contains(fractionNanoseconds) else { return nil }
        let (scaled, o1) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (total, o2) = scaled.addingReportingOverflow(fractionNanoseconds)
        guard !o1, !o2 else { return nil }
        self.init(nanoseconds: total)
    }

    /// The current wall-clock time (clamped into range).
    public static func now() -> Timestamp {
        Timestamp(clamping: MonotonicClock.wallNanoseconds())
    }

    /// Any Int64 brought into range (for values the engine reports that only label things).
    public init(clamping nanoseconds: Int64) {
        self.nanoseconds = min(max(nanoseconds, 0), Self.upperBound - 1)
    }

    /// Nil when the result leaves `range`.
    public func adding(_ span: TimeSpan) -> Timestamp? {
        let (v, o) = nanoseconds.addingReportingOverflow(span.nanoseconds)
        return o ? nil : Timestamp(nanoseconds: v)
    }

    /// `self - span`, or the epoch when that would lie before it (a duration reaching back
    /// further than 1970 means "everything").
    public func subtractingClampedToEpoch(_ span: TimeSpan) -> Timestamp {
        let (v, o) = nanoseconds.subtractingReportingOverflow(span.nanoseconds)
        return o || v < 0 ? .epoch : Timestamp(unchecked: v)
    }

    /// RFC 3339 with nine fraction digits, UTC (`2026-11-29T14:16:35.218193371Z`).
    public var rfc3339: String { DockerTimestamp.format(nanoseconds) }

    /// The engine's `since`/`until` form: `seconds.nanoseconds` (`1700000000.000000001`).
    public var engineParameter: String { DockerTimestamp.engineParameter(nanoseconds) }

    public var description: String { rfc3339 }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.nanoseconds < b.nanoseconds }
}

/// A non-negative length of time in nanoseconds, at most `TimeSpan.maximum` (100 years).
///
/// Parsed from Go-style durations (`90s`, `1h30m`, `1.5h`, `250ms`, `2d`) with integer,
/// overflow-reporting arithmetic only: no floating point, so `1e308s` or `NaNs` is simply invalid.
public struct TimeSpan: Sendable, Hashable, Comparable {
    public let nanoseconds: Int64

    public static let maximum: Int64 = 100 * 366 * 86_400 * 1_000_000_000

    public init?(nanoseconds: Int64) {
        guard (0...Self.maximum).contains(nanoseconds) else { return nil }
        self.nanoseconds = nanoseconds
    }

    public static func < (a: TimeSpan, b: TimeSpan) -> Bool { a.nanoseconds < b.nanoseconds }

    /// Nanoseconds per unit, longest unit names first so `ms` is not read as `m`.
    static let units: [(String, Int64)] = [
        ("ns", 1), ("us", 1_000), ("µs", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000),
        ("m", 60_000_000_000), ("h", 3_600_000_000_000), ("d", 86_400_000_000_000),
    ]

    /// `[number unit]+` where a number is ASCII digits with an optional fraction (at most nine
    /// fraction digits are used). Nil when malformed, negative or over `maximum`.
    public static func parse(_ text: String) -> TimeSpan? {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= 64 else { return nil }
        var i = 0
        var total: Int64 = 0
        while i < bytes.count {
            var whole: Int64 = 0
            var digits = 0
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 {
                let (m, o1) = whole.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int64(bytes[i] - 0x30))
                guard !o1, !o2 else { return nil }
                whole = a
                digits += 1
                i += 1
            }
            // Fraction as numerator / 10^k with k ≤ 9.
            var fraction: Int64 = 0
            var scale: Int64 = 1
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
                i += 1
                var fractionDigits = 0
                while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 {
                    if fractionDigits < 9 { fraction = fraction * 10 + Int64(bytes[i] - 0x30); scale *= 10 }
                    fractionDigits += 1
                    i += 1
                }
                guard fractionDigits > 0 else { return nil }
                digits += fractionDigits
            }
            guard digits > 0 else { return nil }
            var unitEnd = i
            while unitEnd < bytes.count, !(bytes[unitEnd] >= 0x30 && bytes[unitEnd] <= 0x39), bytes[unitEnd] != UInt8(ascii: ".") {
                unitEnd += 1
            }
            let unitText = String(decoding: bytes[i..<unitEnd], as: UTF8.self)
            guard let unit = units.first(where: { $0.0 == unitText })?.1 else { return nil }
            i = unitEnd
            let (w, o1) = whole.multipliedReportingOverflow(by: unit)
            // unit ≤ 8.64e13 and fraction < 1e9, so fraction * unit can overflow: divide first.
            let (f, o2) = (unit / scale).multipliedReportingOverflow(by: fraction)
            let fRest = (unit % scale) * fraction / scale
            let (sum1, o3) = w.addingReportingOverflow(f)
            let (sum2, o4) = sum1.addingReportingOverflow(fRest)
            let (t, o5) = total.addingReportingOverflow(sum2)
            guard !o1, !o2, !o3, !o4, !o5, t <= maximum else { return nil }
            total = t
        }
        return TimeSpan(nanoseconds: total)
    }
}
