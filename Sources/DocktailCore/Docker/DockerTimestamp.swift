/// The engine's RFC 3339 timestamps (`2026-11-29T14:16:35.218193371Z`; trailing zeros of the
/// fraction are trimmed, so the length varies), as nanoseconds since the Unix epoch.
public enum DockerTimestamp {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`; nil when malformed or outside
    /// `Timestamp.range` (years 1970 to 2261; the arithmetic below cannot overflow for them).
    public static func parse(_ b: UnsafeRawBufferPointer) -> Int64? {
        let n = b.count
        guard n >= 20 else { return nil }
        @inline(__always) func d(_ i: Int) -> Int64? {
            let c = b[i]
            return c >= 0x30 && c <= 0x39 ? Int64(c - 0x30) : nil
        }
        guard let y0 = d(0), let y1 = d(1), let y2 = d(2), let y3 = d(3), b[4] == 0x2D,
              let m0 = d(5), let m1 = d(6), b[7] == 0x2D, let d0 = d(8), let d1 = d(9),
              b[10] == 0x54 || b[10] == 0x74 || b[10] == 0x20,
              let h0 = d(11), let h1 = d(12), b[13] == 0x3A, let i0 = d(14), let i1 = d(15), b[16] == 0x3A,
              let s0 = d(17), let s1 = d(18) else { return nil }
        let year = y0 * 1000 + y1 * 100 + y2 * 10 + y3
        let month = m0 * 10 + m1, day = d0 * 10 + d1
        let hour = h0 * 10 + h1, minute = i0 * 10 + i1, second = s0 * 10 + s1
        guard (1969...2261).contains(year), (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
        var i = 19
        var nanos: Int64 = 0
        if i < n && b[i] == 0x2E {
            i += 1
            var digits = 0
            while i < n, let v = d(i) {
                if digits < 9 { nanos = nanos * 10 + v }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            while digits < 9 { nanos *= 10; digits += 1 }
        }
        guard i < n else { return nil }
        var offset: Int64 = 0
        if b[i] == 0x5A || b[i] == 0x7A {
            i += 1
        } else if (b[i] == 0x2B || b[i] == 0x2D) && i + 6 <= n, let oh0 = d(i + 1), let oh1 = d(i + 2), b[i + 3] == 0x3A,
                  let om0 = d(i + 4), let om1 = d(i + 5) {
            offset = ((oh0 * 10 + oh1) * 60 + om0 * 10 + om1) * 60 * (b[i] == 0x2B ? 1 : -1)
            i += 6
        } else {
            return nil
        }
        guard i == n else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset
        // Year 1969 is let through the digit check only so that an offset can move a time across
        // the epoch; the result itself must be in range.
        let value = seconds * 1_000_000_000 + nanos
        return Timestamp.range.contains(value) ? value : nil
    }

    public static func parse(_ text: String) -> Int64? {
        var t = text
        return t.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    /// Days since 1970-01-01 (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    /// RFC 3339 with nine fraction digits, UTC.
    /// Values outside `Timestamp.range` are clamped into it first (no arithmetic here can trap).
    public static func format(_ value: Int64) -> String {
        let nanos = Timestamp(clamping: value).nanoseconds
        let secs = nanos >= 0 ? nanos / 1_000_000_000 : (nanos - 999_999_999) / 1_000_000_000
        let frac = nanos - secs * 1_000_000_000
        var days = secs / 86400
        var rem = secs % 86400
        if rem < 0 { rem += 86400; days -= 1 }
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ v: Int64, _ w: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, w - s.count)) + s }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(rem / 3600, 2)):\(pad(rem / 60 % 60, 2)):\(pad(rem % 60, 2)).\(pad(frac, 9))Z"
    }

    /// The engine's `since`/`until` form: seconds and nanoseconds (`1700000000.000000001`).
    /// Values outside `Timestamp.range` are clamped into it (so the fraction is never negative).
    public static func engineParameter(_ value: Int64) -> String {
        let nanos = Timestamp(clamping: value).nanoseconds
        let secs = nanos / 1_000_000_000
        let f = String(nanos % 1_000_000_000)
        return "\(secs).\(String(repeating: "0", count: max(0, 9 - f.count)))\(f)"
    }
}
