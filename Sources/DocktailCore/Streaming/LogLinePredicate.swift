/// Which lines a history request keeps besides its stream selection: `grep=PATTERN` (with
/// `icase=1`), matched against a line's text (never its stamp). A value type around a
/// function, so the locators stay pure and tests can pass any rule.
public struct LogLinePredicate: Sendable {
    private let test: @Sendable (LogLine) -> Bool

    public init(_ test: @escaping @Sendable (LogLine) -> Bool) {
        self.test = test
    }

    public func matches(_ line: LogLine) -> Bool { test(line) }

    /// A line's text as the bytes a pattern sees (valid UTF-8, no newline: the decoder repaired it).
    @inline(__always)
    static func withText<R>(_ line: LogLine, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        line.storage.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[line.timestampLength...])) }
    }

    /// Lines whose text `pattern` matches (`GrepPattern`: linear time whatever the line).
    public static func grep(_ pattern: GrepPattern) -> LogLinePredicate {
        LogLinePredicate { line in withText(line) { pattern.matches($0) } }
    }

    /// The `grep` and `icase` parameters of a history request (`GrepFilter.parse`, the same
    /// rules as `/logs/{ref}`): nil without `grep`.
    static func parse(_ query: [String: String]) throws(LogQuery.InvalidParameter) -> LogLinePredicate? {
        guard let filter = try GrepFilter.parse(query) else { return nil }
        return LogLinePredicate { filter.matches($0) }
    }
}
