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
    public static func validate(_ request: HTTPRequest, allowedOrigins: [String],
                                allowedHosts: HostAllowlist = HostAllowlist(names: [])) throws(Failure) -> String {
        guard request.method == "GET" else { throw .badRequest("WebSocket upgrade must use GET") }
        guard request.versionMinor >= 1 else { throw .badRequest("WebSocket upgrade needs HTTP/1.1") }
        guard let host = request.headers["Host"], !host.isEmpty else { throw .badRequest("missing Host") }
        guard request.headers.containsToken("websocket", in: "Upgrade") else { throw .badRequest("missing Upgrade: websocket") }
        guard request.headers.containsToken("upgrade", in: "Connection") else { throw .badRequest("Connection must contain Upgrade") }
        // A second value could be checked by one party and used by another: refuse (§4.1 sends one).
        let versions = request.headers.values("Sec-WebSocket-Version")
        guard versions.count <= 1 else { throw .badRequest("more than one Sec-WebSocket-Version") }
        guard let version = versions.first, version.trimmingSpaces() == "13" else {
            throw .unsupportedVersion
        }
        let keys = request.headers.values("Sec-WebSocket-Key")
        guard keys.count == 1, let key = keys.first.map({ String($0.trimmingSpaces()) }),
              let decoded = Data(base64Encoded: key), decoded.count == 16 else {
            throw .badRequest("Sec-WebSocket-Key must be 16 bytes in base64")
        }
        let origins = request.headers.values("Origin")
        guard origins.count <= 1 else { throw .badRequest("more than one Origin") }
        if let origin = origins.first, !isOriginAllowed(String(origin), host: host, allowed: allowedOrigins, allowedHosts: allowedHosts) {
            throw .forbiddenOrigin
        }
        return key
    }

    /// Cross-site WebSocket hijacking defence (§10.2). A browser's Origin is allowed when it is
    /// configured (`*` allows all), or when its host is one docktail answers to (the
    /// `HostAllowlist`, never merely the request's own Host, which a rebinding page controls)
    /// *and* it names the same host and port as Host (default ports may be implicit).
    public static func isOriginAllowed(_ origin: String, host: String, allowed: [String],
                                       allowedHosts: HostAllowlist = HostAllowlist(names: [])) -> Bool {
        let normalisedOrigin = origin.lowercased().trimmingSuffix("/")
        if allowed.contains("*") { return true }
        if allowed.contains(where: { $0.lowercased().trimmingSuffix("/") == normalisedOrigin }) { return true }
        guard let schemeEnd = normalisedOrigin.range(of: "://") else { return false }
        let scheme = String(normalisedOrigin[..<schemeEnd.lowerBound])
        guard scheme == "http" || scheme == "https" else { return false }
        let defaultPort = scheme == "https" ? 443 : 80
        guard let o = HostAllowlist.hostPart(normalisedOrigin[schemeEnd.upperBound...]),
              let h = HostAllowlist.hostPart(host) else { return false }
        guard allowedHosts.allowsHostName(o.host) else { return false }
        return o.host == h.host && (o.port ?? defaultPort) == (h.port ?? defaultPort)
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
