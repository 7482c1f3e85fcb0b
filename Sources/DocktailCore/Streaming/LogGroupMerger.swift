/// The merge of a group view: each member's lines (and events) queue here and leave in
/// timestamp order. Pure: `LogGroupSubscription` feeds it and sends what `drain` returns.
///
/// A line may leave once no member can still produce an older one. What a member may still
/// produce is its *watermark*:
/// - reading history: the stamp of the last line it delivered (its history comes in order per
///   stream), or nothing yet (−∞: wait for its first line or its end);
/// - live: `now − window` (a live line is stamped as it is written; one older than the
///   reordering window is late, and goes out as soon as it arrives);
/// - ended: +∞.
///
/// Bounds: a member's queue holds at most `memberBudget` bytes. Past it, a member reading
/// history is paused (its engine read waits, `isOverBudget`), and a live member's oldest items
/// leave out of order rather than wait. So a merged view never holds more than its window per
/// member.
struct LogGroupMerger: Sendable {
    enum Phase: Sendable, Equatable { case history, live, ended }

    enum Item: Sendable, Equatable {
        case line(LogLine)
        /// An event of this member (`end`, `restart`, `error`, …), ordered after its lines.
        case event(JSONValue)
    }

    struct Out: Sendable, Equatable {
        var member: Int
        var item: Item
        /// From a live member (droppable under backpressure) or from history (never dropped).
        var live: Bool
    }

    private struct Member: Sendable {
        var queue: [(ts: Int64, item: Item)] = []
        var head = 0
        var bytes = 0
        var phase = Phase.history
        /// Stamp of the last line delivered to the merger.
        var last: Int64?
        var count: Int { queue.count - head }
    }

    let window: Int64
    let memberBudget: Int
    private var members: [Int: Member] = [:]

    init(window: Int64, memberBudget: Int) {
        self.window = max(0, window)
        self.memberBudget = max(1024, memberBudget)
    }

    var memberIDs: [Int] { Array(members.keys) }
    func phase(of m: Int) -> Phase? { members[m]?.phase }
    func queuedBytes(of m: Int) -> Int { members[m]?.bytes ?? 0 }
    var isEmpty: Bool { members.values.allSatisfy { $0.count == 0 } }
    var allEnded: Bool { members.values.allSatisfy { $0.phase == .ended } }

    mutating func addMember(_ m: Int) { if members[m] == nil { members[m] = Member() } }

    /// The member left: what it queued goes first (it is older than anything it could still send).
    mutating func removeMember(_ m: Int) -> [Out] {
        guard let member = members.removeValue(forKey: m) else { return [] }
        return member.queue[member.head...].map { Out(member: m, item: $0.item, live: member.phase == .live) }
    }

    mutating func setPhase(_ m: Int, _ phase: Phase) {
        members[m]?.phase = phase
    }

    mutating func add(_ m: Int, lines: [LogLine]) {
        guard var member = members.removeValue(forKey: m) else { return }
        for line in lines {
            member.queue.append((line.timestamp, .line(line)))
            member.bytes += line.storage.count + 64
            member.last = max(member.last ?? line.timestamp, line.timestamp)
        }
        members[m] = member
    }

    mutating func add(_ m: Int, event: JSONValue) {
        guard var member = members.removeValue(forKey: m) else { return }
        // After this member's lines: stamped with its last line (or, with none queued, at once).
        let ts = member.count > 0 ? member.queue[member.queue.count - 1].ts : Int64.min
        member.queue.append((ts, .event(event)))
        member.bytes += 64
        members[m] = member
    }

    func isOverBudget(_ m: Int) -> Bool { (members[m]?.bytes ?? 0) > memberBudget }

    private func watermark(_ member: Member, now: Int64) -> Int64 {
        switch member.phase {
        case .ended: return Int64.max
        case .live: return now &- window
        case .history: return member.last ?? Int64.min
        }
    }

    /// Live members over their budget: their oldest items leave now, order or not (the caller
    /// sends them even to a client that is behind: they are live lines, which its budget drops).
    /// So the merge never holds more than `memberBudget` per live member.
    mutating func takeOverBudget() -> [Out] {
        var out: [Out] = []
        for (m, member) in members where member.phase != .history && member.bytes > memberBudget {
            var mm = member
            while mm.bytes > memberBudget / 2 && mm.count > 0 {
                out.append(pop(&mm, m))
            }
            members[m] = mm
        }
        return out
    }

    /// Items ready to leave, in order, at most `limit` of them. `now` is the engines' clock.
    mutating func drain(now: Int64, limit: Int = Int.max) -> [Out] {
        var out = takeOverBudget()
        while out.count < limit {
            // The member with the oldest head, and the lowest watermark among empty members.
            var best: (m: Int, ts: Int64)?
            var floor = Int64.max
            for (m, member) in members {
                if member.count > 0 {
                    let ts = member.queue[member.head].ts
                    if best == nil || ts < best!.ts || (ts == best!.ts && m < best!.m) { best = (m, ts) }
                } else {
                    floor = min(floor, watermark(member, now: now))
                }
            }
            guard let chosen = best, chosen.ts <= floor else { break }
            var member = members[chosen.m]!
            out.append(pop(&member, chosen.m))
            members[chosen.m] = member
        }
        return out
    }

    private func pop(_ member: inout Member, _ m: Int) -> Out {
        let entry = member.queue[member.head]
        member.head += 1
        switch entry.item {
        case .line(let l): member.bytes -= l.storage.count + 64
        case .event: member.bytes -= 64
        }
        if member.head == member.queue.count {
            member.queue.removeAll(keepingCapacity: member.queue.capacity <= 4096)
            member.head = 0
        } else if member.head > 1024 && member.head * 2 > member.queue.count {
            member.queue.removeFirst(member.head)
            member.head = 0
        }
        return Out(member: m, item: entry.item, live: member.phase == .live)
    }

    /// The next moment a live member's queued line becomes due (for the driver's timer).
    func nextDue() -> Int64? {
        var due: Int64?
        for member in members.values where member.count > 0 {
            let t = member.queue[member.head].ts &+ window
            due = min(due ?? t, t)
        }
        return due
    }
}
