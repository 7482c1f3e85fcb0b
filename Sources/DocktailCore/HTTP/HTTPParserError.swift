/// Why a request could not be parsed. `HTTPErrorMapping` turns each into a status code.
public enum HTTPParserError: Error, Equatable, Sendable {
    /// Malformed syntax; the text says what (never echoes request bytes back).
    case badRequest(String)
    /// Request line over `HTTPLimits.maxRequestLineBytes` (→ 414).
    case requestLineTooLong
    /// Header block over `HTTPLimits.maxHeaderBytes` or more than `HTTPLimits.maxHeaderFields` fields (→ 431).
    case headersTooLarge
    /// Body over `HTTPLimits.maxRequestBodyBytes` (→ 413).
    case bodyTooLarge
    /// A transfer coding other than chunked (→ 501).
    case unsupportedTransferEncoding
    /// A version other than HTTP/1.0 or HTTP/1.1 (→ 505).
    case unsupportedVersion
    /// An `Expect` other than `100-continue` (→ 417, RFC 9110 §10.1.1).
    case expectationFailed
}
