/// A compiled `grep=` pattern: a regular expression matched against each log line, history and
/// live alike, in time linear in the line whatever the pattern. Clients choose both the pattern
/// and (through their containers) the lines, so nothing backtracks: the pattern is parsed to a
/// syntax tree, compiled to a Thompson NFA program, and run as a DFA built at compile time (or,
/// when that DFA would be too large, on a Pike VM), over the line's UTF-8 bytes. `(a+)+$`
/// against 100,000 `a`s and a `!` costs what any other pattern of its size costs.
///
/// A compiled pattern is an immutable value (the DFA is built in full at compile time, with no
/// cache to fill later): share it, and call it from any queue at once. Matching allocates
/// nothing, except that the Pike VM takes its scratch (about 7 words per instruction) for the
/// length of one call, on the stack when small; it runs only for `firstMatch` on a matching
/// line and for patterns whose DFA would pass `GrepLimits`.
///
/// Syntax, a subset of RE2's and Go's:
///
///     abc é       literal characters (any Unicode scalar)
///     .           any character but \n: one UTF-8 character, not one byte
///     [abc] [a-z] [^a-z0-9_]   classes; ranges over Unicode scalars; ']' first is a member,
///                 '-' first or last is a member; \d \w \s \D \W \S and escapes work inside
///     \d \D       ASCII digit [0-9], and not
///     \w \W       ASCII word character [0-9A-Za-z_], and not
///     \s \S       ASCII white space [\t\n\f\r ] (as RE2 and Go: no \v), and not
///     ^ $ \A \z   start and end of the line (a line has no newline)
///     \b \B       ASCII word boundary, and not
///     (re) (?:re) (?<name>re) (?P<name>re)   groups; they only group (nothing is captured)
///     x|y         alternation
///     x* x+ x?    repetition; x{n} x{n,} x{n,m} counted (n, m ≤ 1000); '{' that does not
///                 start a counted repeat is a literal '{', as in RE2 and Go
///     x*? x+? x?? x{n,m}?   lazy forms: they change which match `firstMatch` reports, not
///                 whether a line matches
///     \t \n \r \f \v \a \xHH \x{HHHH}   escapes (\xHH is the character U+00HH, not a byte)
///     \. \\ \* \( \[ \{ \| \- …   any escaped ASCII punctuation is itself
///     (?i)        at the very start: case-insensitive, as the `icase=1` switch
///
/// Case-insensitive matching folds ASCII letters and the simple one-to-one Unicode
/// lowercase/uppercase pairs, closed into orbits as RE2 and Go do (`k` also matches the Kelvin
/// sign, `s` the long s, `σ` also `ς` and `Σ`; `ß` does not match `ss`: see `GrepCaseFolding`).
///
/// A byte of the line that is not valid UTF-8 is one character that only `.` and negated
/// classes (`[^…]`, `\D`, `\W`, `\S`) match; it never matches a literal (not even U+FFFD).
///
/// Refused with a `SyntaxError` (byte offset in the pattern and a message naming the problem):
/// unbalanced parentheses, a repetition with nothing to repeat or of a repetition (`a**`,
/// `a{2}{3}`; group the first) or possessive (`a*+`), unknown escapes, backreferences
/// (`\1`, `\k<n>`) and lookaround (`(?=`, `(?!`, `(?<=`, `(?<!`) which cannot run in linear
/// time, Unicode classes (`\p{L}`), POSIX classes (`[[:alpha:]]`), flags other than a leading
/// `(?i)`, reversed ranges (`[z-a]`), reversed counts (`{3,2}`), unterminated classes, and
/// anything past `GrepLimits`.
public struct GrepPattern: Sendable {
    /// Why a pattern was refused: `offset` is the byte offset in the pattern's UTF-8 where the
    /// problem starts (→ 400 with the message).
    public struct SyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
        public let offset: Int
        public let message: String
        public var description: String { "\(message) (at offset \(offset))" }
    }

    /// How lines are searched, chosen once at compile time, fastest first.
    enum Strategy: Sendable {
        /// A plain string: skip to its first byte, then compare.
        case literal(GrepLiteralSearch)
        /// One table step per character.
        case dfa(GrepDFA)
        /// The DFA would pass `GrepLimits`: the Pike VM, O(bytes × instructions).
        case pikeVM
    }

    public let source: String
    /// The `icase=1` switch or a leading `(?i)`.
    let isCaseInsensitive: Bool
    let program: GrepProgram
    let strategy: Strategy

    /// Compiles `pattern`; `caseInsensitive` is the `icase=1` switch (a leading `(?i)` in the pattern does the same).
    public init(_ pattern: String, caseInsensitive: Bool = false) throws(SyntaxError) {
        let parsed = try GrepParser.parse(pattern, caseInsensitive: caseInsensitive)
        let program = try GrepCompiler.compile(parsed.tree)
        self.source = pattern
        self.isCaseInsensitive = parsed.caseInsensitive
        self.program = program
        if let literal = GrepLiteralSearch(program) {
            strategy = .literal(literal)
        } else if let dfa = GrepDFA.build(program) {
            strategy = .dfa(dfa)
        } else {
            strategy = .pikeVM
        }
    }

    /// True when some part of `line` (UTF-8 bytes) matches.
    public func matches(_ line: UnsafeRawBufferPointer) -> Bool {
        switch strategy {
        case .literal(let literal): return literal.firstIndex(in: line) != nil
        case .dfa(let dfa): return dfa.matches(line)
        case .pikeVM: return program.pikeSearch(line, earliest: true) != nil
        }
    }

    public func matches(_ line: [UInt8]) -> Bool {
        line.withUnsafeBytes { matches($0) }
    }

    public func matches(_ line: String) -> Bool {
        if let result = line.utf8.withContiguousStorageIfAvailable({ matches(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return matches(Array(line.utf8))
    }

    /// Byte range of the leftmost match, if any: leftmost-first, as RE2 and Go report it (the
    /// leftmost start; from there, alternatives in order and greedy or lazy repeats as written;
    /// see `GrepProgram.pikeSearch`), for highlighting. A line that does not match costs what
    /// `matches` costs; one that does is run again on the Pike VM to find the range.
    public func firstMatch(_ line: [UInt8]) -> Range<Int>? {
        line.withUnsafeBytes { firstMatch(in: $0) }
    }

    func firstMatch(in line: UnsafeRawBufferPointer) -> Range<Int>? {
        switch strategy {
        case .literal(let literal):
            return literal.firstIndex(in: line).map { $0..<($0 + literal.count) }
        case .dfa(let dfa):
            return dfa.matches(line) ? program.pikeSearch(line, earliest: false) : nil
        case .pikeVM:
            return program.pikeSearch(line, earliest: false)
        }
    }
}
