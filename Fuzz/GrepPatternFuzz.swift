// libFuzzer target `grep-pattern`: the input is a flags byte (bit 0: case-insensitive), a
// pattern, a 0x00 byte, then a line (any bytes, invalid UTF-8 included). Compiling may fail, but
// must never trap, and a refusal must carry an offset within the pattern and a message. A
// pattern that compiles must match the line the same way through every entry point and every
// strategy (literal search, DFA, Pike VM): `matches` equals `firstMatch != nil`, the range lies
// within the line, and the DFA and literal search agree with the Pike VM. Programs are already
// bounded by GrepLimits; past 5,000 instructions only compiling is exercised, so each input
// stays fast.

func fuzzGrepPattern(_ bytes: [UInt8]) {
    guard let flags = bytes.first else { return }
    let rest = bytes.dropFirst()
    let separator = rest.firstIndex(of: 0) ?? rest.endIndex
    let patternBytes = Array(rest[..<separator])
    let line = separator < rest.endIndex ? Array(rest[(separator + 1)...]) : []
    let pattern = String(decoding: patternBytes, as: UTF8.self)

    let compiled: GrepPattern
    do {
        compiled = try GrepPattern(pattern, caseInsensitive: flags & 1 != 0)
    } catch {
        precondition(error.offset >= 0 && error.offset <= pattern.utf8.count, "error offset \(error.offset) outside the pattern: \(error)")
        precondition(!error.message.isEmpty, "error without a message")
        return
    }
    precondition(compiled.program.instructions.count <= GrepLimits.maxInstructions + 1, "program past the limit")
    guard compiled.program.instructions.count <= 5_000 else { return }

    let matches = compiled.matches(line)
    let range = compiled.firstMatch(line)
    precondition(matches == (range != nil), "matches \(matches) but firstMatch \(String(describing: range)) for \(pattern.debugDescription)")
    if let range { precondition(range.lowerBound >= 0 && range.lowerBound <= range.upperBound && range.upperBound <= line.count, "range \(range) outside the line") }
    line.withUnsafeBytes { p in
        precondition(compiled.matches(p) == matches, "buffer and array entry points differ")
        let pike = compiled.program.pikeSearch(p, earliest: true) != nil
        precondition(pike == matches, "Pike VM says \(pike), strategy \(compiled.strategy) says \(matches) for \(pattern.debugDescription)")
        // The pattern's own DFA; for a literal pattern, one built to compare (for the Pike VM
        // strategy, building it already failed at compile time).
        var dfa: GrepDFA?
        switch compiled.strategy {
        case .dfa(let d): dfa = d
        case .literal: dfa = GrepDFA.build(compiled.program)
        case .pikeVM: dfa = nil
        }
        if let dfa {
            precondition(dfa.matches(p) == pike, "DFA and Pike VM differ for \(pattern.debugDescription)")
        }
        if let literal = GrepLiteralSearch(compiled.program) {
            precondition((literal.firstIndex(in: p) != nil) == pike, "literal search and Pike VM differ for \(pattern.debugDescription)")
        }
    }
    if let text = String(validating: line, as: UTF8.self) {
        precondition(compiled.matches(text) == matches, "String and bytes entry points differ")
    }
}
