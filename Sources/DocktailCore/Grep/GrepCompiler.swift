/// Compiles a `GrepSyntaxTree` into a Thompson NFA program (`GrepProgram`).
///
/// Each node becomes a fragment: a run of instructions whose jumps are relative to themselves
/// and whose one exit is falling off its end. Fragments are then position-independent, so
/// concatenation is appending, alternation and loops wrap a fragment in a split and a jump,
/// and a counted repeat is a plain copy. Nodes are compiled in index order (children first),
/// with no recursion. The size of everything compiled and not yet used is tracked, and a counted
/// repeat's size is computed before it is copied, so `GrepLimits.maxInstructions` is enforced
/// before memory is spent: `(a{1000}){1000}` is refused, not allocated.
struct GrepCompiler {
    typealias SyntaxError = GrepPattern.SyntaxError
    private typealias Fragment = [GrepInstruction]

    private var classes: [GrepCharacterClass] = []
    private var classIndex: [GrepCharacterClass: Int32] = [:]

    static func compile(_ tree: GrepSyntaxTree) throws(SyntaxError) -> GrepProgram {
        var compiler = GrepCompiler()
        return try compiler.run(tree)
    }

    private mutating func run(_ tree: GrepSyntaxTree) throws(SyntaxError) -> GrepProgram {
        let limit = GrepLimits.maxInstructions
        var fragments = [Fragment](repeating: [], count: tree.nodes.count)
        // Instructions in fragments compiled and not yet taken by a parent. Every one of them ends
        // up in the program at least once (only `{0}` drops its child), so this never exceeds the
        // program's final size, and checking it after every node bounds memory by the limit.
        var live = 0
        var usesWordBoundary = false
        var usesAssertions = false

        for (index, node) in tree.nodes.enumerated() {
            let offset = tree.offsets[index]
            var consumed = 0
            func take(_ child: Int) -> Fragment {
                let f = fragments[child]
                fragments[child] = []
                consumed += f.count
                return f
            }
            var fragment: Fragment
            switch node {
            case .empty:
                fragment = []
            case .character(let c):
                fragment = [GrepInstruction(.character, Int32(c))]
            case .characterClass(let cls):
                fragment = [GrepInstruction(.characterClass, internClass(cls))]
            case .anyExceptNewline:
                fragment = [GrepInstruction(.anyExceptNewline)]
            case .assertion(let a):
                usesAssertions = true
                if a == .wordBoundary || a == .notWordBoundary { usesWordBoundary = true }
                fragment = [GrepInstruction(.assertion, a.rawValue)]
            case .concatenation(let children):
                fragment = []
                for child in children { fragment += take(child) }
            case .alternation(let children):
                // split(a, next) a jump(end) split(b, next) b jump(end) … z: laid out in one pass.
                let parts = children.map { take($0) }
                let total = parts.reduce(2 * max(parts.count - 1, 0)) { $0 + $1.count }
                if live - consumed + total > limit { throw tooLarge(at: offset) }
                fragment = []
                fragment.reserveCapacity(total)
                for (k, part) in parts.enumerated() {
                    if k < parts.count - 1 {
                        fragment.append(GrepInstruction(.split, 1, Int32(part.count + 2)))
                        fragment += part
                        fragment.append(GrepInstruction(.jump, Int32(total - fragment.count)))
                    } else {
                        fragment += part
                    }
                }
            case .repetition(let child, let min, let max, let lazy):
                let body = fragments[child]
                guard let size = Self.repetitionSize(body: body.count, min: min, max: max),
                      live - body.count + size <= limit else { throw tooLarge(at: offset) }
                fragment = Self.repeated(take(child), min: min, max: max, lazy: lazy)
            }
            live += fragment.count - consumed
            if live > limit { throw tooLarge(at: offset) }
            fragments[index] = fragment
        }

        var code = fragments[tree.root]
        code.append(GrepInstruction(.match))
        // Relative targets become absolute.
        for pc in code.indices {
            switch code[pc].opcode {
            case .split:
                code[pc].x += Int32(pc)
                code[pc].y += Int32(pc)
            case .jump:
                code[pc].x += Int32(pc)
            default:
                break
            }
        }
        return GrepProgram(instructions: code, classes: classes,
                           usesAssertions: usesAssertions, usesWordBoundary: usesWordBoundary)
    }

    /// Instructions `repeated` makes, or nil past any sane size (checked arithmetic: no trap).
    private static func repetitionSize(body: Int, min: Int, max: Int?) -> Int? {
        if body == 0 { return 0 }
        guard let max else {
            // x{n,} = x^(n-1) x+ (one split), x* = split x jump.
            return min == 0 ? body + 2 : multiply(body, min).flatMap { add($0, 1) }
        }
        guard let fixed = multiply(body, min), let optional = multiply(body + 1, max - min) else { return nil }
        return add(fixed, optional)
    }

    private static func multiply(_ a: Int, _ b: Int) -> Int? {
        let (r, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? nil : r
    }

    private static func add(_ a: Int, _ b: Int) -> Int? {
        let (r, overflow) = a.addingReportingOverflow(b)
        return overflow ? nil : r
    }

    private static func repeated(_ x: Fragment, min: Int, max: Int?, lazy: Bool) -> Fragment {
        if x.isEmpty { return [] }
        var out: Fragment = []
        if let max {
            for _ in 0..<min { out += x }
            // x{0,k} = (x(x(…)?)?)?: every skip goes to the very end, so it is one pass.
            let end = out.count + (max - min) * (x.count + 1)
            for _ in 0..<(max - min) {
                let skip = Int32(end - out.count)
                out.append(lazy ? GrepInstruction(.split, skip, 1) : GrepInstruction(.split, 1, skip))
                out += x
            }
        } else if min == 0 {
            // L: split(body, end); body; jump L
            out = [lazy ? GrepInstruction(.split, Int32(x.count + 2), 1) : GrepInstruction(.split, 1, Int32(x.count + 2))]
            out += x
            out.append(GrepInstruction(.jump, -Int32(x.count + 1)))
        } else {
            for _ in 0..<(min - 1) { out += x }
            out += x
            // split(back to the body's start, on)
            let back = -Int32(x.count)
            out.append(lazy ? GrepInstruction(.split, 1, back) : GrepInstruction(.split, back, 1))
        }
        return out
    }

    private mutating func internClass(_ cls: GrepCharacterClass) -> Int32 {
        if let i = classIndex[cls] { return i }
        let i = Int32(classes.count)
        classes.append(cls)
        classIndex[cls] = i
        return i
    }

    private func tooLarge(at offset: Int) -> SyntaxError {
        SyntaxError(offset: offset, message: "pattern is too large: it would compile to more than \(GrepLimits.maxInstructions) instructions (counted repeats multiply)")
    }
}
