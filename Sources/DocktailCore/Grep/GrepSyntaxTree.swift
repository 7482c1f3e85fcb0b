/// A parsed pattern as a flat array of nodes in which every node's children come before it.
/// Compiling is then one pass in index order, and nothing — building, compiling, freeing —
/// recurses on the pattern's shape, however deeply it nests.
struct GrepSyntaxTree: Sendable {
    enum Node: Sendable, Equatable {
        /// Matches the empty string (`()`, an empty alternative).
        case empty
        case character(UInt32)
        case characterClass(GrepCharacterClass)
        /// `.`: any character but `\n`, a bad byte included.
        case anyExceptNewline
        case assertion(GrepAssertion)
        case concatenation([Int])
        case alternation([Int])
        /// `max` nil = unbounded. Laziness only changes which match `firstMatch` reports.
        case repetition(Int, min: Int, max: Int?, lazy: Bool)
    }

    private(set) var nodes: [Node] = []
    /// Byte offset in the pattern each node starts at, for error messages.
    private(set) var offsets: [Int] = []
    var root = 0

    mutating func add(_ node: Node, at offset: Int) -> Int {
        nodes.append(node)
        offsets.append(offset)
        return nodes.count - 1
    }
}

/// The zero-width tests. A line has no newline, so `^` and `$` are its start and end.
enum GrepAssertion: Int32, Sendable {
    case lineStart, lineEnd, wordBoundary, notWordBoundary
}

/// What the zero-width tests see at one position of a line.
struct GrepAssertionContext {
    var atStart: Bool
    var atEnd: Bool
    /// Whether the characters before and after are ASCII word characters (no character = not).
    var previousIsWord: Bool
    var nextIsWord: Bool

    @inline(__always)
    func holds(_ assertion: GrepAssertion) -> Bool {
        switch assertion {
        case .lineStart: return atStart
        case .lineEnd: return atEnd
        case .wordBoundary: return previousIsWord != nextIsWord
        case .notWordBoundary: return previousIsWord == nextIsWord
        }
    }

    /// The context at byte offset `i` of `line` (word characters are ASCII: no decoding needed).
    @inline(__always)
    static func at(_ i: Int, in line: UnsafeRawBufferPointer) -> GrepAssertionContext {
        GrepAssertionContext(atStart: i == 0, atEnd: i == line.count,
                             previousIsWord: i > 0 && GrepCharacter.isWordByte(line[i - 1]),
                             nextIsWord: i < line.count && GrepCharacter.isWordByte(line[i]))
    }
}
