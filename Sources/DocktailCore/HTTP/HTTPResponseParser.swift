/// Incremental parser of an HTTP/1.1 response (RFC 9112), for docktail's engine client.
/// Pure: bytes in; the head, body pieces and the end come out through callbacks. The body is
/// framed by Content-Length, chunked coding, or the end of the connection (§6.3).
public struct HTTPResponseParser: Sendable {
    public struct Head: Sendable {
        public var status: Int
        public var headers: HTTPHeaders
    }

    public enum ParseError: Error, Equatable, Sendable {
        case malformedStatusLine
        case malformedHeader
        case headTooLarge
        case invalidContentLength
        case invalidChunkedBody
        case truncated
    }

    private enum State: Sendable {
        case head
        case contentLength(remaining: Int)
        case chunked(ChunkedDecoder)
        case untilClose
        case done
    }

    private var state = State.head
    private var headBuffer: [UInt8] = []
    private let maxHeadBytes: Int
    /// Set for responses to HEAD, or 1xx/204/304, which have no body.
    public var noBody = false

    public init(maxHeadBytes: Int = 64 * 1024) {
        self.maxHeadBytes = maxHeadBytes
    }

    public var isDone: Bool { if case .done = state { return true }; return false }

    /// Parses `input`. Returns true once the response is complete.
    @discardableResult
    public mutating func parse(_ input: UnsafeRawBufferPointer,
                               head onHead: (Head) -> Void,
                               body onBody: (UnsafeRawBufferPointer) -> Void) throws(ParseError) -> Bool {
        var i = 0
        let n = input.count
        while true {
            switch state {
            case .head:
                guard i < n else { return false }
                // Look for the blank line that ends the head, across reads.
                var end = -1
                var j = i
                while j < n {
                    headBuffer.append(input[j])
                    j += 1
                    let c = headBuffer.count
                    if headBuffer[c - 1] == 0x0A && (c >= 2 && headBuffer[c - 2] == 0x0A || c >= 4 && headBuffer[c - 2] == 0x0D && headBuffer[c - 3] == 0x0A && headBuffer[c - 4] == 0x0D) {
                        end = j
                        break
                    }
                    if c > maxHeadBytes { throw .headTooLarge }
                }
                if end < 0 { return false }
                i = end
                let head = try Self.parseHead(headBuffer)
                headBuffer = []
                onHead(head)
                state = try bodyState(for: head)
            case .contentLength(let remaining):
                if remaining == 0 { state = .done; continue }
                guard i < n else { return false }
                let take = min(remaining, n - i)
                onBody(UnsafeRawBufferPointer(rebasing: input[i..<(i + take)]))
                i += take
                state = .contentLength(remaining: remaining - take)
            case .chunked(var decoder):
                guard i < n else { return false }
                let used: Int
                do {
                    used = try decoder.decode(UnsafeRawBufferPointer(rebasing: input[i...]), body: onBody)
                } catch {
                    throw .invalidChunkedBody
                }
                i += used
                state = decoder.isDone ? .done : .chunked(decoder)
            case .untilClose:
                if i < n { onBody(UnsafeRawBufferPointer(rebasing: input[i...])) }
                return false
            case .done:
                return true
            }
        }
    }

    /// The connection closed: complete for until-close bodies, an error otherwise.
    public mutating func finish() throws(ParseError) {
        switch state {
        case .untilClose, .done: state = .done
        default: throw .truncated
        }
    }

    private func bodyState(for head: Head) throws(ParseError) -> State {
        if noBody || head.status == 204 || head.status == 304 || (100..<200).contains(head.status) { return .done }
        if let te = head.headers["Transfer-Encoding"], te.lowercased().contains("chunked") { return .chunked(ChunkedDecoder()) }
        if let cl = head.headers["Content-Length"] {
            guard let n = Int(cl.trimmingSpaces()), n >= 0 else { throw .invalidContentLength }
            return .contentLength(remaining: n)
        }
        return .untilClose
    }

    static func parseHead(_ bytes: [UInt8]) throws(ParseError) -> Head {
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { line -> ArraySlice<UInt8> in
            line.last == 0x0D ? line.dropLast() : line
        }
        while let last = lines.last, last.isEmpty { lines.removeLast() }
        guard let statusLine = lines.first else { throw .malformedStatusLine }
        let parts = statusLine.split(separator: 0x20, maxSplits: 2, omittingEmptySubsequences: false)
        // status-code = 3DIGIT (RFC 9112 §4): `Int("-04")` would read a sign.
        guard parts.count >= 2, parts[0].starts(with: Array("HTTP/1.".utf8)), parts[1].count == 3,
              parts[1].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let status = Int(String(decoding: parts[1], as: UTF8.self)) else { throw .malformedStatusLine }
        var headers = HTTPHeaders()
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { throw .malformedHeader }
            let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self)
            let value = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingSpaces()
            headers.add(name, String(value))
        }
        return Head(status: status, headers: headers)
    }
}
