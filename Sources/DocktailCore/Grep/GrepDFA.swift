/// A deterministic automaton for `GrepProgram`'s "does the line match anywhere", built in full
/// when the pattern compiles (subset construction), then only read: no cache to guard, no
/// per-match state, safe from every queue at once, one table step per character.
///
/// The alphabet is the set of character ranges the program tells apart (`[a-f]x` has four:
/// a-f, x, `\n` for `.`, everything else), plus one column for the end of the line. A state is
/// the set of instructions waiting for the next character (the closure is taken on the
/// transition, once the next character is known, so `$` and `\b` resolve exactly) plus whether
/// the previous character was a word character. Instruction 0 is in every state: the search
/// starts again at every character. Transitions to a state from which no match is reachable
/// become `dead` (so `^ERROR` looks at the start of a line only), and a state that loops on all
/// but at most three ASCII bytes skips ahead eight bytes at a time (`GrepByteScan`).
///
/// Subset construction can blow up (`[ab]*a[ab]{20}` needs 2^21 states), so building stops at
/// `GrepLimits.maxDFAStates`, `maxDFACells` or `maxDFABuildSteps`, and the pattern then runs on
/// the Pike VM: as linear, only slower.
struct GrepDFA: Sendable {
    static let match: Int32 = -1
    static let dead: Int32 = -2

    /// `table[state * stride + class]`: the next state, `match` or `dead`. The last column is
    /// the end of the line (`match` or `dead`).
    private let table: [Int32]
    private let stride: Int
    private let start: Int32
    /// Class of each ASCII byte.
    private let asciiClasses: [UInt16]
    /// Classes of the characters from U+0080 on (bad bytes last): `nonASCIIClasses[i]` from
    /// `nonASCIIStarts[i]` up to the next start.
    private let nonASCIIStarts: [UInt32]
    private let nonASCIIClasses: [UInt16]
    /// Per state: 0, or 0xFF (the state loops on everything: skip to the end), or up to three
    /// bytes that leave it, packed as `count | b0 << 8 | b1 << 16 | b2 << 24`.
    private let accelerators: [UInt32]

    var stateCount: Int { accelerators.count }

    /// True when some part of `line` matches.
    func matches(_ line: UnsafeRawBufferPointer) -> Bool {
        guard start >= 0 else { return false }
        let n = line.count
        let stride = self.stride
        return table.withUnsafeBufferPointer { t in
            asciiClasses.withUnsafeBufferPointer { ascii in
                accelerators.withUnsafeBufferPointer { accelerators in
                    var s = Int(start)
                    var i = 0
                    while i < n {
                        let accelerator = accelerators[s]
                        if accelerator != 0 {
                            i = accelerator == 0xFF ? n : GrepByteScan.firstIndex(in: line, from: i, packed: accelerator)
                            if i >= n { break }
                        }
                        let b = line[i]
                        let k: Int
                        if b < 0x80 {
                            k = Int(ascii[Int(b)])
                            i += 1
                        } else {
                            let d = GrepCharacter.decode(line, at: i)
                            k = nonASCIIClass(d.character)
                            i += d.width
                        }
                        let next = t[s * stride + k]
                        if next < 0 { return next == Self.match }
                        s = Int(next)
                    }
                    return t[s * stride + stride - 1] == Self.match
                }
            }
        }
    }

    @inline(__always)
    private func nonASCIIClass(_ c: UInt32) -> Int {
        var lo = 0, hi = nonASCIIStarts.count
        // The last start at or below c (the first is 0x80, below every non-ASCII character).
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2
            if nonASCIIStarts[mid] <= c { lo = mid } else { hi = mid }
        }
        return Int(nonASCIIClasses[lo])
    }

    private init(table: [Int32], stride: Int, start: Int32, asciiClasses: [UInt16], nonASCIIStarts: [UInt32],
                 nonASCIIClasses: [UInt16], accelerators: [UInt32]) {
        self.table = table
        self.stride = stride
        self.start = start
        self.asciiClasses = asciiClasses
        self.nonASCIIStarts = nonASCIIStarts
        self.nonASCIIClasses = nonASCIIClasses
        self.accelerators = accelerators
    }

    /// A state under construction: instructions waiting for a character, and what came before.
    private struct Key: Hashable {
        var pcs: [Int32]
        var previousIsWord: Bool
        var atStart: Bool
    }

    /// The DFA of `program`, or nil when it would pass one of the DFA limits.
    static func build(_ program: GrepProgram) -> GrepDFA? {
        let code = program.instructions
        let budget = GrepLimits.maxDFABuildSteps
        var work = 0

        // 1. The character ranges the program tells apart: cut points, and the distinct tests.
        var cuts: Set<UInt32> = [0, 0x80, GrepCharacter.invalid + 1]
        var tests: [GrepInstruction] = []
        var seenTests: Set<GrepInstruction> = []
        for instruction in code {
            switch instruction.opcode {
            case .character:
                let c = UInt32(bitPattern: instruction.x)
                cuts.insert(c)
                cuts.insert(c + 1)
            case .characterClass:
                for r in program.classes[Int(instruction.x)].ranges {
                    cuts.insert(r.lowerBound)
                    cuts.insert(r.upperBound + 1)
                }
            case .anyExceptNewline:
                cuts.insert(0x0A)
                cuts.insert(0x0B)
            default:
                continue
            }
            if seenTests.insert(instruction).inserted { tests.append(instruction) }
        }
        if program.usesWordBoundary {
            for c: UInt32 in [0x30, 0x3A, 0x41, 0x5B, 0x5F, 0x60, 0x61, 0x7B] { cuts.insert(c) }
        }
        let points = cuts.sorted()
        let intervals = points.count - 1
        work += intervals * (tests.count + 1)
        guard work <= budget else { return nil }

        // 2. The alphabet: intervals that every test (and `\b`) treats alike are one class.
        let words = (tests.count + 1 + 63) / 64
        var classBySignature: [[UInt64]: Int] = [:]
        var intervalClass = [Int](repeating: 0, count: intervals)
        var representatives: [UInt32] = []
        for k in 0..<intervals {
            let c = points[k]
            var signature = [UInt64](repeating: 0, count: words)
            for (t, test) in tests.enumerated() where program.accepts(test, c) {
                signature[t >> 6] |= 1 << UInt64(t & 63)
            }
            if program.usesWordBoundary && GrepCharacter.isWord(c) {
                signature[tests.count >> 6] |= 1 << UInt64(tests.count & 63)
            }
            if let id = classBySignature[signature] {
                intervalClass[k] = id
            } else {
                intervalClass[k] = representatives.count
                classBySignature[signature] = representatives.count
                representatives.append(c)
            }
        }
        let classCount = representatives.count
        let stride = classCount + 1
        guard classCount < Int(UInt16.max), stride <= GrepLimits.maxDFACells else { return nil }

        var asciiClasses = [UInt16](repeating: 0, count: 128)
        var k = 0
        for b in 0..<128 {
            while points[k + 1] <= UInt32(b) { k += 1 }
            asciiClasses[b] = UInt16(intervalClass[k])
        }
        var nonASCIIStarts: [UInt32] = []
        var nonASCIIClasses: [UInt16] = []
        for k in 0..<intervals where points[k] >= 0x80 {
            let cls = UInt16(intervalClass[k])
            if nonASCIIClasses.last == cls { continue }
            nonASCIIStarts.append(points[k])
            nonASCIIClasses.append(cls)
        }

        // 3. Subset construction, breadth first from the start of a line.
        let first = Key(pcs: [0], previousIsWord: false, atStart: true)
        var keys = [first]
        var ids: [Key: Int32] = [first: 0]
        var table: [Int32] = []
        var marks = [Int](repeating: 0, count: code.count)
        var generation = 0
        var stack: [Int32] = []
        var s = 0
        while s < keys.count {
            guard keys.count <= GrepLimits.maxDFAStates, keys.count * stride <= GrepLimits.maxDFACells else { return nil }
            let key = keys[s]
            // The closure depends on the next character only through `$` (end or not) and `\b`
            // (word or not): at most three closures per state.
            var closures: [(consumers: [Int32], matched: Bool)?] = [nil, nil, nil]
            func closure(_ kind: Int) -> (consumers: [Int32], matched: Bool) {
                if let done = closures[kind] { return done }
                generation += 1
                var consumers: [Int32] = []
                var matched = false
                let context = GrepAssertionContext(atStart: key.atStart, atEnd: kind == 2,
                                                   previousIsWord: key.previousIsWord, nextIsWord: kind == 1)
                stack.removeAll(keepingCapacity: true)
                stack.append(contentsOf: key.pcs)
                while let pc = stack.popLast() {
                    work += 1
                    let p = Int(pc)
                    if marks[p] == generation { continue }
                    marks[p] = generation
                    let instruction = code[p]
                    switch instruction.opcode {
                    case .jump: stack.append(instruction.x)
                    case .split:
                        stack.append(instruction.y)
                        stack.append(instruction.x)
                    case .assertion:
                        if let a = GrepAssertion(rawValue: instruction.x), context.holds(a) { stack.append(pc + 1) }
                    case .match: matched = true
                    case .character, .characterClass, .anyExceptNewline: consumers.append(pc)
                    }
                }
                let result = (consumers, matched)
                closures[kind] = result
                return result
            }
            for cls in 0..<classCount {
                let c = representatives[cls]
                let isWord = program.usesWordBoundary && GrepCharacter.isWord(c)
                let now = closure(isWord ? 1 : 0)
                if now.matched {
                    table.append(match)
                    continue
                }
                var next: [Int32] = [0]
                for pc in now.consumers where program.accepts(code[Int(pc)], c) { next.append(pc + 1) }
                work += now.consumers.count + next.count
                next.sort()
                let nextKey = Key(pcs: next, previousIsWord: isWord, atStart: false)
                if let id = ids[nextKey] {
                    table.append(id)
                } else {
                    let id = Int32(keys.count)
                    keys.append(nextKey)
                    ids[nextKey] = id
                    table.append(id)
                }
            }
            table.append(closure(program.usesAssertions ? 2 : 0).matched ? match : dead)
            guard work <= budget else { return nil }
            s += 1
        }
        let stateCount = keys.count

        // 4. Dead states: those from which no `match` can be reached.
        var live = [Bool](repeating: false, count: stateCount)
        var predecessors = [[Int32]](repeating: [], count: stateCount)
        var queue: [Int] = []
        for state in 0..<stateCount {
            for cell in (state * stride)..<((state + 1) * stride) {
                let target = table[cell]
                if target == match {
                    if !live[state] { live[state] = true; queue.append(state) }
                } else if target >= 0 {
                    predecessors[Int(target)].append(Int32(state))
                }
            }
        }
        while let state = queue.popLast() {
            for p in predecessors[state] where !live[Int(p)] {
                live[Int(p)] = true
                queue.append(Int(p))
            }
        }
        for cell in table.indices where table[cell] >= 0 && !live[Int(table[cell])] { table[cell] = dead }

        // 5. Accelerators: states that every non-ASCII class and all but three ASCII bytes loop on.
        let nonASCIISet = Set(nonASCIIClasses)
        var accelerators = [UInt32](repeating: 0, count: stateCount)
        for state in 0..<stateCount where live[state] {
            let row = state * stride
            let me = Int32(state)
            guard nonASCIISet.allSatisfy({ table[row + Int($0)] == me }) else { continue }
            var escapes: [UInt32] = []
            for b in 0..<128 where table[row + Int(asciiClasses[b])] != me {
                escapes.append(UInt32(b))
                if escapes.count > 3 { break }
            }
            switch escapes.count {
            case 0: accelerators[state] = 0xFF
            case 1...3:
                var packed = UInt32(escapes.count)
                for (j, b) in escapes.enumerated() { packed |= b << UInt32(8 * (j + 1)) }
                accelerators[state] = packed
            default: break
            }
        }

        return GrepDFA(table: table, stride: stride, start: live[0] ? 0 : dead, asciiClasses: asciiClasses,
                       nonASCIIStarts: nonASCIIStarts, nonASCIIClasses: nonASCIIClasses, accelerators: accelerators)
    }
}
