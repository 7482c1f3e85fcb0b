import COpenSSL

/// One TLS connection's OpenSSL state, driven through memory BIOs so that the socket stays
/// ours: the event loop reads and writes the file descriptor, OpenSSL only transforms bytes.
///
/// ```
///   socket ──receive()──▶ [network→TLS BIO] ──SSL_read──▶ readPlaintext() ──▶ handler
///   queue ──encrypt()──▶ SSL_write ──▶ [TLS→network BIO] ──takeOutput()──▶ socket
/// ```
///
/// No call blocks or waits: "want read" only means "feed me more bytes from the socket".
/// The inbound BIO holds at most what one socket read handed over, because every `receive`
/// is followed by reading all the plaintext it yields (`SocketChannel` does).
public final class TLSSession {
    // Invariant: used on one event loop only (its channel's); OpenSSL objects are not shared.
    let ssl: OpaquePointer
    private let networkToTLS: OpaquePointer
    private let tlsToNetwork: OpaquePointer
    public let isServer: Bool
    /// Whether the peer's certificate is checked (its verify result means something only then).
    let verifiesPeer: Bool
    /// How the peer is named in messages ("engine", "client").
    let peerRole: String
    public private(set) var handshakeComplete = false
    private var receivedAny = false
    private var shutdownSent = false

    /// `peerName`: for a client, the host the certificate must name (a DNS name, checked with
    /// `X509_VERIFY_PARAM_set1_host` and sent as SNI, or an IP literal, checked against the
    /// certificate's IP SANs with `set1_ip_asc`).
    public init(context: TLSContext, peerName: String? = nil, peerRole: String = "peer") throws(TLSError) {
        guard let ssl = SSL_new(context.ctx) else { throw TLSError.fromQueue("cannot create a TLS session") }
        guard let inbound = BIO_new(BIO_s_mem()), let outbound = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw TLSError("cannot create TLS buffers")
        }
        // An empty memory BIO reports "retry" rather than EOF, which is what "want read" needs.
        _ = BIO_ctrl(inbound, BIO_C_SET_BUF_MEM_EOF_RETURN, -1, nil)
        _ = BIO_ctrl(outbound, BIO_C_SET_BUF_MEM_EOF_RETURN, -1, nil)
        SSL_set_bio(ssl, inbound, outbound)
        self.ssl = ssl
        self.networkToTLS = inbound
        self.tlsToNetwork = outbound
        self.isServer = context.isServer
        self.verifiesPeer = context.verifiesPeer
        self.peerRole = peerRole
        if context.isServer {
            SSL_set_accept_state(ssl)
        } else {
            SSL_set_connect_state(ssl)
            if let name = peerName, !name.isEmpty {
                let bare = name.hasPrefix("[") && name.hasSuffix("]") ? String(name.dropFirst().dropLast()) : name
                let isIP = bare.contains(":") || bare.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E }
                if context.verifiesPeer {
                    let param = SSL_get0_param(ssl)
                    let ok = isIP ? X509_VERIFY_PARAM_set1_ip_asc(param, bare) : X509_VERIFY_PARAM_set1_host(param, bare, 0)
                    guard ok == 1 else {
                        SSL_free(ssl)
                        throw TLSError.fromQueue("cannot check the certificate against \(bare)")
                    }
                }
                // SNI (RFC 6066 §3) names hosts, never addresses.
                if !isIP { _ = docktail_SSL_set_tlsext_host_name(ssl, bare) }
            }
        }
    }

    deinit { SSL_free(ssl) }

    /// Hands bytes from the socket to OpenSSL. The first byte must open a TLS record (content
    /// types 20 to 24, RFC 8446 §5.1): anything else is a peer that does not speak TLS, and the
    /// error says so (for instance, plain HTTP sent to a TLS port).
    public func receive(_ bytes: UnsafeRawBufferPointer) throws(TLSError) {
        guard !bytes.isEmpty else { return }
        if !receivedAny {
            receivedAny = true
            let first = bytes[0]
            if first < 20 || first > 24 {
                let http = bytes.count >= 1 && (first == UInt8(ascii: "H") || (first >= 0x41 && first <= 0x5A))
                throw TLSError(kind: http ? .plainHTTP : .notTLS,
                               isServer ? "the \(peerRole) sent plain HTTP to a TLS port"
                                        : (http ? "the \(peerRole) does not speak TLS on this port (it answered in plain HTTP)"
                                                : "the \(peerRole) does not speak TLS on this port"))
            }
        }
        var offset = 0
        while offset < bytes.count {
            let n = BIO_write(networkToTLS, bytes.baseAddress! + offset, Int32(min(bytes.count - offset, Int(Int32.max))))
            guard n > 0 else { throw TLSError("cannot buffer TLS input") }
            offset += Int(n)
        }
    }

    /// Moves the handshake on; true once it is complete.
    public func handshake() throws(TLSError) -> Bool {
        if handshakeComplete { return true }
        // SSL_get_error reads the thread's error queue: it must hold only this call's errors.
        ERR_clear_error()
        let r = SSL_do_handshake(ssl)
        if r == 1 {
            handshakeComplete = true
            return true
        }
        let code = SSL_get_error(ssl, r)
        if code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE { return false }
        throw failure(code)
    }

    /// Decrypted bytes into `buffer`: the count, 0 when OpenSSL needs more input, nil when the
    /// peer closed the TLS session (close_notify).
    public func readPlaintext(into buffer: UnsafeMutableRawBufferPointer) throws(TLSError) -> Int? {
        var n = 0
        ERR_clear_error()
        let r = SSL_read_ex(ssl, buffer.baseAddress, buffer.count, &n)
        if r == 1 { return n }
        let code = SSL_get_error(ssl, r)
        if code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE { return 0 }
        if code == SSL_ERROR_ZERO_RETURN { return nil }
        throw failure(code)
    }

    /// Encrypts `bytes` (the outbound memory BIO takes all of it); returns the count taken.
    public func encrypt(_ bytes: UnsafeRawBufferPointer) throws(TLSError) -> Int {
        guard !bytes.isEmpty else { return 0 }
        var n = 0
        ERR_clear_error()
        let r = SSL_write_ex(ssl, bytes.baseAddress, bytes.count, &n)
        if r == 1 { return n }
        let code = SSL_get_error(ssl, r)
        if code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE { return 0 }
        throw failure(code)
    }

    /// Ciphertext waiting for the socket.
    public var pendingOutput: Int { docktail_BIO_pending(tlsToNetwork) }

    /// Appends all waiting ciphertext to `out`.
    public func takeOutput(into out: inout [UInt8]) {
        let n = pendingOutput
        guard n > 0 else { return }
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: n))
        let got = out.withUnsafeMutableBytes { raw in BIO_read(tlsToNetwork, raw.baseAddress! + start, Int32(n)) }
        out.removeLast(n - max(0, Int(got)))
    }

    /// Queues close_notify (RFC 8446 §6.1) once.
    public func shutdown() {
        guard handshakeComplete, !shutdownSent else { return }
        shutdownSent = true
        _ = SSL_shutdown(ssl)
        _ = TLSError.drainQueue()
    }

    /// The ALPN protocol agreed on, if any.
    public var negotiatedProtocol: String? {
        var data: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &data, &length)
        guard let data, length > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }

    /// Turns an OpenSSL failure into a message a user can act on.
    private func failure(_ code: Int32) -> TLSError {
        let reasons = TLSError.drainQueue()
        let reason = reasons.last ?? (code == SSL_ERROR_SYSCALL ? "connection ended during TLS" : "TLS error \(code)")
        if !isServer {
            let verify = SSL_get_verify_result(ssl)
            if verifiesPeer && verify != X509_V_OK {
                let text = X509_verify_cert_error_string(verify).map { String(cString: $0) } ?? "error \(verify)"
                return TLSError(kind: .verification, "certificate verify failed: \(text) (the \(peerRole)'s certificate)")
            }
            // The peer's alert says why it hung up (RFC 8446 §6.2); these are about our certificate.
            let refusals = ["alert certificate required", "alert bad certificate", "alert certificate expired",
                            "alert certificate revoked", "alert unknown ca", "alert certificate unknown",
                            "alert unsupported certificate", "alert access denied"]
            if refusals.contains(where: { reason.contains($0) }) {
                return TLSError(kind: .refusedByPeer, "the \(peerRole) refused the client certificate (\(reason))")
            }
        }
        return TLSError(kind: .protocolError, reason)
    }
}
