/// Parses a pattern (syntax: see `GrepPattern`) into a `GrepSyntaxTree`, folding case as it
/// goes when the pattern is case-insensitive. Open groups live on an explicit stack, so
/// nesting costs heap, not call depth, and `GrepLimits.maxNestingDepth` bounds it before it
/// grows. Every error names the problem and the byte offset in the pattern where it starts.
struct GrepParser {
    typealias SyntaxError = GrepPattern.SyntaxError

    /// A group being parsed: its finished alternatives and the pieces of the current one.
    private struct Frame {
        /// Offset of the '(' (-1 for the whole pattern).
        var open: Int
        var branches: [Int] = []
        var items: [Int] = []
        /// What the last piece is: a repetition operator needs an atom before it, and one
        /// operator right after another (`a**`, `a{2}{3}`) is refused as RE2 and Go do.
        var last: Last = .none
    }

    private enum Last { case none, atom, repetition }

    /// What a backslash sequence stands for.
    private enum Escape {
        case character(UInt32)
        case characterClass(GrepCharacterClass)
        case assertion(GrepAssertion)
    }

    private let bytes: [UInt8]
    private var i = 0
    private var tree = GrepSyntaxTree()
    private var frames = [Frame(open: -1)]
    private var caseInsensitive: Bool

    private init(_ bytes: [UInt8], caseInsensitive: Bool) {
        self.bytes = bytes
        self.caseInsensitive = caseInsensitive
    }

    /// The tree of `pattern`, and whether it is case-insensitive (the switch or a leading `(?i)`).
    static func parse(_ pattern: String, caseInsensitive: Bool) throws(SyntaxError) -> (tree: GrepSyntaxTree, caseInsensitive: Bool) {
        let bytes = Array(pattern.utf8)
        guard bytes.count <= GrepLimits.maxPatternBytes else {
            throw SyntaxError(offset: GrepLimits.maxPatternBytes,
                              message: "pattern is longer than \(GrepLimits.maxPatternBytes) bytes")
        }
        var parser = GrepParser(bytes, caseInsensitive: caseInsensitive)
        try parser.run()
        return (parser.tree, parser.caseInsensitive)
    }

    private mutating func run() throws(SyntaxError) {
        let n = bytes.count
        while i < n {
            switch bytes[i] {
            case UInt8(ascii: "("): try openGroup()
            case UInt8(ascii: ")"): try closeGroup()
            case UInt8(ascii: "|"):
                endBranch()
                i += 1
            case UInt8(ascii: "*"): try repeatLast(min: 0, max: nil, length: 1)
            case UInt8(ascii: "+"): try repeatLast(min: 1, max: nil, length: 1)
            case UInt8(ascii: "?"): try repeatLast(min: 0, max: 1, length: 1)
            case UInt8(ascii: "{"):
                if let r = try braces() {
                    try repeatLast(min: r.min, max: r.max, length: r.length)
                } else {
                    // Not a counted repeat: a literal '{', as in RE2 and Go (`{"level":"error"}`).
                    addAtom(.character(UInt32(UInt8(ascii: "{"))), at: i)
                    i += 1
                }
            case UInt8(ascii: "["): try parseClass()
            case UInt8(ascii: "."):
                addAtom(.anyExceptNewline, at: i)
                i += 1
            case UInt8(ascii: "^"):
                addAtom(.assertion(.lineStart), at: i)
                i += 1
            case UInt8(ascii: "$"):
                addAtom(.assertion(.lineEnd), at: i)
                i += 1
            case UInt8(ascii: "\\"):
                let start = i
                switch try escape() {
                case .character(let c): addAtom(characterNode(c), at: start)
                case .characterClass(let cls): addAtom(classNode(cls), at: start)
                case .assertion(let a): addAtom(.assertion(a), at: start)
                }
            default:
                let start = i
                let c = try scalar()
                addAtom(characterNode(c), at: start)
            }
        }
        guard frames.count == 1, let root = frames.first else {
            throw SyntaxError(offset: frames[frames.count - 1].open, message: "unbalanced parenthesis: this '(' is never closed")
        }
        tree.root = finish(root)
    }

    // MARK: Groups and alternatives

    private mutating func openGroup() throws(SyntaxError) {
        let start = i
        let n = bytes.count
        var j = i + 1
        if j < n, bytes[j] == UInt8(ascii: "?") {
            j += 1
            guard j < n else { throw SyntaxError(offset: start, message: "unterminated group: '(?' at the end of the pattern") }
            switch bytes[j] {
            case UInt8(ascii: ":"):
                j += 1
            case UInt8(ascii: "="), UInt8(ascii: "!"):
                throw SyntaxError(offset: start, message: "lookahead \(text(start, j + 1))…) is not supported: it cannot run in linear time")
            case UInt8(ascii: "<") where j + 1 < n && (bytes[j + 1] == UInt8(ascii: "=") || bytes[j + 1] == UInt8(ascii: "!")):
                throw SyntaxError(offset: start, message: "lookbehind \(text(start, j + 2))…) is not supported: it cannot run in linear time")
            case UInt8(ascii: "<"), UInt8(ascii: "P"):
                // Named groups, (?<name>…) and (?P<name>…), group like (?:…): names capture nothing here.
                if bytes[j] == UInt8(ascii: "P") {
                    j += 1
                    if j < n, bytes[j] == UInt8(ascii: "=") {
                        throw SyntaxError(offset: start, message: "backreferences are not supported: they cannot run in linear time")
                    }
                    guard j < n, bytes[j] == UInt8(ascii: "<") else {
                        throw SyntaxError(offset: start, message: "unsupported group syntax '\(text(start, min(j + 1, n)))': use (…), (?:…) or (?<name>…)")
                    }
                }
                j += 1
                let nameStart = j
                while j < n, GrepCharacter.isWordByte(bytes[j]) { j += 1 }
                guard j > nameStart, j < n, bytes[j] == UInt8(ascii: ">") else {
                    throw SyntaxError(offset: start, message: "bad group name: expected (?<name>…) with a name of letters, digits and '_'")
                }
                j += 1
            default:
                let flagsStart = j
                while j < n, isASCIILetter(bytes[j]) || bytes[j] == UInt8(ascii: "-") { j += 1 }
                let flags = text(flagsStart, j)
                if flags == "i", j < n, bytes[j] == UInt8(ascii: ")") {
                    guard start == 0 else {
                        throw SyntaxError(offset: start, message: "the flag group (?i) is only supported at the start of the pattern")
                    }
                    caseInsensitive = true
                    i = j + 1
                    return
                }
                if flags.isEmpty {
                    throw SyntaxError(offset: start, message: "unsupported group syntax '\(text(start, min(j + 1, n)))': use (…), (?:…) or (?<name>…)")
                }
                throw SyntaxError(offset: start, message: "unsupported flags '(?\(flags)': only a leading (?i) is supported")
            }
        }
        guard frames.count <= GrepLimits.maxNestingDepth else {
            throw SyntaxError(offset: start, message: "groups nest more than \(GrepLimits.maxNestingDepth) deep")
        }
        frames.append(Frame(open: start))
        i = j
    }

    private mutating func closeGroup() throws(SyntaxError) {
        guard frames.count > 1, let frame = frames.popLast() else {
            throw SyntaxError(offset: i, message: "unbalanced parenthesis: this ')' has no matching '('")
        }
        let group = finish(frame)
        let top = frames.count - 1
        frames[top].items.append(group)
        frames[top].last = .atom
        i += 1
    }

    private mutating func endBranch() {
        let top = frames.count - 1
        let branch = concatenation(frames[top].items, at: i)
        frames[top].branches.append(branch)
        frames[top].items = []
        frames[top].last = .none
    }

    private mutating func finish(_ frame: Frame) -> Int {
        var branches = frame.branches
        branches.append(concatenation(frame.items, at: i))
        if branches.count == 1 { return branches[0] }
        return tree.add(.alternation(branches), at: frame.open + 1)
    }

    private mutating func concatenation(_ items: [Int], at offset: Int) -> Int {
        switch items.count {
        case 0: return tree.add(.empty, at: offset)
        case 1: return items[0]
        default: return tree.add(.concatenation(items), at: tree.offsets[items[0]])
        }
    }

    private mutating func addAtom(_ node: GrepSyntaxTree.Node, at offset: Int) {
        let index = tree.add(node, at: offset)
        let top = frames.count - 1
        frames[top].items.append(index)
        frames[top].last = .atom
    }

    // MARK: Repetition

    /// Applies the operator at `i` (`length` bytes) to the last atom, with an optional lazy `?`.
    private mutating func repeatLast(min: Int, max: Int?, length: Int) throws(SyntaxError) {
        let start = i
        let op = text(start, start + length)
        let top = frames.count - 1
        switch frames[top].last {
        case .none:
            throw SyntaxError(offset: start, message: "nothing to repeat before '\(op)'")
        case .repetition:
            throw SyntaxError(offset: start, message: "nested repetition: '\(op)' follows another repetition operator; put the first in a group, like (?:a+)\(op)")
        case .atom:
            break
        }
        i = start + length
        var lazy = false
        if i < bytes.count, bytes[i] == UInt8(ascii: "?") {
            lazy = true
            i += 1
        } else if i < bytes.count, bytes[i] == UInt8(ascii: "+") {
            throw SyntaxError(offset: start, message: "possessive repetition '\(op)+' is not supported")
        }
        guard let child = frames[top].items.last else {
            throw SyntaxError(offset: start, message: "nothing to repeat before '\(op)'")
        }
        let node = tree.add(.repetition(child, min: min, max: max, lazy: lazy), at: start)
        frames[top].items[frames[top].items.count - 1] = node
        frames[top].last = .repetition
    }

    /// The counted repeat `{n}`, `{n,}` or `{n,m}` at `i`, or nil when the text there is not one.
    private func braces() throws(SyntaxError) -> (min: Int, max: Int?, length: Int)? {
        let n = bytes.count
        var j = i + 1
        func number() -> Int? {
            let start = j
            var value = 0
            while j < n, bytes[j] >= 0x30, bytes[j] <= 0x39 {
                value = Swift.min(value * 10 + Int(bytes[j] - 0x30), 1_000_000)
                j += 1
            }
            return j > start ? value : nil
        }
        guard let lower = number() else { return nil }
        var upper: Int? = lower
        if j < n, bytes[j] == UInt8(ascii: ",") {
            j += 1
            upper = number()
        }
        guard j < n, bytes[j] == UInt8(ascii: "}") else { return nil }
        j += 1
        let spelled = text(i, j)
        guard lower <= GrepLimits.maxRepeatCount, (upper ?? 0) <= GrepLimits.maxRepeatCount else {
            throw SyntaxError(offset: i, message: "repeat count in \(spelled) is more than \(GrepLimits.maxRepeatCount)")
        }
        if let upper, upper < lower {
            throw SyntaxError(offset: i, message: "bad repeat \(spelled): the maximum is less than the minimum")
        }
        return (lower, upper, j - i)
    }

    // MARK: Classes

    private mutating func parseClass() throws(SyntaxError) {
        let start = i
        let n = bytes.count
        i += 1
        var negate = false
        if i < n, bytes[i] == UInt8(ascii: "^") {
            negate = true
            i += 1
        }
        var ranges: [ClosedRange<UInt32>] = []
        var first = true
        while true {
            guard i < n else { throw SyntaxError(offset: start, message: "unterminated character class: missing ']'") }
            // ']' first in the class is a member (`[]a]`), as in POSIX, RE2 and Go.
            if bytes[i] == UInt8(ascii: "]"), !first {
                i += 1
                break
            }
            first = false
            if bytes[i] == UInt8(ascii: "["), let end = posixClassEnd() {
                throw SyntaxError(offset: i, message: "POSIX classes like \(text(i, end)) are not supported: use \\d, \\w, \\s or a range")
            }
            let itemStart = i
            let item = try classItem()
            if i + 1 < n, bytes[i] == UInt8(ascii: "-"), bytes[i + 1] != UInt8(ascii: "]") {
                guard case .character(let lower) = item else {
                    throw SyntaxError(offset: itemStart, message: "bad range: a class like \(text(itemStart, i)) cannot start a range")
                }
                i += 1
                let upperStart = i
                guard case .character(let upper) = try classItem() else {
                    throw SyntaxError(offset: upperStart, message: "bad range: a class like \(text(upperStart, i)) cannot end a range")
                }
                guard lower <= upper else {
                    throw SyntaxError(offset: itemStart, message: "bad range \(text(itemStart, i)): the start comes after the end")
                }
                ranges.append(lower...upper)
            } else {
                switch item {
                case .character(let c): ranges.append(c...c)
                case .characterClass(let cls): ranges += cls.ranges
                case .assertion: break
                }
            }
        }
        var cls = GrepCharacterClass(ranges)
        if caseInsensitive { cls = cls.caseFolded() }
        if negate { cls = cls.negated() }
        addAtom(cls.singleCharacter.map { .character($0) } ?? .characterClass(cls), at: start)
    }

    /// One member of a class: a character or a class escape such as `\d`.
    private mutating func classItem() throws(SyntaxError) -> Escape {
        let start = i
        guard bytes[i] == UInt8(ascii: "\\") else { return .character(try scalar()) }
        let e = try escape()
        if case .assertion = e {
            throw SyntaxError(offset: start, message: "\(text(start, i)) is not allowed in a character class")
        }
        return e
    }

    /// The end of a POSIX class such as `[:alpha:]` starting at `i`, if there is one.
    private func posixClassEnd() -> Int? {
        let n = bytes.count
        guard i + 1 < n, bytes[i + 1] == UInt8(ascii: ":") else { return nil }
        var j = i + 2
        while j < n, bytes[j] >= UInt8(ascii: "a"), bytes[j] <= UInt8(ascii: "z") { j += 1 }
        guard j > i + 2, j + 1 < n, bytes[j] == UInt8(ascii: ":"), bytes[j + 1] == UInt8(ascii: "]") else { return nil }
        return j + 2
    }

    // MARK: Escapes and characters

    private mutating func escape() throws(SyntaxError) -> Escape {
        let start = i
        let n = bytes.count
        guard i + 1 < n else { throw SyntaxError(offset: start, message: "trailing backslash at the end of the pattern") }
        let c = bytes[i + 1]
        i += 2
        switch c {
        case UInt8(ascii: "d"): return .characterClass(perlClass(.digits, negated: false))
        case UInt8(ascii: "D"): return .characterClass(perlClass(.digits, negated: true))
        case UInt8(ascii: "w"): return .characterClass(perlClass(.word, negated: false))
        case UInt8(ascii: "W"): return .characterClass(perlClass(.word, negated: true))
        case UInt8(ascii: "s"): return .characterClass(perlClass(.space, negated: false))
        case UInt8(ascii: "S"): return .characterClass(perlClass(.space, negated: true))
        case UInt8(ascii: "b"): return .assertion(.wordBoundary)
        case UInt8(ascii: "B"): return .assertion(.notWordBoundary)
        case UInt8(ascii: "A"): return .assertion(.lineStart)
        case UInt8(ascii: "z"): return .assertion(.lineEnd)
        case UInt8(ascii: "t"): return .character(0x09)
        case UInt8(ascii: "n"): return .character(0x0A)
        case UInt8(ascii: "v"): return .character(0x0B)
        case UInt8(ascii: "f"): return .character(0x0C)
        case UInt8(ascii: "r"): return .character(0x0D)
        case UInt8(ascii: "a"): return .character(0x07)
        case UInt8(ascii: "x"): return .character(try hexEscape(start: start))
        case UInt8(ascii: "1")...UInt8(ascii: "9"), UInt8(ascii: "k"), UInt8(ascii: "g"):
            throw SyntaxError(offset: start, message: "backreferences are not supported: they cannot run in linear time")
        case UInt8(ascii: "0"):
            throw SyntaxError(offset: start, message: "octal escapes like \\0 are not supported: use \\xHH")
        case UInt8(ascii: "p"), UInt8(ascii: "P"):
            throw SyntaxError(offset: start, message: "Unicode property classes like \\p{L} are not supported")
        case 0x20...0x7E where !isASCIILetter(c) && !(c >= 0x30 && c <= 0x39):
            // Any escaped ASCII punctuation (or space) is itself: \. \\ \* \( \[ \{ \- \/ …
            return .character(UInt32(c))
        default:
            let end = c < 0x80 ? i : min(start + 1 + utf8Length(c), n)
            throw SyntaxError(offset: start, message: "bad escape \(text(start, end)): unknown escape sequence")
        }
    }

    /// `\xHH` or `\x{H…}`; `i` is just past the `x`.
    private mutating func hexEscape(start: Int) throws(SyntaxError) -> UInt32 {
        let n = bytes.count
        var value: UInt32 = 0
        if i < n, bytes[i] == UInt8(ascii: "{") {
            var j = i + 1
            while j < n, let h = hexValue(bytes[j]) {
                value = min(value * 16 + h, 0x20_0000)
                j += 1
            }
            guard j > i + 1, j < n, bytes[j] == UInt8(ascii: "}") else {
                throw SyntaxError(offset: start, message: "bad escape \\x{: expected hex digits and a closing '}'")
            }
            i = j + 1
        } else {
            guard i + 1 < n, let h1 = hexValue(bytes[i]), let h2 = hexValue(bytes[i + 1]) else {
                throw SyntaxError(offset: start, message: "bad escape \\x: expected two hex digits, or \\x{…}")
            }
            value = h1 << 4 | h2
            i += 2
        }
        guard value <= 0x10_FFFF, !(0xD800...0xDFFF).contains(value) else {
            throw SyntaxError(offset: start, message: "bad escape \(text(start, i)): not a Unicode scalar value")
        }
        return value
    }

    /// The pattern's character at `i` (the pattern is a String, so this is always valid UTF-8).
    private mutating func scalar() throws(SyntaxError) -> UInt32 {
        let at = i
        let decoded = bytes.withUnsafeBytes { GrepCharacter.decode($0, at: at) }
        guard decoded.character != GrepCharacter.invalid else {
            throw SyntaxError(offset: at, message: "invalid UTF-8 in the pattern")
        }
        i += decoded.width
        return decoded.character
    }

    private func perlClass(_ base: GrepCharacterClass, negated: Bool) -> GrepCharacterClass {
        let folded = caseInsensitive ? base.caseFolded() : base
        return negated ? folded.negated() : folded
    }

    private func characterNode(_ c: UInt32) -> GrepSyntaxTree.Node {
        guard caseInsensitive else { return .character(c) }
        let orbit = GrepCaseFolding.orbit(of: c)
        return orbit.count > 1 ? .characterClass(GrepCharacterClass(orbit.map { $0...$0 })) : .character(c)
    }

    private func classNode(_ cls: GrepCharacterClass) -> GrepSyntaxTree.Node {
        cls.singleCharacter.map { .character($0) } ?? .characterClass(cls)
    }

    private func text(_ from: Int, _ to: Int) -> String {
        let lo = max(0, min(from, bytes.count)), hi = max(lo, min(to, bytes.count))
        return String(decoding: bytes[lo..<hi], as: UTF8.self)
    }

    private func isASCIILetter(_ b: UInt8) -> Bool { (b | 0x20) >= UInt8(ascii: "a") && (b | 0x20) <= UInt8(ascii: "z") }

    private func hexValue(_ b: UInt8) -> UInt32? {
        switch b {
        case 0x30...0x39: return UInt32(b - 0x30)
        case 0x41...0x46: return UInt32(b - 0x41 + 10)
        case 0x61...0x66: return UInt32(b - 0x61 + 10)
        default: return nil
        }
    }

    private func utf8Length(_ lead: UInt8) -> Int {
        lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
    }
}
