import Foundation

/// An HTTP/1.1 response ready to serialise.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: Int, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static func json(_ status: Int = 200, _ value: JSONValue) -> HTTPResponse {
        var r = HTTPResponse(status: status, body: value.encoded())
        r.headers.add("Content-Type", "application/json; charset=utf-8")
        r.headers.add("Cache-Control", "no-store")
        return r
    }

    /// `{"error": message}` with `status`; the message must not echo secrets.
    public static func error(_ status: Int, _ message: String) -> HTTPResponse {
        json(status, .object([("error", .string(message))]))
    }

    public static func text(_ status: Int, _ text: String, contentType: String = "text/plain; charset=utf-8") -> HTTPResponse {
        var r = HTTPResponse(status: status, body: Array(text.utf8))
        r.headers.add("Content-Type", contentType)
        return r
    }

    /// Status line, headers (with Content-Length and Connection added) and, unless `head`, the body.
    public func serialized(keepAlive: Bool, head: Bool = false) -> [UInt8] {
        var out = "HTTP/1.1 \(status) \(Self.reason(status))\r\n"
        for (name, value) in headers.fields { out += "\(name): \(value)\r\n" }
        if headers["Content-Length"] == nil && status != 304 && status != 204 && !(100..<200).contains(status) {
            out += "Content-Length: \(body.count)\r\n"
        }
        out += "Date: \(HTTPDate.now())\r\n"
        if !keepAlive { out += "Connection: close\r\n" }
        out += "\r\n"
        var bytes = Array(out.utf8)
        if !head && status != 304 { bytes += body }
        return bytes
    }

    public static func reason(_ status: Int) -> String {
        switch status {
        case 101: return "Switching Protocols"
        case 200: return "OK"
        case 204: return "No Content"
        case 304: return "Not Modified"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 413: return "Content Too Large"
        case 414: return "URI Too Long"
        case 417: return "Expectation Failed"
        case 421: return "Misdirected Request"
        case 426: return "Upgrade Required"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 505: return "HTTP Version Not Supported"
        default: return "Status"
        }
    }
}

/// IMF-fixdate (RFC 9110 §5.6.7), recomputed at most once a second.
public enum HTTPDate {
    private nonisolated(unsafe) static var cached: (second: Int, text: String) = (0, "")
    private static let lock = NSLock()

    public static func now() -> String {
        let second = Int(Date().timeIntervalSince1970)
        lock.lock(); defer { lock.unlock() }
        if cached.second == second { return cached.text }
        let text = format(Date(timeIntervalSince1970: Double(second)))
        cached = (second, text)
        return text
    }

    public static func format(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(days[Int(tmv.tm_wday)]), \(two(tmv.tm_mday)) \(months[Int(tmv.tm_mon)]) \(tmv.tm_year + 1900) \(two(tmv.tm_hour)):\(two(tmv.tm_min)):\(two(tmv.tm_sec)) GMT"
    }

    /// Parses an IMF-fixdate; nil for anything else.
    public static func parse(_ text: String) -> Date? {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return f.date(from: text)
    }
}
