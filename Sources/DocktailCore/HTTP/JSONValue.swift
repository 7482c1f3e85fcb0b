/// A small JSON value with ordered object keys, for API bodies and events. Log lines take the
/// faster `JSONValue.appendEscaped` path directly.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool { a.encoded() == b.encoded() }

    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        append(to: &out)
        return out
    }

    public var text: String { String(decoding: encoded(), as: UTF8.self) }

    public func append(to out: inout [UInt8]) {
        switch self {
        case .null: out += Array("null".utf8)
        case .bool(let b): out += Array((b ? "true" : "false").utf8)
        case .int(let i): out += Array(String(i).utf8)
        case .double(let d): out += Array((d.isFinite ? String(d) : "null").utf8)
        case .string(let s): Self.appendString(s, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.append(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let fields):
            out.append(UInt8(ascii: "{"))
            for (i, (k, v)) in fields.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Self.appendString(k, to: &out)
                out.append(UInt8(ascii: ":"))
                v.append(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    public static func appendString(_ s: String, to out: inout [UInt8]) {
        var s = s
        s.withUTF8 { appendEscaped(UnsafeRawBufferPointer($0), to: &out) }
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// True when one of the eight bytes of `w` needs escaping in JSON: below 0x20, `"` or `\`
    /// (SWAR: a zero byte test on `w`, `w ^ "…"` and `w ^ "\\…"`).
    @inline(__always)
    public static func wordNeedsEscape(_ w: UInt64) -> Bool {
        let high: UInt64 = 0x8080_8080_8080_8080
        let ones: UInt64 = 0x0101_0101_0101_0101
        let below20 = (w &- 0x2020_2020_2020_2020) & ~w & high
        let q = w ^ 0x2222_2222_2222_2222
        let quote = (q &- ones) & ~q & high
        let b = w ^ 0x5C5C_5C5C_5C5C_5C5C
        let backslash = (b &- ones) & ~b & high
        return (below20 | quote | backslash) != 0
    }

    /// Appends `"…"` for valid UTF-8 `bytes`, escaping `"`, `\` and control characters (RFC 8259 §7).
    @inline(__always)
    public static func appendEscaped(_ bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var runStart = 0
        let n = bytes.count
        var i = 0
        while i < n {
            // Skip clean runs eight bytes at a time.
            while i + 8 <= n && !wordNeedsEscape(bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)) { i += 8 }
            guard i < n else { break }
            let c = bytes[i]
            if c >= 0x20 && c != 0x22 && c != 0x5C { i += 1; continue }
            if runStart < i { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<i])) }
            switch c {
            case 0x22: out += [0x5C, 0x22]
            case 0x5C: out += [0x5C, 0x5C]
            case 0x0A: out += [0x5C, UInt8(ascii: "n")]
            case 0x0D: out += [0x5C, UInt8(ascii: "r")]
            case 0x09: out += [0x5C, UInt8(ascii: "t")]
            default: out += [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(c >> 4)], hex[Int(c & 0xF)]]
            }
            i += 1
            runStart = i
        }
        if runStart < n { out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[runStart..<n])) }
        out.append(UInt8(ascii: "\""))
    }
}
