// Helpers shared by the fuzz targets.

/// The ways a split-invariance target feeds `stream` besides one piece: cut at a point chosen by
/// the first bytes of `seed` (the fuzzer's input), and byte by byte when `stream` is short.
func fuzzSplits(_ stream: [UInt8], seed: [UInt8], byteByByteUpTo limit: Int = 64) -> [[[UInt8]]] {
    var result: [[[UInt8]]] = []
    let n = stream.count
    let pick = seed.count >= 2 && n > 255 ? Int(seed[0]) << 8 | Int(seed[1]) : Int(seed.first ?? 0)
    let cut = pick % (n + 1)
    result.append([Array(stream[..<cut]), Array(stream[cut...])])
    if n <= limit { result.append(stream.map { [$0] }) }
    return result
}

/// True when every byte is printable ASCII other than space (a safe URL query).
func isQuerySafeASCII(_ s: String) -> Bool {
    s.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
}
