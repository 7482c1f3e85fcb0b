/// Client bytes to messages: the frame decoder and the message assembler together, as the
/// connection, the tests and the fuzz target all use them. Pure and resumable.
public struct WebSocketMessageDecoder: Sendable {
    private var frames: WebSocketFrameDecoder
    private var assembler = WebSocketMessageAssembler()

    public init(maxMessageBytes: Int = WebSocketLimits().maxClientMessageBytes) {
        frames = WebSocketFrameDecoder(maxMessageBytes: maxMessageBytes)
    }

    /// Decodes `input`, calling `deliver` for each complete message; throws at the first violation.
    public mutating func decode(_ input: UnsafeRawBufferPointer, deliver: (WebSocketMessage) -> Void) throws(WebSocketProtocolError) {
        var assembler = self.assembler
        defer { self.assembler = assembler }
        try frames.decode(input) { frame throws(WebSocketProtocolError) in
            if let message = try assembler.push(frame) { deliver(message) }
        }
    }

    /// Decodes every piece in order: the messages, and the error that stopped decoding, if any.
    public static func decodeAll(_ pieces: [[UInt8]], maxMessageBytes: Int) -> ([WebSocketMessage], WebSocketProtocolError?) {
        var decoder = WebSocketMessageDecoder(maxMessageBytes: maxMessageBytes)
        var out: [WebSocketMessage] = []
        for piece in pieces {
            let result: Result<Void, WebSocketProtocolError> = piece.withUnsafeBytes { raw in
                do {
                    try decoder.decode(raw) { out.append($0) }
                    return .success(())
                } catch {
                    return .failure(error as! WebSocketProtocolError)
                }
            }
            if case .failure(let e) = result { return (out, e) }
        }
        return (out, nil)
    }
}
