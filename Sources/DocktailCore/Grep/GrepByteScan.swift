/// Finds the next of up to three bytes in a line, eight bytes per step (SWAR: a byte equal to
/// `b` is a zero byte of `word ^ (b × 0x01…01)`, and `(x − 0x01…01) & ~x & 0x80…80` flags the
/// zero bytes of `x`; its lowest flag is exact). Used to skip ahead to where a match can start.
enum GrepByteScan {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// The first index at or after `from` whose byte is one of `packed`'s (`count | b0 << 8 |
    /// b1 << 16 | b2 << 24`, count 1...3), or `line.count`.
    @inline(__always)
    static func firstIndex(in line: UnsafeRawBufferPointer, from: Int, packed: UInt32) -> Int {
        let count = packed & 0xFF
        let b0 = UInt8(truncatingIfNeeded: packed >> 8)
        let b1 = count >= 2 ? UInt8(truncatingIfNeeded: packed >> 16) : b0
        let b2 = count >= 3 ? UInt8(truncatingIfNeeded: packed >> 24) : b0
        return firstIndex(in: line, from: from, b0, b1, b2)
    }

    /// The first index at or after `from` whose byte is `b0`, `b1` or `b2`, or `line.count`.
    static func firstIndex(in line: UnsafeRawBufferPointer, from: Int, _ b0: UInt8, _ b1: UInt8, _ b2: UInt8) -> Int {
        let n = line.count
        var i = max(from, 0)
        let m0 = ones &* UInt64(b0), m1 = ones &* UInt64(b1), m2 = ones &* UInt64(b2)
        while i + 8 <= n {
            let word = UInt64(littleEndian: line.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            let x0 = word ^ m0, x1 = word ^ m1, x2 = word ^ m2
            let hits = ((x0 &- ones) & ~x0 | (x1 &- ones) & ~x1 | (x2 &- ones) & ~x2) & highs
            if hits != 0 { return i + hits.trailingZeroBitCount >> 3 }
            i += 8
        }
        while i < n {
            let b = line[i]
            if b == b0 || b == b1 || b == b2 { return i }
            i += 1
        }
        return n
    }
}
