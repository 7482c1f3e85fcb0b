#if canImport(Glibc)
import Glibc
#endif

/// How many bytes one connection may have waiting to be written: the one backpressure
/// mechanism of every connection (see `SocketChannel`).
///
/// - Above `highWater` the channel stops reading from its socket (pipelined requests, pings and
///   frames wait in the kernel, not in docktail) and drops the oldest queued log lines down to
///   `highWater`, counting them exactly.
/// - At or below `lowWater` it reads again, announces the dropped lines before the next line,
///   and tells its owner it is writable (history reads resume).
/// - Data that may not be dropped (control frames, events, history, HTTP responses) is bounded
///   by `hardLimit`: a connection whose queue passes it is closed.
public struct OutputBudget: Sendable, Equatable {
    public var highWater: Int
    public var lowWater: Int
    public var hardLimit: Int

    public init(highWater: Int, lowWater: Int? = nil, hardLimit: Int? = nil) {
        self.highWater = max(1, highWater)
        self.lowWater = min(lowWater ?? highWater / 4, self.highWater)
        // Room for one more batch of history or a burst of events above the line budget.
        self.hardLimit = max(hardLimit ?? highWater * 2 + 1024 * 1024, self.highWater)
    }

    public static let unlimited = OutputBudget(highWater: Int.max / 4, lowWater: Int.max / 4, hardLimit: Int.max / 2)
}

/// Bytes waiting to be written to one socket. Chunks are shared, already-encoded buffers (the
/// same array for every subscriber); only the unsent offset is per socket.
///
/// A chunk that carries log lines is droppable. Dropping goes oldest first and never touches a
/// control chunk or the chunk already partly on the wire. A cursor remembers how far dropping
/// has looked, so each chunk is examined at most once: O(1) amortised per append, however long
/// the queue of a slow client grows.
struct OutputQueue {
    struct Chunk {
        var bytes: [UInt8]
        /// Log lines this chunk carries (0 = control or other data, never dropped).
        var lines: Int
    }

    private(set) var chunks: [Chunk] = []
    private var head = 0
    /// Bytes of `chunks[head]` already written.
    private(set) var headOffset = 0
    /// All queued bytes.
    private(set) var byteCount = 0
    /// Queued bytes that may not be dropped.
    private(set) var controlBytes = 0
    /// Chunks before this index were already looked at by `dropOldest`.
    private var dropCursor = 0
    /// Lines dropped and not yet announced to the client.
    private(set) var unannouncedDrops = 0
    /// Lines dropped over the queue's life.
    private(set) var droppedTotal = 0
    /// Chunks `dropOldest` has looked at over the queue's life (at most one look per chunk).
    private(set) var dropExaminations = 0

    /// Nothing left to write (dropped chunks hold no bytes and do not count).
    var isEmpty: Bool { byteCount == 0 }

    mutating func append(_ bytes: [UInt8], lines: Int) {
        if bytes.isEmpty { return }
        chunks.append(Chunk(bytes: bytes, lines: lines))
        byteCount += bytes.count
        if lines == 0 { controlBytes += bytes.count }
    }

    /// Drops the oldest droppable chunks until at most `limit` bytes are queued (or none is
    /// left to drop); returns the lines dropped.
    @discardableResult
    mutating func dropOldest(downTo limit: Int) -> Int {
        var dropped = 0
        if dropCursor < head { dropCursor = head }
        while byteCount > limit && dropCursor < chunks.count {
            let c = chunks[dropCursor]
            let onWire = dropCursor == head && headOffset > 0
            if c.lines > 0 && !onWire {
                byteCount -= c.bytes.count
                dropped += c.lines
                chunks[dropCursor] = Chunk(bytes: [], lines: 0)
            }
            dropCursor += 1
            dropExaminations += 1
        }
        unannouncedDrops += dropped
        droppedTotal += dropped
        if byteCount == 0 { reset() }
        return dropped
    }

    private mutating func reset() {
        chunks.removeAll(keepingCapacity: false)
        head = 0
        headOffset = 0
        dropCursor = 0
        controlBytes = 0
    }

    mutating func takeUnannouncedDrops() -> Int {
        defer { unannouncedDrops = 0 }
        return unannouncedDrops
    }

    /// Fills `iov` with up to `max` pending slices; returns how many. The pointers stay valid
    /// until the queue is next mutated.
    mutating func withIOVecs<R>(max: Int, _ body: (UnsafeMutableBufferPointer<iovec>, Int) -> R) -> R {
        withUnsafeTemporaryAllocation(of: iovec.self, capacity: Swift.max(max, 1)) { iov in
            var count = 0
            var k = head
            while k < chunks.count && count < max {
                let c = chunks[k]
                let offset = k == head ? headOffset : 0
                if c.bytes.count > offset {
                    c.bytes.withUnsafeBytes { raw in
                        // Arrays stored in `chunks` keep their buffers alive; the base address is
                        // stable while the queue is not mutated.
                        iov[count] = iovec(iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress! + offset), iov_len: raw.count - offset)
                    }
                    count += 1
                }
                k += 1
            }
            return body(iov, count)
        }
    }

    /// Marks `n` bytes as written.
    mutating func consume(_ n: Int) {
        var left = n
        byteCount -= n
        while head < chunks.count {
            let c = chunks[head]
            let remainingInHead = c.bytes.count - headOffset
            if left >= remainingInHead {
                left -= remainingInHead
                if c.lines == 0 { controlBytes -= c.bytes.count }
                head += 1
                headOffset = 0
                if left == 0 && (head == chunks.count || !chunks[head].bytes.isEmpty) { break }
            } else {
                headOffset += left
                break
            }
        }
        if head == chunks.count || byteCount == 0 {
            reset()
        } else if head > 64 && head * 2 > chunks.count {
            chunks.removeFirst(head)
            dropCursor = Swift.max(0, dropCursor - head)
            head = 0
        }
    }
}
