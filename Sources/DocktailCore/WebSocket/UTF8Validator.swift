/// A resumable UTF-8 validator (RFC 3629 §4): text messages are checked fragment by fragment
/// (RFC 6455 §8.1), so a message that turns invalid fails at its first bad byte.
public struct UTF8Validator: Sendable {
    /// Continuation bytes still expected for the current scalar.
    private var pending: UInt8 = 0
    /// Allowed range of the next continuation byte (narrowed after E0, ED, F0, F4 leads).
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF

    public init() {}

    /// True when the bytes so far end on a scalar boundary.
    public var isAtBoundary: Bool { pending == 0 }

    /// Feeds bytes; false at the first byte that makes the input invalid.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            if pending == 0 {
                if b < 0x80 {
                    i += 1
                    // Fast skip over ASCII runs, eight bytes at a time.
                    while i + 8 <= n, bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                        i += 8
                    }
                    continue
                }
                switch b {
                case 0xC2...0xDF: pending = 1; lower = 0x80; upper = 0xBF
                case 0xE0: pending = 2; lower = 0xA0; upper = 0xBF
                case 0xE1...0xEC, 0xEE, 0xEF: pending = 2; lower = 0x80; upper = 0xBF
                case 0xED: pending = 2; lower = 0x80; upper = 0x9F
                case 0xF0: pending = 3; lower = 0x90; upper = 0xBF
                case 0xF1...0xF3: pending = 3; lower = 0x80; upper = 0xBF
                case 0xF4: pending = 3; lower = 0x80; upper = 0x8F
                default: return false
                }
            } else {
                guard b >= lower && b <= upper else { return false }
                pending -= 1
                lower = 0x80
                upper = 0xBF
            }
            i += 1
        }
        return true
    }

    public mutating func feed(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// Whether `bytes` is complete, valid UTF-8.
    public static func isValid(_ bytes: [UInt8]) -> Bool {
        var v = UTF8Validator()
        return v.feed(bytes) && v.isAtBoundary
    }

    public static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var v = UTF8Validator()
        return v.feed(bytes) && v.isAtBoundary
    }

    /// `bytes` with every invalid sequence replaced by U+FFFD (the bytes unchanged when valid).
    public static func repaired(_ bytes: [UInt8]) -> [UInt8] {
        if isValid(bytes) { return bytes }
        return Array(String(decoding: bytes, as: UTF8.self).utf8)
    }
}
