/// Joins the engine's log entries into lines, per stream (stdout and stderr separately).
///
/// The engine splits lines over 16 KiB into several entries, each with its own timestamp, and the
/// last line of a stream may have no newline. A line takes the timestamp of its first entry;
/// `\r` before `\n` is removed (TTY output); invalid UTF-8 becomes U+FFFD; a line longer than
/// `maxLineBytes` is cut there and ends with a marker, so memory stays bounded.
public struct LogLineAssembler: Sendable {
    public static let truncationMarker = Array(" …[line truncated]".utf8)

    private struct Pending: Sendable {
        var timestamp: Int64 = 0
        var timestampText: [UInt8] = []
        var bytes: [UInt8] = []
        var truncated = false
        var active = false
    }

    private var pending: [Pending] = [Pending(), Pending()]
    public let maxLineBytes: Int

    public init(maxLineBytes: Int = 1024 * 1024) {
        self.maxLineBytes = maxLineBytes
    }

    /// Adds one entry's content for `stream`; emits every line it completes.
    public mutating func add(stream: LogStream, timestamp: Int64, timestampText: UnsafeRawBufferPointer,
                             content: UnsafeRawBufferPointer, emit: (LogLine) -> Void) {
        let slot = Int(stream.rawValue) - 1
        var start = 0
        let n = content.count
        while start < n {
            // Find the next newline.
            var end = start
            while end < n && content[end] != 0x0A { end += 1 }
            let piece = UnsafeRawBufferPointer(rebasing: content[start..<end])
            if end == n {
                // No newline: the line continues in a later entry.
                append(slot: slot, timestamp: timestamp, timestampText: timestampText, piece: piece)
                return
            }
            if !pending[slot].active && piece.count <= maxLineBytes {
                // Fast path: a whole line in one entry.
                var len = piece.count
                if len > 0 && piece[len - 1] == 0x0D { len -= 1 }
                let text = UnsafeRawBufferPointer(rebasing: piece[0..<len])
                if UTF8Validator.isValid(text) {
                    emit(LogLine(timestamp: timestamp, timestampText: timestampText, stream: stream, text: text))
                } else {
                    emit(LogLine(timestamp: timestamp, timestampText: timestampText, stream: stream,
                                 text: bounded(UTF8Validator.repaired(Array(text)))))
                }
            } else {
                // A `\r` before the newline is not part of the line: it must not count against
                // the limit (a TTY line of exactly maxLineBytes arrives with one).
                // Exactly one `\r` goes, wherever the entries were cut: the piece's own, or (for a
                // `\r` that ended the previous entry) the pending line's.
                var whole = piece
                if whole.count > 0 {
                    if whole[whole.count - 1] == 0x0D { whole = UnsafeRawBufferPointer(rebasing: whole[0..<(whole.count - 1)]) }
                } else if pending[slot].active && !pending[slot].truncated && pending[slot].bytes.last == 0x0D {
                    pending[slot].bytes.removeLast()
                }
                append(slot: slot, timestamp: timestamp, timestampText: timestampText, piece: whole)
                emitPending(slot: slot, stream: stream, stripCR: false, emit: emit)
            }
            start = end + 1
        }
    }

    private mutating func append(slot: Int, timestamp: Int64, timestampText: UnsafeRawBufferPointer, piece: UnsafeRawBufferPointer) {
        if !pending[slot].active {
            pending[slot].active = true
            pending[slot].timestamp = timestamp
            pending[slot].timestampText = Array(timestampText)
        }
        let room = maxLineBytes - pending[slot].bytes.count
        if piece.count <= room {
            pending[slot].bytes.append(contentsOf: piece)
        } else {
            if room > 0 { pending[slot].bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: piece[0..<room])) }
            pending[slot].truncated = true
        }
    }

    /// `stripCR`: a line ended without its newline (a run's end) loses a trailing `\r` too.
    private mutating func emitPending(slot: Int, stream: LogStream, stripCR: Bool = true, emit: (LogLine) -> Void) {
        var p = pending[slot]
        pending[slot] = Pending()
        if stripCR, !p.truncated, let last = p.bytes.last, last == 0x0D { p.bytes.removeLast() }
        var text = p.bytes
        if p.truncated {
            // Cut on a scalar boundary so the marker follows valid UTF-8.
            var cut = text.count
            while cut > 0 && cut > text.count - 4 && text[cut - 1] & 0xC0 == 0x80 { cut -= 1 }
            if cut > 0 && text[cut - 1] >= 0xC0 { cut -= 1 }
            text.removeSubrange(cut...)
            text = bounded(UTF8Validator.repaired(text), alreadyCut: true)
        } else {
            text = bounded(UTF8Validator.repaired(text))
        }
        emit(LogLine(timestamp: p.timestamp, timestampText: p.timestampText, stream: stream, text: text))
    }

    /// Repairing invalid UTF-8 turns each bad byte into U+FFFD (three bytes): cut the result back
    /// to `maxLineBytes` on a scalar boundary, with the marker, so a line's size stays bounded.
    private func bounded(_ text: [UInt8], alreadyCut: Bool = false) -> [UInt8] {
        guard text.count > maxLineBytes else { return alreadyCut ? text + Self.truncationMarker : text }
        var cut = maxLineBytes
        while cut > 0 && text[cut] & 0xC0 == 0x80 { cut -= 1 }
        return Array(text[..<cut]) + Self.truncationMarker
    }

    /// The line being assembled on `stream` ends here without a newline (its run ended).
    public mutating func endLine(stream: LogStream, emit: (LogLine) -> Void) {
        let slot = Int(stream.rawValue) - 1
        if pending[slot].active { emitPending(slot: slot, stream: stream, emit: emit) }
    }

    /// The stream ended: a last line without a newline is delivered.
    public mutating func finish(emit: (LogLine) -> Void) {
        if pending[0].active { emitPending(slot: 0, stream: .stdout, emit: emit) }
        if pending[1].active { emitPending(slot: 1, stream: .stderr, emit: emit) }
    }

    public var hasPendingLine: Bool { pending[0].active || pending[1].active }

    /// Whether a line of `stream` is unfinished.
    public func hasPendingLine(_ stream: LogStream) -> Bool { pending[Int(stream.rawValue) - 1].active }

    /// Bytes held in unfinished lines (changes whenever one grows).
    public var pendingBytes: Int { pending[0].bytes.count + pending[1].bytes.count }

    /// Previews of the unfinished lines, at most `maxPreviewBytes` of text each: what a terminal
    /// would show, i.e. the text after the last `\r` that has something after it (a progress
    /// bar rewrites its line with `\r`).
    public func partialLines(maxPreviewBytes: Int = 4096) -> [LogLine] {
        var out: [LogLine] = []
        for slot in 0..<2 where pending[slot].active {
            let bytes = pending[slot].bytes
            var start = 0
            if let lastCR = bytes.lastIndex(of: 0x0D) {
                if lastCR + 1 < bytes.count { start = lastCR + 1 }
                else if let previous = bytes[..<lastCR].lastIndex(of: 0x0D) { start = previous + 1 }
            }
            var end = min(bytes.count, start + max(0, maxPreviewBytes))
            // Cut on a scalar boundary.
            while end > start && end < bytes.count && bytes[end] & 0xC0 == 0x80 { end -= 1 }
            var text = UTF8Validator.repaired(Array(bytes[start..<end]))
            if let last = text.last, last == 0x0D { text.removeLast() }
            var line = LogLine(timestamp: pending[slot].timestamp, timestampText: pending[slot].timestampText,
                               stream: slot == 0 ? .stdout : .stderr, text: text)
            line.partial = true
            out.append(line)
        }
        return out
    }
}
