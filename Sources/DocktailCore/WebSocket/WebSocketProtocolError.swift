/// A violation of RFC 6455 by the peer; `closeCode` is the one place that maps it (§7.4.1).
public enum WebSocketProtocolError: Error, Equatable, Sendable {
    /// §5.1 unmasked client frame, §5.2 RSV bits without an extension, reserved opcode,
    /// §5.4 continuation out of order, §5.5 fragmented or long control frame, §7.4 bad close payload.
    case protocolError(String)
    /// A message over `WebSocketLimits.maxClientMessageBytes`.
    case messageTooBig
    /// §8.1 a text message (or close reason) that is not UTF-8.
    case invalidUTF8
}

extension WebSocketProtocolError {
    /// The close code and reason that answer this error (§7.4.1: 1002, 1009, 1007).
    public var closeCode: (UInt16, String) {
        switch self {
        case .protocolError(let why): return (WebSocketCloseCode.protocolError.rawValue, why)
        case .messageTooBig: return (WebSocketCloseCode.messageTooBig.rawValue, "message too big")
        case .invalidUTF8: return (WebSocketCloseCode.invalidPayload.rawValue, "invalid UTF-8")
        }
    }
}
