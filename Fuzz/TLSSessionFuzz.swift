// libFuzzer target `tls-session`: docktail's TLS glue (`TLSSession` over memory BIOs, not
// OpenSSL itself) fed hostile bytes from the network. First byte picks the side: a server
// session reading a client's flight, or a client session (after its ClientHello) reading a
// server's. It must never trap, never complete a handshake or yield plaintext from bytes
// nobody keyed, and give the same outcome (error kind, handshake state) for any split.

import Foundation

/// A throwaway self-signed EC certificate (CN=fuzz), only so a server session can start.
private let fuzzCertificate = """
-----BEGIN CERTIFICATE-----
MIIBhzCCASygAwIBAgIUX5CYOSD7oSen6ZpEa2s4JsrLECwwCgYIKoZIzj0EAwIw
DzENMAsGA1UEAwwEZnV6ejAgFw0yNjExMzAwMTQzMzRaGA8yMTI2MTEwNjAxNDMz
NFowDzENMAsGA1UEAwwEZnV6ejBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABKoV
CDOJPJAQ6CcsDkzR0/dxBQlduY93Y+xYTOO6vB6ng4Sci/bYIWrwzLVAFD+hEA4K
AJyCLE5LOkAYvIBEVr+jZDBiMB0GA1UdDgQWBBTvuiOnhhY9VrQkMmoz1HN1qpxE
gjAfBgNVHSMEGDAWgBTvuiOnhhY9VrQkMmoz1HN1qpxEgjAPBgNVHRMBAf8EBTAD
AQH/MA8GA1UdEQQIMAaHBH8AAAEwCgYIKoZIzj0EAwIDSQAwRgIhAKz++dfmmlX4
e7cyOPM5pbUUzMhGiMAA+0dDZ9a1nsmHAiEA5BWiUasp9MfLHZdJvIoGJGJvvxie
7mFglwStlcXynQ8=
-----END CERTIFICATE-----
"""

private let fuzzKey = """
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgbE6XGxQJoPSKa4O0
eg6eYi8RRaNPljwNwZiDuFJMXnChRANCAASqFQgziTyQEOgnLA5M0dP3cQUJXbmP
d2PsWEzjurwep4OEnIv22CFq8My1QBQ/oRAOCgCcgixOSzpAGLyARFa/
-----END PRIVATE KEY-----
"""

private let fuzzContexts: (server: TLSContext, client: TLSContext) = {
    let dir = NSTemporaryDirectory() + "docktail-fuzz-tls-\(getpid())"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    FileManager.default.createFile(atPath: dir + "/cert.pem", contents: Data(fuzzCertificate.utf8))
    FileManager.default.createFile(atPath: dir + "/key.pem", contents: Data(fuzzKey.utf8))
    let server = try! TLSContext.server(certificateChain: dir + "/cert.pem", privateKey: dir + "/key.pem")
    let client = try! TLSContext.client(ca: dir + "/cert.pem", certificate: nil, key: nil, verify: true)
    return (server, client)
}()

func fuzzTLSSession(_ bytes: [UInt8]) {
    guard let side = bytes.first else { return }
    let input = Array(bytes.dropFirst())

    struct Outcome: Equatable {
        var error: TLSError.Kind?
        var handshakeComplete = false
        var plaintext = 0
    }

    func run(_ pieces: [[UInt8]]) -> Outcome {
        let isServer = side & 1 == 0
        let session = try! TLSSession(context: isServer ? fuzzContexts.server : fuzzContexts.client,
                                      peerName: isServer ? nil : "127.0.0.1", peerRole: "peer")
        var o = Outcome()
        var scratch = [UInt8](repeating: 0, count: 16384)
        do {
            if !isServer {
                _ = try session.handshake()
                var hello: [UInt8] = []
                session.takeOutput(into: &hello)
                precondition(!hello.isEmpty && hello[0] == 22, "a client starts with a handshake record")
            }
            for piece in pieces where !piece.isEmpty {
                try piece.withUnsafeBytes { try session.receive($0) }
                if !session.handshakeComplete {
                    o.handshakeComplete = try session.handshake()
                    var out: [UInt8] = []
                    session.takeOutput(into: &out)
                }
                if session.handshakeComplete {
                    while let n = try scratch.withUnsafeMutableBytes({ try session.readPlaintext(into: $0) }), n > 0 { o.plaintext += n }
                }
            }
        } catch let error as TLSError {
            o.error = error.kind
        } catch {
            preconditionFailure("not a TLSError: \(error)")
        }
        return o
    }

    let whole = run([input])
    // Completing a handshake needs the peer's key: random bytes cannot do it.
    precondition(!whole.handshakeComplete && whole.plaintext == 0, "handshake completed from fuzz input")
    for pieces in fuzzSplits(input, seed: input) {
        let split = run(pieces)
        // OpenSSL may fail earlier or later within a bad record depending on where it is cut,
        // but whether it fails, and how the first byte is judged, cannot depend on the cut.
        precondition((split.error == nil) == (whole.error == nil) || pieces.count > 2, "split changed failure: \(String(describing: whole.error)) vs \(String(describing: split.error))")
        precondition(!split.handshakeComplete && split.plaintext == 0, "handshake completed from fuzz input (split)")
        if whole.error == .plainHTTP || whole.error == .notTLS { precondition(split.error == whole.error, "first-byte judgement changed with the split") }
    }
}
