// libFuzzer target `chunked-decoder`: the chunked transfer-coding decoder must never trap, must
// give the same body bytes, the same error and the same end for any split of its input, must
// consume all input until it is done, and can only output bytes it consumed. A small
// maxLineBytes makes the extension and trailer limits reachable.

func fuzzChunkedDecoder(_ bytes: [UInt8]) {
    let maxLineBytes = 32

    struct Outcome: Equatable {
        var body: [UInt8] = []
        /// Bytes consumed (when there is no error).
        var consumed = 0
        var error: ChunkedDecoder.DecodeError?
        var done = false
    }

    func run(_ pieces: [[UInt8]]) -> Outcome {
        var decoder = ChunkedDecoder(maxLineBytes: maxLineBytes)
        var o = Outcome()
        for piece in pieces where !decoder.isDone {
            let result: Result<Int, ChunkedDecoder.DecodeError> = piece.withUnsafeBytes { p in
                do throws(ChunkedDecoder.DecodeError) {
                    return .success(try decoder.decode(p) { o.body.append(contentsOf: $0) })
                } catch {
                    return .failure(error)
                }
            }
            switch result {
            case .success(let used):
                precondition(used >= 0 && used <= piece.count, "consumed \(used) of \(piece.count)")
                precondition(used == piece.count || decoder.isDone, "stopped early without being done")
                o.consumed += used
            case .failure(let e):
                // How much was consumed before the error depends on the split: not compared.
                o.consumed = 0
                o.error = e
                o.done = decoder.isDone
                return o
            }
        }
        o.done = decoder.isDone
        return o
    }

    let whole = run([bytes])
    precondition(whole.body.count <= bytes.count, "more body than input")
    if whole.error == nil { precondition(whole.body.count <= whole.consumed, "more body than consumed input") }
    if whole.done {
        // The shortest complete body is `0\n\n` (bare LFs are accepted, RFC 9112 §2.2).
        precondition(whole.error == nil && whole.consumed >= 3 && bytes[whole.consumed - 1] == 0x0A, "done but not after a final LF")
    }
    for pieces in fuzzSplits(bytes, seed: bytes) {
        let split = run(pieces)
        precondition(split == whole, "split changed the result: \(whole.error.map { "\($0)" } ?? "ok") vs \(split.error.map { "\($0)" } ?? "ok"), body \(whole.body.count) vs \(split.body.count), consumed \(whole.consumed) vs \(split.consumed)")
    }
}
