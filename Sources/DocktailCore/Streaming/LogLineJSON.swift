/// One log line as a JSON object, `{"ts":"…","stream":"stdout","line":"…"}` (the WebSocket
/// JSON frame's payload, without a frame): the items of a history page and the lines of a
/// `.jsonl` download. Strings are escaped per RFC 8259 §7; the text is valid UTF-8 already (the
/// decoder repaired it).
enum LogLineJSON {
    private static let tsKey = Array(#"{"ts":"#.utf8)
    private static let stdoutPart = Array(#","stream":"stdout","line":"#.utf8)
    private static let stderrPart = Array(#","stream":"stderr","line":"#.utf8)

    /// Bytes `append` writes for `line`.
    static func encodedLength(_ line: LogLine) -> Int {
        line.storage.withUnsafeBytes { raw in
            let ts = UnsafeRawBufferPointer(rebasing: raw[0..<line.timestampLength])
            let text = UnsafeRawBufferPointer(rebasing: raw[line.timestampLength...])
            // Quotes around both strings, and the closing brace.
            return tsKey.count + LogFrameEncoder.escapedLength(ts) + 2 + stdoutPart.count + LogFrameEncoder.escapedLength(text) + 2 + 1
        }
    }

    static func append(_ line: LogLine, to out: inout [UInt8]) {
        line.storage.withUnsafeBytes { raw in
            out.append(contentsOf: tsKey)
            JSONValue.appendEscaped(UnsafeRawBufferPointer(rebasing: raw[0..<line.timestampLength]), to: &out)
            out.append(contentsOf: line.stream == .stdout ? stdoutPart : stderrPart)
            JSONValue.appendEscaped(UnsafeRawBufferPointer(rebasing: raw[line.timestampLength...]), to: &out)
            out.append(UInt8(ascii: "}"))
        }
    }
}
