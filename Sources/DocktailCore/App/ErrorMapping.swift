/// The one place where errors become protocol outcomes: HTTP status codes before an upgrade,
/// close codes after it.
public enum ErrorMapping {
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

    public static func closeCode(for error: WebSocketProtocolError) -> (UInt16, String) {
        switch error {
        case .protocolError(let why): return (WebSocketCloseCode.protocolError.rawValue, why)
        case .messageTooBig: return (WebSocketCloseCode.messageTooBig.rawValue, "message too big")
        case .invalidUTF8: return (WebSocketCloseCode.invalidPayload.rawValue, "invalid UTF-8")
        }
    }

    /// Engine failures. A client never sees the engine's message text (`publicDescription`);
    /// any 4xx answer about a reference (unknown, ambiguous prefix, malformed) is the same 404,
    /// so a status cannot reveal that hidden containers exist.
    public static func response(for error: DockerError) -> HTTPResponse {
        switch error {
        case .notFound(let what): return .error(404, what)
        case .unreachable, .badResponse: return .error(502, error.publicDescription)
        case .engineStatus(let status, _):
            if (400..<500).contains(status) { return .error(404, "no such container") }
            return .error(502, error.publicDescription)
        case .unknownHost: return .error(400, error.publicDescription)
        }
    }
}
