import Foundation
@testable import DocktailCore

/// Bytes of a fixture recorded from a real engine (Tests/DocktailCoreTests/Fixtures).
func fixture(_ name: String) -> [UInt8] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")
    return [UInt8](try! Data(contentsOf: url))
}

/// Every way to cut `bytes` in two (and one piece), for resumable codecs.
func splits(_ bytes: [UInt8]) -> [[[UInt8]]] {
    var out: [[[UInt8]]] = [[bytes]]
    for i in 1..<max(1, bytes.count) { out.append([Array(bytes[..<i]), Array(bytes[i...])]) }
    return out
}

/// Bytes cut into `size`-byte pieces.
func pieces(_ bytes: [UInt8], size: Int) -> [[UInt8]] {
    stride(from: 0, to: bytes.count, by: size).map { Array(bytes[$0..<min($0 + size, bytes.count)]) }
}

/// Masks a client frame payload (RFC 6455 §5.3).
func maskedFrame(opcode: UInt8, fin: Bool = true, payload: [UInt8], key: [UInt8] = [0x37, 0xfa, 0x21, 0x3d], rsv: UInt8 = 0, lengthOverride: [UInt8]? = nil) -> [UInt8] {
    var out: [UInt8] = [(fin ? 0x80 : 0) | rsv | opcode]
    if let l = lengthOverride { out += l }
    else if payload.count < 126 { out.append(0x80 | UInt8(payload.count)) }
    else if payload.count <= 0xFFFF { out += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)] }
    else { out.append(0x80 | 127); for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8((payload.count >> s) & 0xFF)) } }
    out += key
    for (i, b) in payload.enumerated() { out.append(b ^ key[i % 4]) }
    return out
}

/// Body of a recorded HTTP response, with the chunked coding removed by our own parser.
func responseBody(_ raw: [UInt8]) throws -> (HTTPResponseParser.Head?, [UInt8]) {
    var parser = HTTPResponseParser()
    var head: HTTPResponseParser.Head?
    var body: [UInt8] = []
    try raw.withUnsafeBytes { buf in
        _ = try parser.parse(buf, head: { head = $0 }, body: { body.append(contentsOf: $0) })
    }
    try? parser.finish()
    return (head, body)
}
