/// Encodes log lines as WebSocket text frames, once per line and variant.
///
///     json: {"ts":"2026-11-29T14:16:35.218193371Z","stream":"stdout","line":"hello"}
///     text: hello               (with timestamps: "2026-11-29T14:16:35.218193371Z hello")
///     a preview of an unfinished line (JSON only): {"ts":…,"stream":…,"line":…,"partial":true}
enum LogFrameEncoder {
    private static let tsKey = Array(#"{"ts":"#.utf8)
    private static let stdoutPart = Array(#","stream":"stdout","line":"#.utf8)
    private static let stderrPart = Array(#","stream":"stderr","line":"#.utf8)
    private static let partialEnd = Array(#","partial":true}"#.utf8)
    private static let lineEnd: [UInt8] = [UInt8(ascii: "}")]

    /// Appends the frames for the lines `key` selects; returns how many.
    static func append(_ lines: [LogLine], key: DeliveryKey, to out: inout [UInt8]) -> Int {
        var count = 0
        for i in lines.indices where key.selects(lines[i]) && (!lines[i].partial || key.encoding == .json) {
            appendFrame(lines[i], encoding: key.encoding, to: &out)
            count += 1
        }
        return count
    }

    /// Length of `bytes` once escaped as a JSON string body (RFC 8259 §7), without quotes.
    @inline(__always)
    static func escapedLength(_ bytes: UnsafeRawBufferPointer) -> Int {
        var n = bytes.count
        var i = 0
        let count = bytes.count
        while i < count {
            if i + 8 <= count && !JSONValue.wordNeedsEscape(bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)) { i += 8; continue }
            let c = bytes[i]
            if c < 0x20 || c == 0x22 || c == 0x5C {
                n += (c == 0x22 || c == 0x5C || c == 0x0A || c == 0x0D || c == 0x09) ? 1 : 5
            }
            i += 1
        }
        return n
    }

    /// The member fields a group view adds to each JSON line: `,"id":…,"name":…` (and any
    /// extra fields given, already encoded as `,"key":value`), built once per member.
    static func memberTag(id: String, name: String, extra: [UInt8] = []) -> [UInt8] {
        var out = Array(#","id":"#.utf8)
        Array(id.utf8).withUnsafeBytes { JSONValue.appendEscaped($0, to: &out) }
        out.append(contentsOf: Array(#","name":"#.utf8))
        Array(name.utf8).withUnsafeBytes { JSONValue.appendEscaped($0, to: &out) }
        out.append(contentsOf: extra)
        return out
    }

    /// One line of a group view: JSON with the member's fields, or text prefixed `[name] `.
    static func appendMemberFrame(_ line: LogLine, encoding: DeliveryKey.Encoding, tag: [UInt8], textPrefix: [UInt8], to out: inout [UInt8]) {
        line.storage.withUnsafeBytes { raw in
            let ts = UnsafeRawBufferPointer(rebasing: raw[0..<line.timestampLength])
            let text = UnsafeRawBufferPointer(rebasing: raw[line.timestampLength...])
            switch encoding {
            case .json:
                let streamPart = line.stream == .stdout ? stdoutPart : stderrPart
                let length = tsKey.count + escapedLength(ts) + 2 + streamPart.count + escapedLength(text) + 2 + tag.count + lineEnd.count
                WebSocketFrameEncoder.appendHeader(opcode: .text, payloadLength: length, to: &out)
                out.append(contentsOf: tsKey)
                JSONValue.appendEscaped(ts, to: &out)
                out.append(contentsOf: streamPart)
                JSONValue.appendEscaped(text, to: &out)
                out.append(contentsOf: tag)
                out.append(contentsOf: lineEnd)
            case .text:
                WebSocketFrameEncoder.appendHeader(opcode: .text, payloadLength: textPrefix.count + text.count, to: &out)
                out.append(contentsOf: textPrefix)
                out.append(contentsOf: text)
            case .textTimestamps:
                WebSocketFrameEncoder.appendHeader(opcode: .text, payloadLength: ts.count + 1 + textPrefix.count + text.count, to: &out)
                out.append(contentsOf: ts)
                out.append(0x20)
                out.append(contentsOf: textPrefix)
                out.append(contentsOf: text)
            }
        }
    }

    /// Encodes one line straight into `out`: the payload length is computed first, so the
    /// frame header is written before the payload and nothing is copied twice.
    @inline(__always)
    static func appendFrame(_ line: LogLine, encoding: DeliveryKey.Encoding, to out: inout [UInt8]) {
        line.storage.withUnsafeBytes { raw in
            let ts = UnsafeRawBufferPointer(rebasing: raw[0..<line.timestampLength])
            let text = UnsafeRawBufferPointer(rebasing: raw[line.timestampLength...])
            switch encoding {
            case .json:
                let streamPart = line.stream == .stdout ? stdoutPart : stderrPart
                let end = line.partial ? partialEnd : lineEnd
                let length = tsKey.count + escapedLength(ts) + 2 + streamPart.count + escapedLength(text) + 2 + end.count
                WebSocketFrameEncoder.appendHeader(opcode: .text, payloadLength: length, to: &out)
                out.append(contentsOf: tsKey)
                JSONValue.appendEscaped(ts, to: &out)
                out.append(contentsOf: streamPart)
                JSONValue.appendEscaped(text, to: &out)
                out.append(contentsOf: end)
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
