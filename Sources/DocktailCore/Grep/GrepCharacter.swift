/// The characters a pattern sees: a line's UTF-8 bytes decoded one Unicode scalar at a time,
/// where a byte that does not start a valid sequence (RFC 3629 §4: no overlongs, surrogates or
/// values past U+10FFFF) is one character of its own, `invalid`. Only `.` and negated classes
/// match it, because it sits just past the scalar values: complementing a set takes it in.
enum GrepCharacter {
    /// The character a bad byte decodes to (one past U+10FFFF).
    static let invalid: UInt32 = 0x11_0000

    /// The character at `i` (which must be `< line.count`) and how many bytes it takes.
    @inline(__always)
    static func decode(_ line: UnsafeRawBufferPointer, at i: Int) -> (character: UInt32, width: Int) {
        let b0 = line[i]
        if b0 < 0x80 { return (UInt32(b0), 1) }
        let n = line.count
        switch b0 {
        case 0xC2...0xDF:
            guard i + 1 < n else { return (invalid, 1) }
            let b1 = line[i + 1]
            guard b1 & 0xC0 == 0x80 else { return (invalid, 1) }
            return (UInt32(b0 & 0x1F) << 6 | UInt32(b1 & 0x3F), 2)
        case 0xE0...0xEF:
            guard i + 2 < n else { return (invalid, 1) }
            let b1 = line[i + 1], b2 = line[i + 2]
            let lower: UInt8 = b0 == 0xE0 ? 0xA0 : 0x80
            let upper: UInt8 = b0 == 0xED ? 0x9F : 0xBF
            guard b1 >= lower, b1 <= upper, b2 & 0xC0 == 0x80 else { return (invalid, 1) }
            return (UInt32(b0 & 0x0F) << 12 | UInt32(b1 & 0x3F) << 6 | UInt32(b2 & 0x3F), 3)
        case 0xF0...0xF4:
            guard i + 3 < n else { return (invalid, 1) }
            let b1 = line[i + 1], b2 = line[i + 2], b3 = line[i + 3]
            let lower: UInt8 = b0 == 0xF0 ? 0x90 : 0x80
            let upper: UInt8 = b0 == 0xF4 ? 0x8F : 0xBF
            guard b1 >= lower, b1 <= upper, b2 & 0xC0 == 0x80, b3 & 0xC0 == 0x80 else { return (invalid, 1) }
            return (UInt32(b0 & 0x07) << 18 | UInt32(b1 & 0x3F) << 12 | UInt32(b2 & 0x3F) << 6 | UInt32(b3 & 0x3F), 4)
        default:
            return (invalid, 1)
        }
    }

    /// ASCII word characters `[0-9A-Za-z_]`, the meaning of `\w` and `\b`. Every word character
    /// is one byte, so word boundaries are decided on raw bytes without decoding.
    @inline(__always)
    static func isWordByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F
    }

    @inline(__always)
    static func isWord(_ c: UInt32) -> Bool { c < 0x80 && isWordByte(UInt8(c)) }

    /// UTF-8 bytes of a scalar value (`c` must be one).
    static func encode(_ c: UInt32) -> [UInt8] {
        guard let scalar = Unicode.Scalar(c) else { return [] }
        return Array(String(Character(scalar)).utf8)
    }
}
