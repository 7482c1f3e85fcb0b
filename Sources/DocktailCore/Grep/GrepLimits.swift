/// Every limit of a `grep=` pattern, in one place. Patterns come from clients, so each limit
/// bounds what one costs to compile, to hold and to run, and each is checked while compiling:
/// a pattern that compiles matches a line in O(line bytes × instructions), with no allocation
/// per byte, whatever the pattern and the line.
public enum GrepLimits {
    /// Longest pattern, in UTF-8 bytes.
    public static let maxPatternBytes = 1_000
    /// Largest count in `{n}`, `{n,}` and `{n,m}`.
    public static let maxRepeatCount = 1_000
    /// Most instructions in a compiled program. Counted repeats multiply (`(a{1000}){1000}`
    /// would be a million), so the compiler checks the size before it copies anything.
    public static let maxInstructions = 5_000
    /// Deepest nesting of groups. Nothing recurses on the pattern's shape (the parser keeps an
    /// explicit stack, the syntax tree is a flat array), so this bounds memory, not the stack.
    public static let maxNestingDepth = 100

    /// Most states of the DFA built when the pattern compiles. Past this, or past `maxDFACells`
    /// or `maxDFABuildSteps`, the pattern runs on the Pike VM instead: as linear, but slower.
    public static let maxDFAStates = 2_000
    /// Most transition-table cells (4 bytes each: 256 KiB) the DFA of one pattern may hold.
    public static let maxDFACells = 65_536
    /// Most work (instructions visited) spent building the DFA, so compiling stays cheap.
    public static let maxDFABuildSteps = 2_000_000
    /// Longest literal searched for directly; longer ones run on the DFA (no O(n × m) re-checks).
    public static let maxLiteralSearchBytes = 64
}
