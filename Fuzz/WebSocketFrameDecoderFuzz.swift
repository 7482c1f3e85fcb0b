// libFuzzer target: the WebSocket frame decoder and message assembler must never crash, and
// must give the same messages (or the same error) for any split of the input.

func fuzzWebSocketFrameDecoder(_ bytes: [UInt8]) {
    let size = bytes.count

    func run(_ pieces: [[UInt8]]) -> ([WebSocketMessage], WebSocketProtocolError?) {
        WebSocketMessageDecoder.decodeAll(pieces, maxMessageBytes: 4096)
    }

    let whole = run([bytes])
    let cut = size > 0 ? Int(bytes[0]) % (size + 1) : 0
    let split = run([Array(bytes[..<cut]), Array(bytes[cut...])])
    precondition(whole.0 == split.0 && whole.1 == split.1, "split changed the result")
}
