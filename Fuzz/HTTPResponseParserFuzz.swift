// libFuzzer target `http-response-parser`: the engine-response parser must never trap; the head,
// body bytes, error and end (parse's result, then finish() at the end of the input) must be the
// same for any split of the input. The head is at most maxHeadBytes (counted in scalars: invalid
// bytes become U+FFFD), its status three digits, the body never longer than the input, and a
// Content-Length body that completed is exactly that long.

func fuzzHTTPResponseParser(_ bytes: [UInt8]) {
    let maxHeadBytes = 512

    struct Outcome: Equatable {
        var heads: [String] = []
        var status: Int?
        var contentLength: String?
        var chunked = false
        var body: [UInt8] = []
        var error: HTTPResponseParser.ParseError?
        var done = false
        /// finish() at the end of the input, when parsing had not failed or completed.
        var finishError: HTTPResponseParser.ParseError?
    }

    func run(_ pieces: [[UInt8]]) -> Outcome {
        var parser = HTTPResponseParser(maxHeadBytes: maxHeadBytes)
        var o = Outcome()
        for piece in pieces {
            let result: Result<Bool, HTTPResponseParser.ParseError> = piece.withUnsafeBytes { p in
                do throws(HTTPResponseParser.ParseError) {
                    return .success(try parser.parse(p, head: { head in
                        o.heads.append("\(head.status) " + head.headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n"))
                        o.status = head.status
                        o.contentLength = head.headers["Content-Length"]
                        o.chunked = head.headers["Transfer-Encoding"]?.lowercased().contains("chunked") ?? false
                        // Each byte received gives at most one scalar (invalid ones become U+FFFD).
                        let headScalars = head.headers.reduce(0) { $0 + $1.name.unicodeScalars.count + $1.value.unicodeScalars.count }
                        precondition(headScalars <= maxHeadBytes, "head of \(headScalars) scalars, limit \(maxHeadBytes) bytes")
                    }, body: { o.body.append(contentsOf: $0) }))
                } catch {
                    return .failure(error)
                }
            }
            switch result {
            case .success(let complete):
                precondition(complete == parser.isDone, "parse result disagrees with isDone")
                if complete { o.done = true; return o }
            case .failure(let e):
                o.error = e
                return o
            }
        }
        do throws(HTTPResponseParser.ParseError) {
            try parser.finish()
            o.done = parser.isDone
        } catch {
            o.finishError = error
        }
        return o
    }

    let whole = run([bytes])
    precondition(whole.heads.count <= 1, "more than one head")
    if let status = whole.status { precondition((0...999).contains(status), "status \(status) is not three digits") }
    precondition(whole.body.count <= bytes.count, "more body than input")
    if whole.done, whole.error == nil, let status = whole.status {
        let noBody = status == 204 || status == 304 || (100..<200).contains(status)
        if noBody {
            precondition(whole.body.isEmpty, "body for status \(status)")
        } else if !whole.chunked, let cl = whole.contentLength, let n = Int(cl.trimmingSpaces()) {
            precondition(whole.body.count == n, "Content-Length \(n) but \(whole.body.count) body bytes")
        }
    }
    for pieces in fuzzSplits(bytes, seed: bytes) {
        let split = run(pieces)
        precondition(split == whole, "split changed the result: \(whole.error.map { "\($0)" } ?? "ok") vs \(split.error.map { "\($0)" } ?? "ok"), body \(whole.body.count) vs \(split.body.count)")
    }
}
