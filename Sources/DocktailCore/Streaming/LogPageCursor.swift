/// Where the next page of `GET /api/containers/{ref}/logs` ends: for each stream, a bound on
/// the lines it may hold, plus a hint of how far back in the log the previous page was.
///
/// Bounds are per stream because the engine stamps stdout and stderr in two separate readers:
/// stamps only grow within a stream, so a stamp and an ordinal (the line's number among the
/// lines of its stream with that stamp) name one line exactly and for good, however much the
/// container writes meanwhile; across the two streams stamps can be out of order.
///
/// On the wire a cursor is opaque: base64url (RFC 4648 §5, no padding) of a compact versioned
/// text, `1|STDOUT|STDERR|HINT`, each bound `a` (all), `uTS` (up to TS) or `bTS:ORDINAL`
/// (before), TS in nanoseconds since the epoch. Decoding is strict (canonical decimal only,
/// every value range-checked, the text re-encoded and compared), so a forged or damaged cursor
/// is refused (400) rather than read as some other position, and nothing in it can trap.
public struct LogPageCursor: Sendable, Equatable {
    /// Which lines of one stream a page may hold.
    public enum Bound: Sendable, Equatable {
        /// Any line (no page was read yet).
        case all
        /// Lines stamped at or before this stamp: the snapshot taken by the first page for a
        /// stream that had no line in it.
        case upTo(Int64)
        /// Lines strictly before the `ordinal`-th line of the stream stamped `timestamp`:
        /// stamped earlier, or stamped `timestamp` with a smaller ordinal.
        case before(Int64, ordinal: Int)

        /// Whether a line stamped `ts`, the `ordinal`-th of its stream with that stamp, is inside.
        /// Also for a line whose ordinal is only known to be at least `ordinal` (counted from a
        /// window that may begin inside its run of same-stamped lines): false then means outside
        /// for sure.
        func admits(_ ts: Int64, ordinal: Int) -> Bool {
            switch self {
            case .all: return true
            case .upTo(let t): return ts <= t
            case .before(let t, let k): return ts < t || (ts == t && ordinal < k)
            }
        }

    }

    public var stdout: Bound
    public var stderr: Bound
    /// About how many engine entries followed the previous page's oldest line when it was read:
    /// the next read asks for this many more than a page needs, instead of widening from scratch.
    public var hint: Int

    public init(stdout: Bound, stderr: Bound, hint: Int = 0) {
        self.stdout = stdout
        self.stderr = stderr
        self.hint = hint
    }

    public subscript(stream: LogStream) -> Bound {
        get { stream == .stdout ? stdout : stderr }
        set { if stream == .stdout { stdout = newValue } else { stderr = newValue } }
    }

    /// No bound on either stream: the newest page.
    public static let newest = LogPageCursor(stdout: .all, stderr: .all)

    /// The largest ordinal a cursor may carry (a run of more lines with one stamp than this is
    /// beyond any engine's output rate).
    public static let maxOrdinal = 1 << 31
    /// The largest hint (what the engine may be asked for at most, see `LogPageLocator`).
    public static let maxHint = LogPageLocator.maxRequestedEntries
    /// Longest encoded cursor accepted (a canonical one is under 120 characters).
    public static let maxEncodedLength = 200
    static let version = "1"

    /// Why a cursor was refused (→ 400 naming `cursor`).
    public struct Invalid: Error, Equatable, Sendable {
        public let message: String
    }

    // MARK: encoding

    /// The opaque form sent to clients.
    public var encoded: String { Self.base64URL(Array(text.utf8)) }

    /// The versioned text inside the opaque form.
    var text: String { "\(Self.version)|\(Self.text(stdout))|\(Self.text(stderr))|\(hint)" }

    static func text(_ bound: Bound) -> String {
        switch bound {
        case .all: return "a"
        case .upTo(let t): return "u\(t)"
        case .before(let t, let k): return "b\(t):\(k)"
        }
    }

    /// Reads a cursor a client sent back; throws for anything this server could not have issued.
    public static func decode(_ encoded: String) throws(Invalid) -> LogPageCursor {
        let input = Array(encoded.utf8)
        guard !input.isEmpty, input.count <= maxEncodedLength else { throw Invalid(message: "cursor is empty or too long") }
        guard let raw = fromBase64URL(input), let text = String(validatingUTF8Bytes: raw) else {
            throw Invalid(message: "cursor is not base64url")
        }
        let fields = text.split(separator: "|", omittingEmptySubsequences: false)
        guard fields.count == 4, fields[0] == Substring(version) else { throw Invalid(message: "cursor has an unknown version or form") }
        guard let stdout = bound(fields[1]), let stderr = bound(fields[2]) else { throw Invalid(message: "cursor holds an invalid position") }
        guard let hint = decimal(fields[3]), hint <= Int64(maxHint) else { throw Invalid(message: "cursor holds an invalid hint") }
        let cursor = LogPageCursor(stdout: stdout, stderr: stderr, hint: Int(hint))
        // One spelling per cursor: anything that does not re-encode to itself was not issued here.
        guard cursor.text == text else { throw Invalid(message: "cursor is not in canonical form") }
        return cursor
    }

    static func bound(_ field: Substring) -> Bound? {
        guard let kind = field.first else { return nil }
        let rest = field.dropFirst()
        switch kind {
        case "a":
            return rest.isEmpty ? .all : nil
        case "u":
            guard let t = decimal(rest), Timestamp.range.contains(t) else { return nil }
            return .upTo(t)
        case "b":
            let parts = rest.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let t = decimal(parts[0]), Timestamp.range.contains(t),
                  let k = decimal(parts[1]), k >= 1, k <= Int64(maxOrdinal) else { return nil }
            return .before(t, ordinal: Int(k))
        default:
            return nil
        }
    }

    /// A canonical non-negative decimal (no sign, no leading zero) that fits an Int64 (stamps
    /// up to 2262 take 19 digits); nil otherwise, by overflow-reporting arithmetic.
    static func decimal(_ s: Substring) -> Int64? {
        let bytes = s.utf8
        guard let first = bytes.first, bytes.count <= 19, first != 0x30 || bytes.count == 1 else { return nil }
        var value: Int64 = 0
        for b in bytes {
            guard b >= 0x30 && b <= 0x39 else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int64(b - 0x30))
            guard !o1, !o2 else { return nil }
            value = sum
        }
        return value
    }

    // MARK: base64url (RFC 4648 §5), without padding

    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func base64URL(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var i = 0
        while i + 3 <= bytes.count {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out += [alphabet[Int(v >> 18)], alphabet[Int(v >> 12 & 63)], alphabet[Int(v >> 6 & 63)], alphabet[Int(v & 63)]]
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let v = UInt32(bytes[i]) << 16
            out += [alphabet[Int(v >> 18)], alphabet[Int(v >> 12 & 63)]]
        } else if rest == 2 {
            let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out += [alphabet[Int(v >> 18)], alphabet[Int(v >> 12 & 63)], alphabet[Int(v >> 6 & 63)]]
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func sextet(_ c: UInt8) -> UInt32? {
        switch c {
        case 0x41...0x5A: return UInt32(c - 0x41)
        case 0x61...0x7A: return UInt32(c - 0x61 + 26)
        case 0x30...0x39: return UInt32(c - 0x30 + 52)
        case 0x2D: return 62
        case 0x5F: return 63
        default: return nil
        }
    }

    /// Nil for a character outside the alphabet, padding, a length no encoding has (4k+1), or
    /// leftover bits that are not zero (another spelling of the same bytes).
    static func fromBase64URL(_ input: [UInt8]) -> [UInt8]? {
        guard input.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(input.count * 3 / 4)
        var acc: UInt32 = 0
        var bits = 0
        for c in input {
            guard let v = sextet(c) else { return nil }
            acc = (acc << 6 | v) & 0xFFFFFF
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
            }
        }
        guard acc & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return out
    }
}
