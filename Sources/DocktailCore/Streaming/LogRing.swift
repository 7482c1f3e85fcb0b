/// The most recent lines of one container, bounded.
struct LogRing: Sendable {
    private var storage: [LogLine] = []
    private var head = 0
    let capacity: Int
    /// Lines that fell out of the ring since it started.
    private(set) var evicted = 0

    init(capacity: Int) { self.capacity = max(1, capacity) }

    var count: Int { storage.count }

    mutating func append(_ line: LogLine) {
        if storage.count < capacity {
            storage.append(line)
        } else {
            storage[head] = line
            head = (head + 1) % capacity
            evicted += 1
        }
    }

    /// Oldest first.
    var lines: [LogLine] {
        if head == 0 { return storage }
        return Array(storage[head...]) + Array(storage[..<head])
    }

    var oldest: LogLine? { storage.isEmpty ? nil : storage[head] }

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
    }
}
