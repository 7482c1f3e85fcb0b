/// What can go wrong talking to an engine. The application (`ErrorMapping`, above this layer) turns it into a status code.
public enum DockerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No such container (or hidden by visibility rules).
    case notFound(String)
    /// The engine could not be reached.
    case unreachable(String)
    /// The engine sent something docktail cannot parse.
    case badResponse(String)
    /// The engine answered with an error status.
    case engineStatus(Int, String)
    /// `?host=` names no configured engine.
    case unknownHost(String)
    /// TLS to the engine failed: the message says what to fix (docktail's own words and
    /// OpenSSL's reason, never text the engine chose).
    case tls(String)

    public var description: String {
        switch self {
        case .notFound(let s): return s
        case .unreachable(let s): return "engine unreachable: \(s)"
        case .badResponse(let s): return "bad engine response: \(s)"
        case .engineStatus(let st, let m): return "engine status \(st): \(m)"
        case .unknownHost(let h): return "unknown host \(h)"
        case .tls(let s): return s
        }
    }

    /// What a client may be told: never the engine's own message text (it can name containers
    /// the client may not see, e.g. an ambiguous id prefix); the full text goes to the log.
    public var publicDescription: String {
        switch self {
        case .notFound: return "no such container"
        case .unreachable(let s): return "engine unreachable: \(s)"
        case .badResponse: return "bad engine response"
        case .engineStatus(let st, _): return "engine answered \(st)"
        case .unknownHost(let h): return "unknown host \(h)"
        case .tls(let s): return "engine unreachable: \(s)"
        }
    }
}
