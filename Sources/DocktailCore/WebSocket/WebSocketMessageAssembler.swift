/// What a client said, once frames are joined into messages (RFC 6455 §5.4, §5.5).
public enum WebSocketMessage: Sendable, Equatable {
    case text([UInt8])
    case binary([UInt8])
    case ping([UInt8])
    case pong([UInt8])
    /// A close frame; `code` is nil for an empty close payload (which §7.1.5 reports as 1005).
    case close(code: UInt16?, reason: String)
}

/// Joins data frames into messages, validates text incrementally as each fragment arrives
/// (§8.1) and checks close payloads (§5.5.1, §7.4). Pure value type.
public struct WebSocketMessageAssembler: Sendable {
    private var fragments: [UInt8] = []
    private var fragmentOpcode: WebSocketOpcode?
    private var utf8 = UTF8Validator()

    public init() {}

    public mutating func push(_ frame: WebSocketFrame) throws(WebSocketProtocolError) -> WebSocketMessage? {
        switch frame.opcode {
        case .ping: return .ping(frame.payload)
        case .pong: return .pong(frame.payload)
        case .close: return try Self.parseClose(frame.payload)
        case .text, .binary, .continuation:
            let opcode = frame.opcode == .continuation ? (fragmentOpcode ?? .binary) : frame.opcode
            if frame.opcode != .continuation {
                fragmentOpcode = opcode
                fragments.removeAll(keepingCapacity: true)
                utf8 = UTF8Validator()
            }
            if opcode == .text {
                guard utf8.feed(frame.payload) else { throw .invalidUTF8 }
            }
            guard frame.fin else {
                fragments.append(contentsOf: frame.payload)
                return nil
            }
            if opcode == .text && !utf8.isAtBoundary { throw .invalidUTF8 }
            let payload = fragments.isEmpty ? frame.payload : fragments + frame.payload
            fragments = []
            fragmentOpcode = nil
            return opcode == .text ? .text(payload) : .binary(payload)
        }
    }

    /// §5.5.1: empty, or a 2-byte code then a UTF-8 reason.
    static func parseClose(_ payload: [UInt8]) throws(WebSocketProtocolError) -> WebSocketMessage {
        if payload.isEmpty { return .close(code: nil, reason: "") }
        guard payload.count >= 2 else { throw .protocolError("close payload of one byte") }
        let code = UInt16(payload[0]) << 8 | UInt16(payload[1])
        guard WebSocketCloseCode.isValidOnWire(code) else { throw .protocolError("invalid close code \(code)") }
        let reasonBytes = Array(payload[2...])
        guard UTF8Validator.isValid(reasonBytes) else { throw .invalidUTF8 }
        return .close(code: code, reason: String(decoding: reasonBytes, as: UTF8.self))
    }
}
