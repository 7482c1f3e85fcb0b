/// The fast path for the commonest pattern, a plain string (`error`, `"level":"warn"`), also
/// case-insensitive when every letter in it is ASCII with no non-ASCII case mate (`(?i)error`;
/// not `(?i)disk`, whose `k` also matches the Kelvin sign): skip eight bytes at a time to the
/// literal's rarest byte (`e` is everywhere in logs, `rr` less so), then compare. At most
/// `GrepLimits.maxLiteralSearchBytes` long, so the compare after each candidate is bounded;
/// longer literals run on the DFA.
struct GrepLiteralSearch: Sendable {
    /// The literal's UTF-8 bytes, lowercase where `masks` has 0x20.
    let bytes: [UInt8]
    /// 0x20 at ASCII letters compared without case (`b | 0x20` is then the lowercase letter), else 0.
    let masks: [UInt8]
    /// Index of the byte the search skips to: the one least likely in a log line.
    let anchor: Int

    var count: Int { bytes.count }

    /// The literal search for `program`, when the program is one.
    init?(_ program: GrepProgram) {
        var bytes: [UInt8] = []
        var masks: [UInt8] = []
        for instruction in program.instructions {
            switch instruction.opcode {
            case .character:
                for b in GrepCharacter.encode(UInt32(bitPattern: instruction.x)) {
                    bytes.append(b)
                    masks.append(0)
                }
            case .characterClass:
                // Only the exact pair {X, x} of an ASCII letter.
                let ranges = program.classes[Int(instruction.x)].ranges
                guard ranges.count == 2, ranges[0].count == 1, ranges[1].count == 1,
                      ranges[0].lowerBound >= 0x41, ranges[0].lowerBound <= 0x5A,
                      ranges[1].lowerBound == ranges[0].lowerBound + 0x20 else { return nil }
                bytes.append(UInt8(ranges[1].lowerBound))
                masks.append(0x20)
            case .match:
                break
            default:
                return nil
            }
            guard bytes.count <= GrepLimits.maxLiteralSearchBytes else { return nil }
        }
        self.bytes = bytes
        self.masks = masks
        var anchor = 0
        for i in bytes.indices where Self.rarity(bytes[i]) > Self.rarity(bytes[anchor]) { anchor = i }
        self.anchor = anchor
    }

    /// A rough rank of how rare a byte is in log text: space, then lowercase letters by English
    /// frequency, then digits and common punctuation, then everything else.
    private static func rarity(_ b: UInt8) -> Int {
        switch b {
        case 0x20: return 0
        case UInt8(ascii: "a")...UInt8(ascii: "z"):
            let order = Array("etaoinsrhldcumfpgwybvkxjqz".utf8)
            return 1 + (order.firstIndex(of: b) ?? 25)
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: ":"), UInt8(ascii: "-"),
             UInt8(ascii: "/"), UInt8(ascii: "\""), UInt8(ascii: ","), UInt8(ascii: "="):
            return 27
        default: return 28
        }
    }

    /// Offset of the first occurrence in `line`.
    func firstIndex(in line: UnsafeRawBufferPointer) -> Int? {
        let length = bytes.count
        let n = line.count
        guard length > 0 else { return 0 }
        guard n >= length else { return nil }
        return bytes.withUnsafeBufferPointer { bytes in
            masks.withUnsafeBufferPointer { masks -> Int? in
                let a = anchor
                let rare = bytes[a]
                let other = masks[a] != 0 ? rare & ~0x20 : rare
                let last = n - length
                var i = 0
                while i <= last {
                    // The next place the anchor byte can be, as the literal's `a`-th byte.
                    let found = GrepByteScan.firstIndex(in: line, from: i + a, rare, other, other)
                    i = found - a
                    if i > last { return nil }
                    var j = 0
                    while j < length, line[i + j] | masks[j] == bytes[j] { j += 1 }
                    if j == length { return i }
                    i += 1
                }
                return nil
            }
        }
    }
}
