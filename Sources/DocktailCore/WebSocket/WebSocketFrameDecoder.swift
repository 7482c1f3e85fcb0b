/// Resumable decoder of client frames (RFC 6455 §5.2). Pure: bytes in, frames out, any split of
/// the input gives the same frames. Every header rule is checked as soon as the header byte that
/// carries it has arrived; the message size limit is decided from the length field, before any
/// payload byte is read or buffered.
public struct WebSocketFrameDecoder: Sendable {
    private enum State: Sendable {
        /// Waiting for the first two header bytes.
        case header
        /// Waiting for `needed` extended-length bytes (2 or 8).
        case extendedLength(first: UInt8, needed: Int)
        /// Waiting for the 4-byte masking key.
        case mask(first: UInt8, length: Int)
        /// Reading the payload; `received` bytes unmasked so far.
        case payload(first: UInt8, length: Int, mask: UInt32)
    }

    private var state: State = .header
    /// Header bytes gathered across reads.
    private var headerBuffer: [UInt8] = []
    private var payload: [UInt8] = []
    /// Bytes of the data message in progress (all of its frames so far), for the size limit.
    private var messageLength = 0
    /// True between a non-final data frame and the final continuation (§5.4).
    private var inFragmentedMessage = false
    public let maxMessageBytes: Int

    public init(maxMessageBytes: Int = WebSocketLimits().maxClientMessageBytes) {
        self.maxMessageBytes = maxMessageBytes
    }

    /// Decodes all of `input`, calling `frame` for each complete frame in order.
    public mutating func decode(_ input: UnsafeRawBufferPointer, frame deliver: (WebSocketFrame) throws(WebSocketProtocolError) -> Void) throws(WebSocketProtocolError) {
        var i = 0
        let n = input.count
        while i < n || isEmptyPayloadReady {
            switch state {
            case .header:
                headerBuffer.append(input[i]); i += 1
                if headerBuffer.count == 1 { try checkFirstByte(headerBuffer[0]); continue }
                let first = headerBuffer[0], second = headerBuffer[1]
                headerBuffer.removeAll(keepingCapacity: true)
                // §5.1: a server MUST close the connection on an unmasked client frame.
                guard second & 0x80 != 0 else { throw .protocolError("client frame not masked") }
                let len7 = Int(second & 0x7F)
                let opcode = WebSocketOpcode(rawValue: first & 0x0F)!
                if opcode.isControl && len7 > 125 { throw .protocolError("control frame longer than 125 bytes") }
                switch len7 {
                case 126: state = .extendedLength(first: first, needed: 2)
                case 127: state = .extendedLength(first: first, needed: 8)
                default:
                    try checkLength(len7, first: first)
                    state = .mask(first: first, length: len7)
                }
            case .extendedLength(let first, let needed):
                headerBuffer.append(input[i]); i += 1
                guard headerBuffer.count == needed else { continue }
                var length: UInt64 = 0
                for b in headerBuffer { length = length << 8 | UInt64(b) }
                headerBuffer.removeAll(keepingCapacity: true)
                // §5.2: the most significant bit of a 64-bit length MUST be 0.
                if needed == 8 && length >> 63 != 0 { throw .protocolError("invalid payload length") }
                // The length must use the minimal encoding.
                if needed == 2 && length < 126 || needed == 8 && length <= 0xFFFF {
                    throw .protocolError("payload length not minimally encoded")
                }
                guard length <= UInt64(Int.max / 2) else { throw .messageTooBig }
                try checkLength(Int(length), first: first)
                state = .mask(first: first, length: Int(length))
            case .mask(let first, let length):
                headerBuffer.append(input[i]); i += 1
                guard headerBuffer.count == 4 else { continue }
                let key = UInt32(headerBuffer[0]) << 24 | UInt32(headerBuffer[1]) << 16 | UInt32(headerBuffer[2]) << 8 | UInt32(headerBuffer[3])
                headerBuffer.removeAll(keepingCapacity: true)
                payload.removeAll(keepingCapacity: true)
                payload.reserveCapacity(length)
                state = .payload(first: first, length: length, mask: key)
            case .payload(let first, let length, let key):
                let take = min(length - payload.count, n - i)
                if take > 0 {
                    let offset = payload.count
                    payload.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[i..<(i + take)]))
                    Self.unmask(&payload, from: offset, key: key)
                    i += take
                }
                guard payload.count == length else { continue }
                state = .header
                let frame = WebSocketFrame(fin: first & 0x80 != 0, opcode: WebSocketOpcode(rawValue: first & 0x0F)!, payload: payload)
                payload = []
                try deliver(frame)
            }
        }
    }

    /// A zero-length payload completes without further input.
    private var isEmptyPayloadReady: Bool {
        if case .payload(_, let length, _) = state { return length == 0 }
        return false
    }

    /// Checks what the first header byte alone reveals (§5.2, §5.4, §5.5).
    private mutating func checkFirstByte(_ first: UInt8) throws(WebSocketProtocolError) {
        // No extension is negotiated, so RSV1–3 MUST be 0.
        guard first & 0x70 == 0 else { throw .protocolError("reserved bits set without an extension") }
        guard let opcode = WebSocketOpcode(rawValue: first & 0x0F) else { throw .protocolError("reserved opcode") }
        let fin = first & 0x80 != 0
        if opcode.isControl {
            guard fin else { throw .protocolError("fragmented control frame") }
            return
        }
        switch opcode {
        case .continuation:
            guard inFragmentedMessage else { throw .protocolError("continuation frame without a message") }
        default:
            guard !inFragmentedMessage else { throw .protocolError("new data frame inside a fragmented message") }
            messageLength = 0
        }
        inFragmentedMessage = !fin
    }

    /// The message size limit, decided from the length field (before the payload).
    private mutating func checkLength(_ length: Int, first: UInt8) throws(WebSocketProtocolError) {
        guard first & 0x08 == 0 else { return } // control frames are bounded to 125 by §5.5
        messageLength += length
        if messageLength > maxMessageBytes { throw .messageTooBig }
        if first & 0x80 != 0 { messageLength = 0 }
    }

    /// §5.3: octet i of the payload is XORed with octet i mod 4 of the key.
    static func unmask(_ bytes: inout [UInt8], from offset: Int, key: UInt32) {
        bytes.withUnsafeMutableBufferPointer { buf in
            var i = offset
            let n = buf.count
            let keyBytes: (UInt8, UInt8, UInt8, UInt8) = (UInt8(key >> 24), UInt8(key >> 16 & 0xFF), UInt8(key >> 8 & 0xFF), UInt8(key & 0xFF))
            while i < n {
                switch i & 3 {
                case 0: buf[i] ^= keyBytes.0
                case 1: buf[i] ^= keyBytes.1
                case 2: buf[i] ^= keyBytes.2
                default: buf[i] ^= keyBytes.3
                }
                i += 1
            }
        }
    }
}
