/// Splits the engine's multiplexed log stream (non-TTY containers) into frames.
///
///     header := [STREAM_TYPE, 0, 0, 0, SIZE1, SIZE2, SIZE3, SIZE4]   (size: big-endian u32)
///     STREAM_TYPE: 0 stdin, 1 stdout, 2 stderr, 3 the engine's own error (systemerr)
///
/// Resumable across any split of the input. Payloads that arrive whole are handed out as slices
/// of the input (no copy); only a frame split across reads is gathered.
public struct DockerLogDemultiplexer: Sendable {
    public enum DemuxError: Error, Equatable, Sendable {
        case frameTooLarge(Int)
        case invalidStreamType(UInt8)
    }

    private var header: [UInt8] = []
    private var streamType: UInt8 = 0
    private var remaining = 0
    private var inPayload = false
    private var pending: [UInt8] = []
    public let maxFrameBytes: Int

    public init(maxFrameBytes: Int = 4 * 1024 * 1024) {
        self.maxFrameBytes = maxFrameBytes
    }

    /// True when no frame is half-read.
    public var isAtFrameBoundary: Bool { header.isEmpty && !inPayload }

    /// Calls `frame(streamType, payload)` for each complete frame in `input`.
    public mutating func decode(_ input: UnsafeRawBufferPointer, frame: (UInt8, UnsafeRawBufferPointer) -> Void) throws(DemuxError) {
        var i = 0
        let n = input.count
        while i < n {
            if !inPayload {
                // Fast path: a whole header in the input.
                if header.isEmpty && n - i >= 8 {
                    streamType = input[i]
                    remaining = Int(input[i + 4]) << 24 | Int(input[i + 5]) << 16 | Int(input[i + 6]) << 8 | Int(input[i + 7])
                    i += 8
                } else {
                    header.append(input[i]); i += 1
                    guard header.count == 8 else { continue }
                    streamType = header[0]
                    remaining = Int(header[4]) << 24 | Int(header[5]) << 16 | Int(header[6]) << 8 | Int(header[7])
                    header.removeAll(keepingCapacity: true)
                }
                guard streamType <= 3 else { throw .invalidStreamType(streamType) }
                guard remaining <= maxFrameBytes else { throw .frameTooLarge(remaining) }
                inPayload = true
                if remaining == 0 { inPayload = false; frame(streamType, UnsafeRawBufferPointer(start: nil, count: 0)); continue }
                // Whole payload available: hand out a slice.
                if pending.isEmpty && n - i >= remaining {
                    frame(streamType, UnsafeRawBufferPointer(rebasing: input[i..<(i + remaining)]))
                    i += remaining
                    inPayload = false
                    continue
                }
            }
            let take = min(remaining, n - i)
            pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[i..<(i + take)]))
            i += take
            remaining -= take
            if remaining == 0 {
                inPayload = false
                let payload = pending
                pending = []
                payload.withUnsafeBytes { frame(streamType, $0) }
            }
        }
    }
}
