/// Encodes server frames (RFC 6455 §5.2). Server frames are never masked (§5.1).
///
///      0                   1                   2                   3
///      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///     +-+-+-+-+-------+-+-------------+-------------------------------+
///     |F|R|R|R| opcode|M| Payload len |    Extended payload length    |
///     |I|S|S|S|  (4)  |A|     (7)     |             (16/64)           |
///     |N|V|V|V|       |S|             |   (if payload len==126/127)   |
///     | |1|2|3|       |K|             |                               |
///     +-+-+-+-+-------+-+-------------+ - - - - - - - - - - - - - - - +
///     |     Extended payload length continued, if payload len == 127  |
///     + - - - - - - - - - - - - - - - +-------------------------------+
///     |                               |          Payload Data         |
///     +-------------------------------+ - - - - - - - - - - - - - - - +
public enum WebSocketFrameEncoder {
    /// Header length for a payload of `length` bytes: 2, 4 or 10 (§5.2 payload length rules).
    @inline(__always)
    public static func headerLength(forPayload length: Int) -> Int {
        length < 126 ? 2 : (length <= 0xFFFF ? 4 : 10)
    }

    /// Appends the frame header for an unmasked frame to `buffer`.
    @inline(__always)
    public static func appendHeader(opcode: WebSocketOpcode, fin: Bool = true, payloadLength length: Int, to buffer: inout [UInt8]) {
        buffer.append((fin ? 0x80 : 0) | opcode.rawValue)
        if length < 126 {
            buffer.append(UInt8(length))
        } else if length <= 0xFFFF {
            buffer.append(126)
            buffer.append(UInt8(length >> 8))
            buffer.append(UInt8(length & 0xFF))
        } else {
            buffer.append(127)
            for shift in stride(from: 56, through: 0, by: -8) { buffer.append(UInt8((UInt64(length) >> UInt64(shift)) & 0xFF)) }
        }
    }

    /// Appends a whole unmasked frame to `buffer`.
    public static func append(opcode: WebSocketOpcode, fin: Bool = true, payload: some Collection<UInt8>, to buffer: inout [UInt8]) {
        appendHeader(opcode: opcode, fin: fin, payloadLength: payload.count, to: &buffer)
        buffer.append(contentsOf: payload)
    }

    public static func encode(opcode: WebSocketOpcode, fin: Bool = true, payload: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(headerLength(forPayload: payload.count) + payload.count)
        append(opcode: opcode, fin: fin, payload: payload, to: &out)
        return out
    }

    public static func text(_ string: String) -> [UInt8] { encode(opcode: .text, payload: Array(string.utf8)) }

    /// A close frame: status code then UTF-8 reason (§5.5.1); the reason is cut to fit 125 bytes
    /// on a scalar boundary so the frame stays valid.
    public static func close(code: UInt16, reason: String = "") -> [UInt8] {
        var payload: [UInt8] = [UInt8(code >> 8), UInt8(code & 0xFF)]
        var reasonBytes = Array(reason.utf8)
        if reasonBytes.count > 123 {
            var cut = 123
            while cut > 0 && reasonBytes[cut] & 0xC0 == 0x80 { cut -= 1 }
            reasonBytes = Array(reasonBytes[..<cut])
        }
        payload += reasonBytes
        return encode(opcode: .close, payload: payload)
    }
}
