/// A violation of RFC 6455 by the peer. `ErrorMapping` turns each into its close code.
public enum WebSocketProtocolError: Error, Equatable, Sendable {
    /// §5.1 unmasked client frame, §5.2 RSV bits without an extension, reserved opcode,
    /// §5.4 continuation out of order, §5.5 fragmented or long control frame, §7.4 bad close payload.
    case protocolError(String)
    /// A message over `Limits.maxClientMessageBytes`.
    case messageTooBig
    /// §8.1 a text message (or close reason) that is not UTF-8.
    case invalidUTF8
}
