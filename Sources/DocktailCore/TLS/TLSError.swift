import COpenSSL

/// A TLS failure a user can act on: the message says what went wrong in OpenSSL's words,
/// prefixed with what it means for docktail (a certificate that does not verify, an engine
/// that refused the client certificate, a port that does not speak TLS).
public struct TLSError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A certificate, key or CA file cannot be used.
        case configuration
        /// The peer's certificate did not verify (CA, name, dates).
        case verification
        /// The peer rejected our certificate.
        case refusedByPeer
        /// The peer spoke plain HTTP where TLS was expected.
        case plainHTTP
        /// The peer spoke something that is not TLS.
        case notTLS
        /// Any other TLS failure.
        case protocolError
    }

    public let kind: Kind
    /// The configuration field at fault (`ca`, `cert`, `key`), when a file is the problem.
    public let field: String?
    public let message: String

    public init(kind: Kind = .configuration, field: String? = nil, _ message: String) {
        self.kind = kind
        self.field = field
        self.message = message
    }

    public var description: String { message }

    /// The reasons on OpenSSL's thread-local error queue, oldest first, emptying it (a stale
    /// entry would otherwise be blamed on the next connection served by this thread).
    static func drainQueue() -> [String] {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            if let r = ERR_reason_error_string(code) { reasons.append(String(cString: r)) }
            else { reasons.append("error \(code)") }
        }
        return reasons
    }

    /// The last OpenSSL reason, or `fallback`.
    static func fromQueue(field: String? = nil, _ fallback: String) -> TLSError {
        let reasons = drainQueue()
        return TLSError(field: field, reasons.last.map { "\(fallback): \($0)" } ?? fallback)
    }
}
