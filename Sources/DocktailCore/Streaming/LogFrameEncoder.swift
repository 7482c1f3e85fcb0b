/// Encodes log lines as WebSocket text frames, once per line and variant.
///
///     json: {"ts":"2026-11-29T14:16:35.218193371Z","stream":"stdout","line":"hello"}
///     text: hello               (with timestamps: "2026-11-29T14:16:35.218193371Z hello")
enum LogFrameEncoder {
    private static let tsKey = Array(#"{"ts":"#.utf8)
    private static let stdoutPart = Array(#","stream":"stdout","line":"#.utf8)
    private static let stderrPart = Array(#","stream":"stderr","line":"#.utf8)

    /// Appends the frames for the lines `key` selects; returns how many.
    static func append(_ lines: some Sequence<LogLine>, key: DeliveryKey, to out: inout [UInt8], scratch: inout [UInt8]) -> Int {
        var count = 0
        for line in lines where key.selects(line) {
            appendFrame(line, encoding: key.encoding, to: &out, scratch: &scratch)
            count += 1
        }
        return count
    }

    @inline(__always)
    static func appendFrame(_ line: LogLine, encoding: DeliveryKey.Encoding, to out: inout [UInt8], scratch: inout [UInt8]) {
        line.storage.withUnsafeBytes { raw in
            let ts = UnsafeRawBufferPointer(rebasing: raw[0..<line.timestampLength])
            let text = UnsafeRawBufferPointer(rebasing: raw[line.timestampLength...])
            switch encoding {
            case .json:
                scratch.removeAll(keepingCapacity: true)
                scratch.append(contentsOf: tsKey)
                JSONValue.appendEscaped(ts, to: &scratch)
                scratch.append(contentsOf: line.stream == .stdout ? stdoutPart : stderrPart)
                JSONValue.appendEscaped(text, to: &scratch)
                scratch.append(UInt8(ascii: "}"))
                WebSocketFrameEncoder.appendHeader(opcode: .text, payloadLength: scratch.count, to: &out)
                out.append(contentsOf: scratch)
            case .text:
                WebSocketFrameEncoder.appendHeader(opcode: .text, payloadLength: text.count, to: &out)
                out.append(contentsOf: text)
            case .textTimestamps:
                WebSocketFrameEncoder.appendHeader(opcode: .text, payloadLength: ts.count + 1 + text.count, to: &out)
                out.append(contentsOf: ts)
                out.append(0x20)
                out.append(contentsOf: text)
            }
        }
    }
}
