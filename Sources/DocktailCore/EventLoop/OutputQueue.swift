/// Bytes waiting to be written to one socket. Chunks are shared, already-encoded buffers (the
/// same array for every subscriber); only the unsent offset is per socket.
///
/// A chunk that carries log lines is droppable: past `limit` bytes the oldest droppable chunks
/// go first (never a control frame, never the chunk already partly on the wire), and the count
/// of lines lost is kept for the `dropped` event.
struct OutputQueue {
    struct Chunk {
        var bytes: [UInt8]
        /// Log lines this chunk carries (0 = control or other data, never dropped).
        var lines: Int
    }

    private(set) var chunks: [Chunk] = []
    private var head = 0
    /// Bytes of `chunks[head]` already written.
    var headOffset = 0
    private(set) var byteCount = 0
    /// Lines dropped since the last time the count was taken.
    private(set) var droppedLines = 0
    /// Lines dropped over the queue's life.
    private(set) var droppedTotal = 0

    var isEmpty: Bool { head == chunks.count }

    mutating func append(_ bytes: [UInt8], lines: Int, limit: Int) {
        if bytes.isEmpty { return }
        chunks.append(Chunk(bytes: bytes, lines: lines))
        byteCount += bytes.count
        if lines > 0 && byteCount > limit { dropOldest(limit: limit) }
    }

    private mutating func dropOldest(limit: Int) {
        var keep: [Chunk] = []
        keep.reserveCapacity(chunks.count - head)
        var i = head
        while i < chunks.count {
            let c = chunks[i]
            let onWire = i == head && headOffset > 0
            if byteCount > limit && c.lines > 0 && !onWire {
                byteCount -= c.bytes.count
                droppedLines += c.lines
                droppedTotal += c.lines
            } else {
                keep.append(c)
            }
            i += 1
        }
        chunks = keep
        head = 0
    }

    mutating func takeDroppedLines() -> Int {
        defer { droppedLines = 0 }
        return droppedLines
    }

    /// Fills `iov` with up to `max` pending slices; returns how many. The pointers stay valid
    /// until the queue is next mutated.
    mutating func withIOVecs<R>(max: Int, _ body: (UnsafeMutableBufferPointer<iovec>, Int) -> R) -> R {
        let count = min(max, chunks.count - head)
        return withUnsafeTemporaryAllocation(of: iovec.self, capacity: Swift.max(count, 1)) { iov in
            for k in 0..<count {
                let c = chunks[head + k]
                let offset = k == 0 ? headOffset : 0
                c.bytes.withUnsafeBytes { raw in
                    // Arrays stored in `chunks` keep their buffers alive; the base address is stable
                    // while the queue is not mutated.
                    iov[k] = iovec(iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress! + offset), iov_len: raw.count - offset)
                }
            }
            return body(iov, count)
        }
    }

    /// Marks `n` bytes as written.
    mutating func consume(_ n: Int) {
        var left = n
        byteCount -= n
        while left > 0 {
            let remainingInHead = chunks[head].bytes.count - headOffset
            if left >= remainingInHead {
                left -= remainingInHead
                head += 1
                headOffset = 0
            } else {
                headOffset += left
                left = 0
            }
        }
        if head == chunks.count {
            chunks.removeAll(keepingCapacity: false)
            head = 0
        } else if head > 64 && head * 2 > chunks.count {
            chunks.removeFirst(head)
            head = 0
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
