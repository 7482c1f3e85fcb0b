/// One instruction of a Thompson NFA program.
struct GrepInstruction: Sendable, Hashable {
    enum Opcode: UInt8, Sendable {
        /// Consumes the character `x`.
        case character
        /// Consumes a character in `classes[x]`.
        case characterClass
        /// Consumes any character but `\n` (`.`).
        case anyExceptNewline
        /// Continues at `x` and at `y`; `x` first (it is the preferred, greedy way).
        case split
        case jump
        /// Continues when the `GrepAssertion` with raw value `x` holds here.
        case assertion
        case match
    }

    var opcode: Opcode
    var x: Int32
    var y: Int32

    init(_ opcode: Opcode, _ x: Int32 = 0, _ y: Int32 = 0) {
        self.opcode = opcode
        self.x = x
        self.y = y
    }
}

/// A compiled pattern: a Thompson NFA program (instruction 0 is the start, jumps are absolute)
/// and the Pike VM that runs it. The VM keeps a set of threads, one per instruction at most, and
/// moves them all forward one character at a time, so a line costs O(bytes × instructions)
/// whatever the pattern: nothing backtracks.
struct GrepProgram: Sendable {
    let instructions: [GrepInstruction]
    let classes: [GrepCharacterClass]
    let usesAssertions: Bool
    let usesWordBoundary: Bool

    /// Whether `pc` consumes `c` (`c` a character or `GrepCharacter.invalid`).
    @inline(__always)
    func accepts(_ instruction: GrepInstruction, _ c: UInt32) -> Bool {
        switch instruction.opcode {
        case .character: return UInt32(bitPattern: instruction.x) == c
        case .characterClass: return classes[Int(instruction.x)].contains(c)
        case .anyExceptNewline: return c != 0x0A
        default: return false
        }
    }

    /// Runs the Pike VM over `line`.
    ///
    /// With `earliest`, returns as soon as any match is certain (the range is then only a
    /// witness). Without, returns the leftmost-first match: the leftmost start, and from there
    /// the match a backtracking engine would report (alternatives in order, greedy and lazy
    /// repeats honoured), as RE2 and Go do. Perl and ICU agree except where a repeated
    /// sub-pattern matches the empty string: they end the loop there, a Pike VM does not
    /// (`(0??)*` on "0": "" there, "0" here).
    ///
    /// Scratch (the two thread lists, their membership marks and the closure stack, about
    /// 7 words per instruction) lives in a temporary allocation for the length of the call — on
    /// the stack when it is small — so a `GrepProgram` is immutable and can be used from any
    /// queue at once, and nothing is allocated per byte.
    func pikeSearch(_ line: UnsafeRawBufferPointer, earliest: Bool) -> Range<Int>? {
        let m = instructions.count
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 7 * m + 2) { scratch -> Range<Int>? in
            guard let base = scratch.baseAddress else { return nil }
            scratch.initialize(repeating: 0)
            return instructions.withUnsafeBufferPointer { code -> Range<Int>? in
                var vm = PikeVM(code: code, program: self, line: line, marks: base,
                                current: (base + m, base + 2 * m), next: (base + 3 * m, base + 4 * m),
                                stack: base + 5 * m, earliest: earliest)
                return vm.run()
            }
        }
    }
}

/// The state of one Pike VM run, over scratch memory owned by `GrepProgram.pikeSearch`.
private struct PikeVM {
    let code: UnsafeBufferPointer<GrepInstruction>
    let program: GrepProgram
    let line: UnsafeRawBufferPointer
    /// `marks[pc] == generation` when `pc` is already on the list being built: the lists are
    /// sparse sets that clear in O(1) by moving to the next generation.
    let marks: UnsafeMutablePointer<Int>
    /// Thread lists in priority order: instruction and the offset the thread's match started at.
    var current: (pcs: UnsafeMutablePointer<Int>, starts: UnsafeMutablePointer<Int>)
    var next: (pcs: UnsafeMutablePointer<Int>, starts: UnsafeMutablePointer<Int>)
    var currentCount = 0
    var nextCount = 0
    /// Pending instructions of a closure: each instruction newly on the list pushes at most two,
    /// so it never holds more than 2 × instructions + 1.
    let stack: UnsafeMutablePointer<Int>
    let earliest: Bool
    var generation = 1
    /// Set when `earliest` and a closure reached `match`.
    var found: Range<Int>?

    init(code: UnsafeBufferPointer<GrepInstruction>, program: GrepProgram, line: UnsafeRawBufferPointer,
         marks: UnsafeMutablePointer<Int>, current: (UnsafeMutablePointer<Int>, UnsafeMutablePointer<Int>),
         next: (UnsafeMutablePointer<Int>, UnsafeMutablePointer<Int>), stack: UnsafeMutablePointer<Int>, earliest: Bool) {
        self.code = code
        self.program = program
        self.line = line
        self.marks = marks
        self.current = (current.0, current.1)
        self.next = (next.0, next.1)
        self.stack = stack
        self.earliest = earliest
    }

    mutating func run() -> Range<Int>? {
        let n = line.count
        var position = 0
        var matched: Range<Int>?
        while true {
            // A new thread starts at every position until a match is found, with the lowest priority.
            if matched == nil {
                addThread(toNext: false, pc: 0, start: position, at: position)
                if let found { return found }
            }
            // No thread left: done once a match is known; else only the next start can match.
            if currentCount == 0 && (matched != nil || position >= n) { break }
            var c = GrepCharacter.invalid
            var width = 0
            if position < n { (c, width) = GrepCharacter.decode(line, at: position) }
            generation += 1
            nextCount = 0
            var t = 0
            while t < currentCount {
                let pc = current.pcs[t]
                let instruction = code[pc]
                if instruction.opcode == .match {
                    // Threads after this one have lower priority: drop them.
                    matched = current.starts[t]..<position
                    break
                }
                if position < n, program.accepts(instruction, c) {
                    addThread(toNext: true, pc: pc + 1, start: current.starts[t], at: position + width)
                    if let found { return found }
                }
                t += 1
            }
            if position >= n { break }
            swap(&current, &next)
            currentCount = nextCount
            position += width
        }
        return matched
    }

    /// Adds `pc` and everything reachable from it without consuming a character (in priority
    /// order) to a list, for position `at`. Iterative: the closure may be thousands long.
    @inline(__always)
    mutating func addThread(toNext: Bool, pc: Int, start: Int, at position: Int) {
        var context: GrepAssertionContext?
        var depth = 1
        stack[0] = pc
        while depth > 0 {
            depth -= 1
            let pc = stack[depth]
            if marks[pc] == generation { continue }
            marks[pc] = generation
            let instruction = code[pc]
            switch instruction.opcode {
            case .jump:
                stack[depth] = Int(instruction.x)
                depth += 1
            case .split:
                stack[depth] = Int(instruction.y)
                stack[depth + 1] = Int(instruction.x)
                depth += 2
            case .assertion:
                let ctx = context ?? GrepAssertionContext.at(position, in: line)
                context = ctx
                if let a = GrepAssertion(rawValue: instruction.x), ctx.holds(a) {
                    stack[depth] = pc + 1
                    depth += 1
                }
            case .match:
                if earliest {
                    found = start..<position
                    return
                }
                append(pc, start, toNext: toNext)
            case .character, .characterClass, .anyExceptNewline:
                append(pc, start, toNext: toNext)
            }
        }
    }

    @inline(__always)
    private mutating func append(_ pc: Int, _ start: Int, toNext: Bool) {
        if toNext {
            next.pcs[nextCount] = pc
            next.starts[nextCount] = start
            nextCount += 1
        } else {
            current.pcs[currentCount] = pc
            current.starts[currentCount] = start
            currentCount += 1
        }
    }
}
