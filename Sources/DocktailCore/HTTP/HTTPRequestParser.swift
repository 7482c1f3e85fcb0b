/// Incremental HTTP/1.1 request parser (RFC 9112). A pure value type: append bytes as they
/// arrive, take complete requests out. Pipelined requests come out one by one, in order.
///
/// Limits (`HTTPLimits`) are checked as soon as the bytes reveal them: an over-long request line
/// fails before its end arrives, a header block fails at the byte that crosses the bound, and a
/// body fails as soon as Content-Length is read.
public struct HTTPRequestParser: Sendable {
    private enum State: Sendable {
        case requestLine
        case headers(HTTPRequest, headerBytes: Int)
        case body(HTTPRequest, remaining: Int)
        case chunkedBody(HTTPRequest, ChunkedDecoder)
        /// After a protocol upgrade the parser stops; leftover bytes belong to the new protocol.
        case stopped
    }

    private var state: State = .requestLine
    /// The request head asked for `100 Continue` before its body (RFC 9110 §10.1.1).
    private var continueWanted = false
    private var buffer: [UInt8] = []
    /// Start of the unconsumed bytes in `buffer`.
    private var start = 0
    /// Where the search for the next LF resumes, so split input is not rescanned.
    private var scan = 0
    public let limits: HTTPLimits

    public init(limits: HTTPLimits = HTTPLimits()) {
        self.limits = limits
    }

    /// True once per request that sent `Expect: 100-continue` and whose body is awaited: the
    /// connection then writes `HTTP/1.1 100 Continue` (the parser itself never writes).
    public mutating func takeContinueRequest() -> Bool {
        defer { continueWanted = false }
        switch state {
        case .body, .chunkedBody: return continueWanted
        default: return false
        }
    }

    /// Whether part of a request has been received (used for the header timeout).
    public var hasPartialRequest: Bool {
        if case .requestLine = state { return start < buffer.count }
        if case .stopped = state { return false }
        return true
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            scan -= start
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Stops parsing (after an upgrade) and returns the bytes received after the last request.
    public mutating func stop() -> [UInt8] {
        state = .stopped
        let rest = Array(buffer[start...])
        buffer = []
        start = 0
        scan = 0
        return rest
    }

    /// The next complete request, or nil when more bytes are needed.
    public mutating func next() throws(HTTPParserError) -> HTTPRequest? {
        while true {
            switch state {
            case .stopped:
                return nil
            case .requestLine:
                guard let line = try nextLine(limit: limits.maxRequestLineBytes, error: .requestLineTooLong) else { return nil }
                // RFC 9112 §2.2: ignore empty lines before the request line.
                if line.isEmpty { continue }
                state = .headers(try Self.parseRequestLine(line), headerBytes: 0)
            case .headers(var request, let headerBytes):
                let remainingBudget = limits.maxHeaderBytes - headerBytes
                guard let line = try nextLine(limit: remainingBudget, error: .headersTooLarge) else { return nil }
                if line.isEmpty {
                    if let complete = try finishHead(&request) { compact(); return complete }
                    continue
                }
                guard request.headers.count < limits.maxHeaderFields else { throw .headersTooLarge }
                let (name, value) = try Self.parseHeaderLine(line)
                request.headers.add(name, value)
                state = .headers(request, headerBytes: headerBytes + line.count + 2)
            case .body(var request, let remaining):
                let available = buffer.count - start
                let take = min(available, remaining)
                request.body.append(contentsOf: buffer[start..<(start + take)])
                start += take
                scan = start
                if take == remaining {
                    state = .requestLine
                    compact()
                    return request
                }
                state = .body(request, remaining: remaining - take)
                return nil
            case .chunkedBody(var request, var decoder):
                let maxBody = limits.maxRequestBodyBytes
                var tooLarge = false
                let consumed: Int
                do {
                    consumed = try buffer.withUnsafeBytes { raw throws(ChunkedDecoder.DecodeError) -> Int in
                        try decoder.decode(UnsafeRawBufferPointer(rebasing: raw[start...])) { piece in
                            if request.body.count + piece.count > maxBody { tooLarge = true; return }
                            request.body.append(contentsOf: piece)
                        }
                    }
                } catch {
                    throw .badRequest("invalid chunked body")
                }
                if tooLarge { throw .bodyTooLarge }
                start += consumed
                scan = start
                if decoder.isDone {
                    state = .requestLine
                    compact()
                    return request
                }
                state = .chunkedBody(request, decoder)
                return nil
            }
        }
    }

    /// Validates the head (RFC 9112 §3.2, §6) and decides how the body is framed.
    private mutating func finishHead(_ request: inout HTTPRequest) throws(HTTPParserError) -> HTTPRequest? {
        let hosts = request.headers.values("Host")
        if request.versionMinor >= 1 && hosts.count != 1 { throw .badRequest("a single Host header is required") }
        if hosts.count > 1 { throw .badRequest("duplicate Host header") }
        let transferEncodings = request.headers.values("Transfer-Encoding")
        let contentLengths = request.headers.values("Content-Length")
        // RFC 9112 §6.1: a message with both is an attack vector (request smuggling); reject it.
        if !transferEncodings.isEmpty && !contentLengths.isEmpty {
            throw .badRequest("both Content-Length and Transfer-Encoding")
        }
        // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means the framing is faulty.
        if !transferEncodings.isEmpty && request.versionMinor == 0 {
            throw .badRequest("Transfer-Encoding in an HTTP/1.0 request")
        }
        // RFC 9110 §10.1.1: 100-continue is the only expectation; others get 417.
        let expectations = request.headers.values("Expect")
        if !expectations.isEmpty {
            guard expectations.count == 1, expectations[0].lowercased() == "100-continue" else { throw .expectationFailed }
            if request.versionMinor >= 1 && (!transferEncodings.isEmpty || !contentLengths.isEmpty) { continueWanted = true }
        }
        if !transferEncodings.isEmpty {
            let codings = transferEncodings.flatMap { $0.split(separator: ",") }.map { $0.trimmingSpaces().lowercased() }
            guard codings == ["chunked"] else { throw .unsupportedTransferEncoding }
            state = .chunkedBody(request, ChunkedDecoder())
            return nil
        }
        if !contentLengths.isEmpty {
            var length: Int?
            for value in contentLengths {
                for part in value.split(separator: ",", omittingEmptySubsequences: false) {
                    let digits = part.trimmingSpaces()
                    guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), digits.count <= 18,
                          let n = Int(digits) else { throw .badRequest("invalid Content-Length") }
                    if let l = length, l != n { throw .badRequest("conflicting Content-Length") }
                    length = n
                }
            }
            let n = length ?? 0
            if n > limits.maxRequestBodyBytes { throw .bodyTooLarge }
            if n > 0 {
                state = .body(request, remaining: n)
                return nil
            }
        }
        state = .requestLine
        return request
    }

    /// The next line without its terminator (CRLF, or a lone LF, RFC 9112 §2.2), or nil.
    private mutating func nextLine(limit: Int, error: HTTPParserError) throws(HTTPParserError) -> [UInt8]? {
        let end = buffer.count
        var i = scan
        while i < end && buffer[i] != 0x0A { i += 1 }
        if i == end {
            scan = end
            if end - start > limit + 1 { throw error }
            return nil
        }
        var lineEnd = i
        if lineEnd > start && buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
        if lineEnd - start > limit { throw error }
        let line = Array(buffer[start..<lineEnd])
        start = i + 1
        scan = start
        return line
    }

    private mutating func compact() {
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 16 * 1024)
            start = 0
            scan = 0
        } else if start > 4096 {
            buffer.removeFirst(start)
            scan -= start
            start = 0
        }
    }

    /// request-line = method SP request-target SP HTTP-version (RFC 9112 §3)
    static func parseRequestLine(_ line: [UInt8]) throws(HTTPParserError) -> HTTPRequest {
        let parts = line.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .badRequest("malformed request line") }
        let method = parts[0], target = parts[1], version = parts[2]
        guard !method.isEmpty, method.allSatisfy(isTokenByte) else { throw .badRequest("invalid method") }
        guard !target.isEmpty, target.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else { throw .badRequest("invalid request target") }
        // Only origin-form (and `*` for OPTIONS) is meaningful here; absolute-form is accepted by path.
        let targetString = String(decoding: target, as: UTF8.self)
        guard version.count == 8, version.starts(with: Array("HTTP/".utf8)),
              let major = version[version.startIndex + 5].asciiDigit,
              version[version.startIndex + 6] == UInt8(ascii: "."),
              let minor = version[version.startIndex + 7].asciiDigit else {
            throw .badRequest("invalid HTTP version")
        }
        // HTTP/1.0 and 1.1 only: a server must not claim to understand a minor version it does
        // not know (RFC 9110 §2.5), so HTTP/1.9 is 505 too.
        guard major == 1, minor <= 1 else { throw .unsupportedVersion }
        var normalisedTarget = targetString
        if !targetString.hasPrefix("/") && targetString != "*" {
            // absolute-form (RFC 9112 §3.2.2): keep only the path and query.
            let t = Array(target)
            guard let schemeEnd = (0..<max(0, t.count - 2)).first(where: { t[$0] == 0x3A && t[$0 + 1] == 0x2F && t[$0 + 2] == 0x2F }) else {
                throw .badRequest("invalid request target")
            }
            if let slash = t[(schemeEnd + 3)...].firstIndex(of: 0x2F) {
                normalisedTarget = String(decoding: t[slash...], as: UTF8.self)
            } else {
                normalisedTarget = "/"
            }
        }
        return HTTPRequest(method: String(decoding: method, as: UTF8.self), target: normalisedTarget, versionMinor: minor)
    }

    /// field-line = field-name ":" OWS field-value OWS (RFC 9112 §5)
    static func parseHeaderLine(_ line: [UInt8]) throws(HTTPParserError) -> (String, String) {
        if line[0] == 0x20 || line[0] == 0x09 { throw .badRequest("obsolete line folding") }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > 0 else { throw .badRequest("malformed header field") }
        let name = line[..<colon]
        // No whitespace is allowed between the field name and the colon (RFC 9112 §5.1).
        guard name.allSatisfy(isTokenByte) else { throw .badRequest("invalid header field name") }
        var valueStart = colon + 1, valueEnd = line.count
        while valueStart < valueEnd && (line[valueStart] == 0x20 || line[valueStart] == 0x09) { valueStart += 1 }
        while valueEnd > valueStart && (line[valueEnd - 1] == 0x20 || line[valueEnd - 1] == 0x09) { valueEnd -= 1 }
        let value = line[valueStart..<valueEnd]
        guard value.allSatisfy({ $0 >= 0x20 && $0 != 0x7F || $0 == 0x09 || $0 >= 0x80 }) else {
            throw .badRequest("invalid character in header field value")
        }
        return (String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
    }

    /// tchar (RFC 9110 §5.6.2)
    @inline(__always)
    static func isTokenByte(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}

extension UInt8 {
    var asciiDigit: Int? { (0x30...0x39).contains(self) ? Int(self - 0x30) : nil }
}
