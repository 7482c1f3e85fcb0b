/// Frame opcodes (RFC 6455 §5.2, §11.8).
public enum WebSocketOpcode: UInt8, Sendable {
    case continuation = 0x0
    case text = 0x1
    case binary = 0x2
    case close = 0x8
    case ping = 0x9
    case pong = 0xA

    /// Control frames have the high bit of the opcode set (RFC 6455 §5.5).
    public var isControl: Bool { rawValue & 0x8 != 0 }
}

/// Close status codes (RFC 6455 §7.4.1, IANA "WebSocket Close Code Number Registry").
public enum WebSocketCloseCode: UInt16, Sendable {
    case normalClosure = 1000
    case goingAway = 1001
    case protocolError = 1002
    case unsupportedData = 1003
    case invalidPayload = 1007
    case policyViolation = 1008
    case messageTooBig = 1009
    case internalError = 1011
    /// §7.4.1 registry (IANA): the server is overloaded or a dependency is unavailable; retry later.
    case tryAgainLater = 1013

    /// Whether a peer may send `code` in a close frame (RFC 6455 §7.4.1–7.4.2).
    /// 1005, 1006 and 1015 are never sent on the wire; 1004 is reserved; 1016–2999 are unassigned
    /// protocol codes; 1012–1014 are registered (service restart, try again later, bad gateway).
    public static func isValidOnWire(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014: return true
        case 3000...4999: return true
        default: return false
        }
    }
}
