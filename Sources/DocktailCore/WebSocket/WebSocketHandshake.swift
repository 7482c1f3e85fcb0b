import COpenSSL
import Foundation

/// The server side of the opening handshake (RFC 6455 §4.2).
public enum WebSocketHandshake {
    /// §1.3: the GUID appended to the client's key.
    public static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    public enum Failure: Error, Equatable, Sendable {
        /// Not a valid upgrade request (→ 400).
        case badRequest(String)
        /// Sec-WebSocket-Version is not 13 (→ 426 with `Sec-WebSocket-Version: 13`, §4.4).
        case unsupportedVersion
        /// The Origin is not allowed (→ 403).
        case forbiddenOrigin
    }

    /// §4.2.2 step 5.4: base64(SHA-1(key + GUID)), SHA-1 from OpenSSL.
    public static func acceptValue(forKey key: String) -> String {
        let input = Array((key + guid).utf8)
        var digest = [UInt8](repeating: 0, count: Int(SHA_DIGEST_LENGTH))
        input.withUnsafeBufferPointer { inp in
            digest.withUnsafeMutableBufferPointer { out in
                _ = SHA1(inp.baseAddress, inp.count, out.baseAddress)
            }
        }
        return Data(digest).base64EncodedString()
    }

    /// Checks the client's handshake (§4.2.1) and returns the key to answer.
    public static func validate(_ request: HTTPRequest, allowedOrigins: [String]) throws(Failure) -> String {
        guard request.method == "GET" else { throw .badRequest("WebSocket upgrade must use GET") }
        guard request.versionMinor >= 1 else { throw .badRequest("WebSocket upgrade needs HTTP/1.1") }
        guard let host = request.headers["Host"], !host.isEmpty else { throw .badRequest("missing Host") }
        guard request.headers.containsToken("websocket", in: "Upgrade") else { throw .badRequest("missing Upgrade: websocket") }
        guard request.headers.containsToken("upgrade", in: "Connection") else { throw .badRequest("Connection must contain Upgrade") }
        guard let version = request.headers["Sec-WebSocket-Version"], version.trimmingSpaces() == "13" else {
            throw .unsupportedVersion
        }
        let keys = request.headers.values("Sec-WebSocket-Key")
        guard keys.count == 1, let key = keys.first.map({ String($0.trimmingSpaces()) }),
              let decoded = Data(base64Encoded: key), decoded.count == 16 else {
            throw .badRequest("Sec-WebSocket-Key must be 16 bytes in base64")
        }
        if let origin = request.headers["Origin"], !isOriginAllowed(origin, host: host, allowed: allowedOrigins) {
            throw .forbiddenOrigin
        }
        return key
    }

    /// Cross-site WebSocket hijacking defence (§10.2): a browser's Origin must be this server
    /// (same host and port as Host) or one configured. `*` in the allowed list allows all.
    public static func isOriginAllowed(_ origin: String, host: String, allowed: [String]) -> Bool {
        let normalisedOrigin = origin.lowercased().trimmingSuffix("/")
        if allowed.contains("*") { return true }
        if allowed.contains(where: { $0.lowercased().trimmingSuffix("/") == normalisedOrigin }) { return true }
        guard let schemeEnd = normalisedOrigin.range(of: "://") else { return false }
        let originHost = String(normalisedOrigin[schemeEnd.upperBound...])
        let scheme = String(normalisedOrigin[..<schemeEnd.lowerBound])
        let hostLower = host.lowercased()
        if originHost == hostLower { return true }
        // Default ports may be implicit on either side.
        let defaultPort = scheme == "https" ? ":443" : ":80"
        return originHost + defaultPort == hostLower || originHost == hostLower + defaultPort
    }

    /// The 101 response (§4.2.2 step 5).
    public static func response(acceptingKey key: String) -> [UInt8] {
        Array(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
               "Sec-WebSocket-Accept: \(acceptValue(forKey: key))\r\n\r\n").utf8)
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
