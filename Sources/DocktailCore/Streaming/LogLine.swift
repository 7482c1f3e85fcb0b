/// Which output a line came from.
public enum LogStream: UInt8, Sendable {
    case stdout = 1
    case stderr = 2

    public var name: String { self == .stdout ? "stdout" : "stderr" }
}

/// One complete log line. `storage` holds the engine's timestamp text followed by the line's
/// text (valid UTF-8, no newline), so a line costs one allocation.
public struct LogLine: Sendable, Equatable {
    /// Nanoseconds since the Unix epoch (the engine's timestamp of the line's first frame).
    public var timestamp: Int64
    public var stream: LogStream
    public var storage: [UInt8]
    public var timestampLength: Int
    /// A preview of a line still being written (no newline yet, idle for a moment): shown in
    /// place and replaced by the next message of its stream; never stored, counted or resumed from.
    public var partial = false

    public init(timestamp: Int64, timestampText: some Collection<UInt8>, stream: LogStream, text: some Collection<UInt8>) {
        self.timestamp = timestamp
        self.stream = stream
        var s: [UInt8] = []
        s.reserveCapacity(timestampText.count + text.count)
        s.append(contentsOf: timestampText)
        s.append(contentsOf: text)
        self.storage = s
        self.timestampLength = timestampText.count
    }

    public init(timestamp: Int64, stream: LogStream, text: String) {
        self.init(timestamp: timestamp, timestampText: Array(DockerTimestamp.format(timestamp).utf8), stream: stream, text: Array(text.utf8))
    }

    public var text: ArraySlice<UInt8> { storage[timestampLength...] }
    public var textString: String { String(decoding: text, as: UTF8.self) }
    public var timestampText: String { String(decoding: storage[..<timestampLength], as: UTF8.self) }
}
