/// A parsed HTTP/1.x request.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The raw request-target (origin-form: path and optional query), as received.
    public var target: String
    public var versionMinor: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// It came over TLS (HTTPS/WSS): set by the connection, never by a header.
    public var isSecure = false

    public init(method: String, target: String, versionMinor: Int = 1, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.method = method
        self.target = target
        self.versionMinor = versionMinor
        self.headers = headers
        self.body = body
    }

    /// The path part of the target, still percent-encoded.
    public var rawPath: Substring {
        if let q = target.firstIndex(of: "?") { return target[..<q] }
        return Substring(target)
    }

    /// The query part of the target, without `?`.
    public var rawQuery: Substring {
        if let q = target.firstIndex(of: "?") { return target[target.index(after: q)...] }
        return ""
    }

    /// Query parameters, percent-decoded (`+` is a space, as forms send it). Later duplicates win.
    public var query: [String: String] {
        var result: [String: String] = [:]
        for pair in rawQuery.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = PercentDecoding.decodeString(parts[0], plusIsSpace: true) ?? String(parts[0])
            let value = parts.count > 1 ? (PercentDecoding.decodeString(parts[1], plusIsSpace: true) ?? String(parts[1])) : ""
            result[key] = value
        }
        return result
    }

    /// Whether the connection stays open after the response (RFC 9112 §9.3).
    public var keepAlive: Bool {
        if headers.containsToken("close", in: "Connection") { return false }
        if versionMinor == 0 { return headers.containsToken("keep-alive", in: "Connection") }
        return true
    }

    public var isWebSocketUpgrade: Bool {
        headers.containsToken("websocket", in: "Upgrade")
    }
}

/// Percent-decoding of URL components (RFC 3986 §2.1).
public enum PercentDecoding {
    /// Decodes `%XX` escapes; nil when an escape is malformed.
    public static func decode<S: StringProtocol>(_ s: S, plusIsSpace: Bool = false) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        var it = s.utf8.makeIterator()
        while let c = it.next() {
            if c == UInt8(ascii: "%") {
                guard let h = it.next().flatMap(hexValue), let l = it.next().flatMap(hexValue) else { return nil }
                out.append(h << 4 | l)
            } else if plusIsSpace && c == UInt8(ascii: "+") {
                out.append(0x20)
            } else {
                out.append(c)
            }
        }
        return out
    }

    public static func decodeString<S: StringProtocol>(_ s: S, plusIsSpace: Bool = false) -> String? {
        guard let bytes = decode(s, plusIsSpace: plusIsSpace) else { return nil }
        return String(validatingUTF8Bytes: bytes)
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }
}

extension String {
    /// A string from bytes that must be valid UTF-8; nil otherwise.
    public init?(validatingUTF8Bytes bytes: [UInt8]) {
        guard UTF8Validator.isValid(bytes) else { return nil }
        self = String(decoding: bytes, as: UTF8.self)
    }
}
