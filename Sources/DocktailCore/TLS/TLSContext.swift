import COpenSSL
import Foundation

/// One OpenSSL `SSL_CTX`: the certificates and rules shared by many connections.
///
/// A server context holds docktail's certificate chain and key; a client context (for an
/// engine) holds the CA that engine certificates must chain to and, optionally, the client
/// certificate the engine checks (Docker's `--tlsverify`). Both refuse anything below TLS 1.2.
/// Contexts are immutable once made; a certificate rotation makes a new one (`TLSServerIdentity`).
public final class TLSContext: @unchecked Sendable {
    // Invariant: `ctx` is fully configured in the initialiser and never changed afterwards;
    // OpenSSL allows `SSL_new` on a configured context from any thread.
    let ctx: OpaquePointer
    public let isServer: Bool
    /// Whether the peer's certificate is verified (always for servers' clients: not asked).
    public let verifiesPeer: Bool

    private init(ctx: OpaquePointer, isServer: Bool, verifiesPeer: Bool) {
        self.ctx = ctx
        self.isServer = isServer
        self.verifiesPeer = verifiesPeer
    }

    deinit { SSL_CTX_free(ctx) }

    /// A context for docktail's listeners: `certificateChain` is a PEM file holding the leaf
    /// certificate first, then any intermediates; `privateKey` its unencrypted key.
    public static func server(certificateChain: String, privateKey: String) throws(TLSError) -> TLSContext {
        guard let ctx = SSL_CTX_new(TLS_server_method()) else { throw TLSError.fromQueue("cannot create a TLS context") }
        let context = TLSContext(ctx: ctx, isServer: true, verifiesPeer: false)
        try context.applyCommon()
        try context.loadIdentity(certificate: certificateChain, key: privateKey)
        // ALPN (RFC 7301): docktail speaks HTTP/1.1 only; a client that offers it gets it, a
        // client that offers only h2 gets no ALPN and falls back to HTTP/1.1 or gives up.
        SSL_CTX_set_alpn_select_cb(ctx, { _, out, outLength, input, inputLength, _ in
            guard let input, let out, let outLength else { return SSL_TLSEXT_ERR_NOACK }
            var i = 0
            let n = Int(inputLength)
            while i < n {
                let length = Int(input[i])
                let start = i + 1
                guard start + length <= n else { break }
                if length == 8 && memcmp(input + start, "http/1.1", 8) == 0 {
                    out.pointee = input + start
                    outLength.pointee = UInt8(length)
                    return SSL_TLSEXT_ERR_OK
                }
                i = start + length
            }
            return SSL_TLSEXT_ERR_NOACK
        }, nil)
        return context
    }

    /// A context for connecting to an engine. `ca`: the CA file engine certificates must chain
    /// to (nil: the system's default trust store). `certificate`/`key`: the client identity the
    /// engine checks. `verify` false skips checking the engine's certificate (say so loudly).
    public static func client(ca: String?, certificate: String?, key: String?, verify: Bool) throws(TLSError) -> TLSContext {
        guard let ctx = SSL_CTX_new(TLS_client_method()) else { throw TLSError.fromQueue("cannot create a TLS context") }
        let context = TLSContext(ctx: ctx, isServer: false, verifiesPeer: verify)
        try context.applyCommon()
        if verify {
            if let ca {
                try Self.checkReadable(ca, field: "ca")
                guard SSL_CTX_load_verify_locations(ctx, ca, nil) == 1 else {
                    throw TLSError.fromQueue(field: "ca", "cannot load the CA certificates in \(ca)")
                }
            } else {
                _ = SSL_CTX_set_default_verify_paths(ctx)
            }
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nil)
        } else {
            SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nil)
        }
        switch (certificate, key) {
        case (nil, nil): break
        case let (c?, k?): try context.loadIdentity(certificate: c, key: k)
        case (nil, _?): throw TLSError(field: "cert", "a client key needs its certificate")
        case (_?, nil): throw TLSError(field: "key", "a client certificate needs its key")
        }
        return context
    }

    private func applyCommon() throws(TLSError) {
        guard docktail_SSL_CTX_set_min_proto_version(ctx, docktail_TLS1_2_VERSION()) == 1 else {
            throw TLSError.fromQueue("cannot require TLS 1.2")
        }
        // Renegotiation is a DoS lever and pointless here; compression leaks secrets (CRIME).
        docktail_SSL_CTX_harden(ctx)
        // A key with a passphrase must never prompt on the terminal (OpenSSL's default): the
        // callback refuses, and `loadIdentity` explains.
        SSL_CTX_set_default_passwd_cb(ctx, { _, _, _, _ in 0 })
    }

    private func loadIdentity(certificate: String, key: String) throws(TLSError) {
        try Self.checkReadable(certificate, field: "cert")
        let keyText = try Self.checkReadable(key, field: "key")
        if keyText.contains("ENCRYPTED") {
            throw TLSError(field: "key", "\(key) is encrypted with a passphrase, which docktail cannot ask for; decrypt it with `openssl pkey -in \(key) -out KEY.pem` and keep that file private")
        }
        guard SSL_CTX_use_certificate_chain_file(ctx, certificate) == 1 else {
            throw TLSError.fromQueue(field: "cert", "cannot load the certificate chain in \(certificate)")
        }
        guard SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) == 1, SSL_CTX_check_private_key(ctx) == 1 else {
            let reasons = TLSError.drainQueue()
            if !reasons.contains(where: { $0.contains("mismatch") }) {
                throw TLSError(field: "key", "cannot load the private key in \(key)" + (reasons.last.map { ": \($0)" } ?? ""))
            }
            throw TLSError(field: "key", "the key in \(key) does not belong to the certificate in \(certificate)")
        }
    }

    /// The file's text; a clear error when it cannot be read.
    @discardableResult
    static func checkReadable(_ path: String, field: String) throws(TLSError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TLSError(field: field, "cannot read \(path)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// The subject of the context's own certificate (for logs).
    public var certificateSubject: String? {
        guard let cert = SSL_CTX_get0_certificate(ctx), let name = X509_get_subject_name(cert),
              let text = X509_NAME_oneline(name, nil, 0) else { return nil }
        defer { CRYPTO_free(text, nil, 0) }
        return String(cString: text)
    }
}
