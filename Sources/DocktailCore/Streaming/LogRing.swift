/// The most recent lines of one container, bounded in lines and in bytes (lines may be up to
/// `StreamingLimits.maxLineBytes` each, so a line count alone bounds nothing).
struct LogRing: Sendable {
    private var storage: [LogLine] = []
    private var head = 0
    let capacity: Int
    let byteLimit: Int
    private(set) var bytes = 0
    /// Lines that fell out of the ring since it started.
    private(set) var evicted = 0

    init(capacity: Int, byteLimit: Int = Int.max) {
        self.capacity = max(1, capacity)
        self.byteLimit = max(1, byteLimit)
    }

    var count: Int { storage.count - head }

    mutating func append(_ line: LogLine) {
        storage.append(line)
        bytes += line.storage.count
        while count > capacity || (bytes > byteLimit && count > 1) {
            bytes -= storage[head].storage.count
            storage[head] = LogLine.empty
            head += 1
            evicted += 1
        }
        // Compact now and then: O(1) amortised per line.
        if head > 1024 && head * 2 > storage.count {
            storage.removeFirst(head)
            head = 0
        }
    }

    /// Oldest first.
    var lines: ArraySlice<LogLine> { storage[head...] }

    var oldest: LogLine? { count == 0 ? nil : storage[head] }

    /// Drops the oldest line of each stream (the possibly cut first line of a window read with
    /// the engine's entry-counting `tail`). O(count), once per history load.
    mutating func removeFirstLinePerStream() {
        var seen: UInt8 = 0
        let kept = lines.filter { line in
            defer { seen |= line.stream.rawValue }
            return seen & line.stream.rawValue != 0
        }
        storage = kept
        head = 0
        bytes = kept.reduce(0) { $0 + $1.storage.count }
    }
}

extension LogLine {
    /// A placeholder that holds no memory (slots of the ring that were evicted).
    static let empty = LogLine(timestamp: 0, timestampText: [UInt8](), stream: .stdout, text: [UInt8]())
}
