/// Resumable decoder of the chunked transfer coding (RFC 9112 §7.1), used for request bodies
/// and for the engine's streamed responses. Pure: bytes in, body bytes out.
///
///     chunked-body = *chunk last-chunk trailer-section CRLF
///     chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
///     last-chunk   = 1*("0") [ chunk-ext ] CRLF
public struct ChunkedDecoder: Sendable {
    public enum DecodeError: Error, Equatable, Sendable {
        case invalidChunkSize
        case chunkSizeTooLarge
        case missingCRLF
        case lineTooLong
    }

    private enum State: Sendable {
        case size(value: UInt64, digits: Int)
        /// `length` counts the extension's bytes across reads: the limit holds however the bytes are split.
        case extensionBytes(value: UInt64, length: Int)
        case sizeLF(value: UInt64)
        case data(remaining: UInt64)
        case dataCR
        case dataLF
        case trailerLineStart
        case trailerLine(length: Int)
        case trailerLF(lineLength: Int)
        case done
    }

    private var state: State = .size(value: 0, digits: 0)
    /// Longest chunk-extension or trailer line accepted.
    public var maxLineBytes: Int

    public init(maxLineBytes: Int = 8 * 1024) {
        self.maxLineBytes = maxLineBytes
    }

    public var isDone: Bool {
        if case .done = state { return true }
        return false
    }

    /// Decodes from `input`, handing each piece of body data to `body` (slices of `input`).
    /// Returns the number of bytes consumed; stops right after the final CRLF.
    public mutating func decode(_ input: UnsafeRawBufferPointer, body: (UnsafeRawBufferPointer) -> Void) throws(DecodeError) -> Int {
        var i = 0
        let n = input.count
        while i < n {
            switch state {
            case .size(let value, let digits):
                let c = input[i]
                if let h = PercentDecoding.hexValue(c) {
                    guard digits < 16 else { throw .chunkSizeTooLarge }
                    state = .size(value: value << 4 | UInt64(h), digits: digits + 1)
                    i += 1
                } else {
                    guard digits > 0 else { throw .invalidChunkSize }
                    if c == 0x0D { state = .sizeLF(value: value); i += 1 }
                    else if c == 0x0A { i += 1; enterData(value) }
                    else if c == UInt8(ascii: ";") || c == 0x20 || c == 0x09 { state = .extensionBytes(value: value, length: 1); i += 1 }
                    else { throw .invalidChunkSize }
                }
            case .extensionBytes(let value, let length):
                let c = input[i]
                i += 1
                if c == 0x0D { state = .sizeLF(value: value) }
                else if c == 0x0A { enterData(value) }
                else {
                    guard length < maxLineBytes else { throw .lineTooLong }
                    state = .extensionBytes(value: value, length: length + 1)
                }
            case .sizeLF(let value):
                guard input[i] == 0x0A else { throw .missingCRLF }
                i += 1
                enterData(value)
            case .data(let remaining):
                let take = Int(min(UInt64(n - i), remaining))
                body(UnsafeRawBufferPointer(rebasing: input[i..<(i + take)]))
                i += take
                state = remaining == UInt64(take) ? .dataCR : .data(remaining: remaining - UInt64(take))
            case .dataCR:
                if input[i] == 0x0D { state = .dataLF; i += 1 }
                else if input[i] == 0x0A { state = .size(value: 0, digits: 0); i += 1 }
                else { throw .missingCRLF }
            case .dataLF:
                guard input[i] == 0x0A else { throw .missingCRLF }
                i += 1
                state = .size(value: 0, digits: 0)
            case .trailerLineStart:
                let c = input[i]
                i += 1
                if c == 0x0D { state = .trailerLF(lineLength: 0) }
                else if c == 0x0A { state = .done; return i }
                else { state = .trailerLine(length: 1) }
            case .trailerLine(let length):
                let c = input[i]
                i += 1
                if c == 0x0D { state = .trailerLF(lineLength: length) }
                else if c == 0x0A { state = .trailerLineStart }
                else {
                    guard length < maxLineBytes else { throw .lineTooLong }
                    state = .trailerLine(length: length + 1)
                }
            case .trailerLF(let lineLength):
                guard input[i] == 0x0A else { throw .missingCRLF }
                i += 1
                if lineLength == 0 { state = .done; return i }
                state = .trailerLineStart
            case .done:
                return i
            }
        }
        return i
    }

    private mutating func enterData(_ size: UInt64) {
        state = size == 0 ? .trailerLineStart : .data(remaining: size)
    }
}
