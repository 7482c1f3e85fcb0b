// libFuzzer target: the HTTP/1.1 request parser must never crash, hang or grow past its limits,
// and any split of the input must give the same requests as one piece.

func fuzzHTTPRequestParser(_ bytes: [UInt8]) {
    let size = bytes.count
    var limits = HTTPLimits()
    limits.maxRequestLineBytes = 512
    limits.maxHeaderBytes = 1024
    limits.maxRequestBodyBytes = 1024

    func run(_ pieces: [[UInt8]]) -> ([String], String?) {
        var parser = HTTPRequestParser(limits: limits)
        var out: [String] = []
        for piece in pieces {
            parser.append(piece)
            do {
                while let r = try parser.next() { out.append("\(r.method) \(r.target) \(r.headers.count) \(r.body.count)") }
            } catch {
                return (out, "\(error)")
            }
        }
        return (out, nil)
    }

    let whole = run([bytes])
    let cut = size > 0 ? Int(bytes[0]) % (size + 1) : 0
    let split = run([Array(bytes[..<cut]), Array(bytes[cut...])])
    precondition(whole.0 == split.0 && whole.1 == split.1, "split changed the result")
}
