/// A set of characters: sorted, disjoint, non-adjacent ranges over the scalar values and
/// `GrepCharacter.invalid` (a bad byte), so negation is a plain complement: `[^a]`, `\D`, `\W`
/// and `\S` match a bad byte, positive classes never do.
struct GrepCharacterClass: Hashable, Sendable {
    private(set) var ranges: [ClosedRange<UInt32>]
    /// Bit `b` set when ASCII `b` is in the set (0-63 low, 64-127 high): the common test, without a search.
    private(set) var asciiLow: UInt64 = 0
    private(set) var asciiHigh: UInt64 = 0

    /// The union of `ranges` (each within 0...GrepCharacter.invalid), in any order.
    init(_ ranges: [ClosedRange<UInt32>]) {
        let sorted = ranges.sorted { $0.lowerBound < $1.lowerBound }
        var merged: [ClosedRange<UInt32>] = []
        merged.reserveCapacity(sorted.count)
        for r in sorted {
            if let last = merged.last, r.lowerBound <= last.upperBound + 1 {
                merged[merged.count - 1] = last.lowerBound...max(last.upperBound, r.upperBound)
            } else {
                merged.append(r)
            }
        }
        self.ranges = merged
        for r in merged where r.lowerBound < 0x80 {
            for b in r.lowerBound...min(r.upperBound, 0x7F) {
                if b < 64 { asciiLow |= 1 << UInt64(b) } else { asciiHigh |= 1 << UInt64(b - 64) }
            }
        }
    }

    /// Every character not in the set, bad bytes included when they are not in it.
    func negated() -> GrepCharacterClass {
        var out: [ClosedRange<UInt32>] = []
        var next: UInt32 = 0
        for r in ranges {
            if r.lowerBound > next { out.append(next...(r.lowerBound - 1)) }
            next = r.upperBound + 1
        }
        if next <= GrepCharacter.invalid { out.append(next...GrepCharacter.invalid) }
        return GrepCharacterClass(out)
    }

    /// The set with every member's case mates added (see `GrepCaseFolding`).
    func caseFolded() -> GrepCharacterClass {
        var out = ranges
        for r in ranges { GrepCaseFolding.addMates(of: r, to: &out) }
        return GrepCharacterClass(out)
    }

    @inline(__always)
    func contains(_ c: UInt32) -> Bool {
        if c < 64 { return asciiLow >> UInt64(c) & 1 != 0 }
        if c < 128 { return asciiHigh >> UInt64(c - 64) & 1 != 0 }
        var lo = 0, hi = ranges.count
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            if ranges[mid].upperBound < c { lo = mid + 1 } else { hi = mid }
        }
        return lo < ranges.count && ranges[lo].lowerBound <= c
    }

    /// The one character in the set, if it has exactly one.
    var singleCharacter: UInt32? {
        ranges.count == 1 && ranges[0].lowerBound == ranges[0].upperBound ? ranges[0].lowerBound : nil
    }

    /// `\d`: ASCII digits.
    static let digits = GrepCharacterClass([0x30...0x39])
    /// `\w`: ASCII word characters.
    static let word = GrepCharacterClass([0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A])
    /// `\s`: ASCII white space as RE2 and Go define it: tab, newline, form feed, carriage return, space (not \v).
    static let space = GrepCharacterClass([0x09...0x0A, 0x0C...0x0D, 0x20...0x20])
}
