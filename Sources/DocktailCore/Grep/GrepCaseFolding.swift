/// Which characters `(?i)` treats as the same: ASCII letters, and the simple (one scalar to one
/// scalar) lowercase/uppercase pairs of Unicode, closed into orbits the way RE2 and Go fold:
/// `k`, `K` and the Kelvin sign U+212A are one orbit; `s`, `S` and long s U+017F another;
/// `σ`, `ς` and `Σ` another. Mappings to several scalars (`ß` → `SS`, `İ` → `i̇`) are left out,
/// and so are characters that case folding leaves alone (dotless `ı` is not an `i`).
///
/// The table is built from the standard library's Unicode data the first time a
/// case-insensitive pattern compiles (about 1,500 scalars; a `static let`, so once per process
/// and safe from any thread), then only read.
enum GrepCaseFolding {
    private struct Table: Sendable {
        /// Every scalar that has case mates, sorted.
        var scalars: [UInt32] = []
        /// For `scalars[i]`, the index of its orbit in `orbits`.
        var orbitIndex: [Int] = []
        /// Orbits, each sorted, each with at least two members.
        var orbits: [[UInt32]] = []
    }

    private static let table: Table = build()

    /// The characters `c` matches without regard to case, `c` included, sorted.
    static func orbit(of c: UInt32) -> [UInt32] {
        let t = table
        guard let i = index(of: c, in: t.scalars) else { return [c] }
        return t.orbits[t.orbitIndex[i]]
    }

    /// Adds to `ranges` the case mates of every character in `range`.
    static func addMates(of range: ClosedRange<UInt32>, to ranges: inout [ClosedRange<UInt32>]) {
        let t = table
        var i = lowerBound(range.lowerBound, in: t.scalars)
        while i < t.scalars.count, t.scalars[i] <= range.upperBound {
            for m in t.orbits[t.orbitIndex[i]] where !range.contains(m) { ranges.append(m...m) }
            i += 1
        }
    }

    private static func lowerBound(_ c: UInt32, in sorted: [UInt32]) -> Int {
        var lo = 0, hi = sorted.count
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            if sorted[mid] < c { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    private static func index(of c: UInt32, in sorted: [UInt32]) -> Int? {
        let i = lowerBound(c, in: sorted)
        return i < sorted.count && sorted[i] == c ? i : nil
    }

    private static func build() -> Table {
        // Union-find over the scalars joined by single-scalar lowercase and uppercase mappings.
        var parent: [UInt32: UInt32] = [:]
        func find(_ x: UInt32) -> UInt32 {
            var r = x
            while let p = parent[r], p != r { r = p }
            var y = x
            while let p = parent[y], p != r { parent[y] = r; y = p }
            return r
        }
        func join(_ a: UInt32, _ b: UInt32) {
            if parent[a] == nil { parent[a] = a }
            if parent[b] == nil { parent[b] = b }
            let ra = find(a), rb = find(b)
            if ra != rb { parent[max(ra, rb)] = min(ra, rb) }
        }
        func single(_ s: String) -> UInt32? {
            var it = s.unicodeScalars.makeIterator()
            guard let first = it.next(), it.next() == nil else { return nil }
            return first.value
        }
        // Every cased script is below U+20000 (the last, Adlam, ends at U+1E94B).
        for v in UInt32(0)..<0x2_0000 {
            guard let scalar = Unicode.Scalar(v) else { continue }
            let p = scalar.properties
            guard p.changesWhenCaseFolded else { continue }
            let lower = single(p.lowercaseMapping)
            let upper = single(p.uppercaseMapping)
            if let l = lower, l != v { join(v, l) }
            if let u = upper, u != v {
                join(v, u)
                if let uu = Unicode.Scalar(u), let l = single(uu.properties.lowercaseMapping), l != u { join(v, l) }
            }
        }
        var byRoot: [UInt32: [UInt32]] = [:]
        for x in parent.keys { byRoot[find(x), default: []].append(x) }
        var t = Table()
        var entries: [(UInt32, Int)] = []
        for members in byRoot.values where members.count > 1 {
            let sorted = members.sorted()
            for m in sorted { entries.append((m, t.orbits.count)) }
            t.orbits.append(sorted)
        }
        entries.sort { $0.0 < $1.0 }
        t.scalars = entries.map(\.0)
        t.orbitIndex = entries.map(\.1)
        return t
    }
}
