/// The one place where the HTTP layer's errors become status codes (a request that cannot be
/// parsed, a WebSocket handshake that cannot be accepted).
public enum HTTPErrorMapping {
    public static func response(for error: HTTPParserError) -> HTTPResponse {
        switch error {
        case .badRequest(let why): return .error(400, why)
        case .requestLineTooLong: return .error(414, "request line too long")
        case .headersTooLarge: return .error(431, "request header fields too large")
        case .bodyTooLarge: return .error(413, "request body too large")
        case .unsupportedTransferEncoding: return .error(501, "only chunked transfer coding is supported")
        case .unsupportedVersion: return .error(505, "only HTTP/1.0 and HTTP/1.1 are supported")
        case .expectationFailed: return .error(417, "only Expect: 100-continue is supported")
        }
    }

    public static func response(for failure: WebSocketHandshake.Failure) -> HTTPResponse {
        switch failure {
        case .badRequest(let why): return .error(400, why)
        case .unsupportedVersion:
            var r = HTTPResponse.error(426, "WebSocket version 13 required")
            r.headers.add("Sec-WebSocket-Version", "13")
            return r
        case .forbiddenOrigin: return .error(403, "origin not allowed")
        }
    }
}
