/// Where engine errors become HTTP answers. (The HTTP layer maps its own parse and handshake
/// errors in `HTTPErrorMapping`; the WebSocket layer its protocol errors in
/// `WebSocketProtocolError.closeCode`.)
public enum ErrorMapping {
    /// Engine failures. A client never sees the engine's message text (`publicDescription`);
    /// any 4xx answer about a reference (unknown, ambiguous prefix, malformed) is the same 404,
    /// so a status cannot reveal that hidden containers exist.
    public static func response(for error: DockerError) -> HTTPResponse {
        switch error {
        case .notFound(let what): return .error(404, what)
        case .unreachable, .badResponse, .tls: return .error(502, error.publicDescription)
        case .engineStatus(let status, _):
            if (400..<500).contains(status) { return .error(404, "no such container") }
            return .error(502, error.publicDescription)
        case .unknownHost: return .error(400, error.publicDescription)
        }
    }
}
