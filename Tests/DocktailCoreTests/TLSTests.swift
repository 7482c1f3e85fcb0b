import COpenSSL
import Dispatch
import Foundation
import XCTest
@testable import DocktailCore
#if canImport(Glibc)
import Glibc
#endif

/// Certificates made once per run with the `openssl` command line (EC keys: fast handshakes).
enum TestCertificates {
    struct Files {
        let dir: String
        var ca: String { "\(dir)/ca.pem" }
        var otherCA: String { "\(dir)/other-ca.pem" }
        var server: String { "\(dir)/server.pem" }
        var serverKey: String { "\(dir)/server-key.pem" }
        var client: String { "\(dir)/client.pem" }
        var clientKey: String { "\(dir)/client-key.pem" }
        var encryptedKey: String { "\(dir)/encrypted-key.pem" }
    }

    static let files: Files = {
        let dir = NSTemporaryDirectory() + "docktail-tls-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let script = """
        set -e
        cd '\(dir)'
        key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:prime256v1 -out "$1" 2>/dev/null; }
        key ca-key.pem; openssl req -x509 -new -key ca-key.pem -out ca.pem -days 2 -subj '/CN=docktail test CA'
        key other-ca-key.pem; openssl req -x509 -new -key other-ca-key.pem -out other-ca.pem -days 2 -subj '/CN=other CA'
        key server-key.pem; openssl req -new -key server-key.pem -out server.csr -subj '/CN=engine'
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nextendedKeyUsage=serverAuth\\n' > server.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out server.pem -days 2 -extfile server.ext 2>/dev/null
        key client-key.pem; openssl req -new -key client-key.pem -out client.csr -subj '/CN=docktail'
        printf 'extendedKeyUsage=clientAuth\\n' > client.ext
        openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out client.pem -days 2 -extfile client.ext 2>/dev/null
        openssl pkey -in client-key.pem -aes256 -passout pass:secret -out encrypted-key.pem
        """
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", script]
        try! p.run()
        p.waitUntilExit()
        precondition(p.terminationStatus == 0, "openssl failed to make test certificates")
        return Files(dir: dir)
    }()
}

final class TLSTests: XCTestCase {
    var certs: TestCertificates.Files { TestCertificates.files }

    func serverContext() throws -> TLSContext {
        try TLSContext.server(certificateChain: certs.server, privateKey: certs.serverKey)
    }

    func clientContext(ca: String? = nil, withCertificate: Bool = false) throws -> TLSContext {
        try TLSContext.client(ca: ca ?? certs.ca, certificate: withCertificate ? certs.client : nil,
                              key: withCertificate ? certs.clientKey : nil, verify: true)
    }

    /// Moves every waiting byte from `from` to `to`, `split` bytes first, then the rest.
    @discardableResult
    func transfer(_ from: TLSSession, _ to: TLSSession, split: Int) throws -> Int {
        var bytes: [UInt8] = []
        from.takeOutput(into: &bytes)
        guard !bytes.isEmpty else { return 0 }
        let cut = min(split, bytes.count)
        for piece in [bytes[..<cut], bytes[cut...]] where !piece.isEmpty {
            try Array(piece).withUnsafeBytes { try to.receive($0) }
            _ = try to.handshake()
        }
        return bytes.count
    }

    /// Runs a handshake, moving bytes both ways cut at `split`, until both sides are done.
    func handshake(_ client: TLSSession, _ server: TLSSession, split: Int) throws {
        _ = try client.handshake()
        for _ in 0..<20 where !(client.handshakeComplete && server.handshakeComplete && client.pendingOutput == 0 && server.pendingOutput == 0) {
            try transfer(client, server, split: split)
            try transfer(server, client, split: split)
        }
        XCTAssertTrue(client.handshakeComplete && server.handshakeComplete, "handshake did not finish (split \(split))")
    }

    /// Sends `message` through `from`, moving the records cut at `split`; returns what `to` read.
    func roundTrip(_ message: [UInt8], _ from: TLSSession, _ to: TLSSession, split: Int) throws -> [UInt8] {
        var offset = 0
        while offset < message.count {
            offset += try message[offset...].withUnsafeBytes { try from.encrypt($0) }
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        var bytes: [UInt8] = []
        from.takeOutput(into: &bytes)
        let cut = min(split, bytes.count)
        for piece in [bytes[..<cut], bytes[cut...]] where !piece.isEmpty {
            try Array(piece).withUnsafeBytes { try to.receive($0) }
            while true {
                let n = try buffer.withUnsafeMutableBytes { try to.readPlaintext(into: $0) }
                guard let n, n > 0 else { break }
                received += buffer[..<n]
            }
        }
        return received
    }

    /// The record glue is resumable: a handshake and a 20 KB message (two records) come
    /// through whole whatever offset every transfer is cut at.
    func testHandshakeAndRecordsSurviveEverySplit() throws {
        let server = try serverContext(), client = try clientContext()
        let message = (0..<20_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var reference = try TLSSession(context: client, peerName: "127.0.0.1")
        var referenceServer = try TLSSession(context: server)
        try handshake(reference, referenceServer, split: Int.max)
        // The longest flight bounds the interesting offsets.
        var flight: [UInt8] = []
        reference = try TLSSession(context: client, peerName: "127.0.0.1")
        referenceServer = try TLSSession(context: server)
        _ = try reference.handshake()
        try transfer(reference, referenceServer, split: Int.max)
        referenceServer.takeOutput(into: &flight)
        XCTAssertGreaterThan(flight.count, 300)
        for split in stride(from: 1, through: flight.count + 1, by: 1) {
            let c = try TLSSession(context: client, peerName: "127.0.0.1")
            let s = try TLSSession(context: server)
            try handshake(c, s, split: split)
            XCTAssertEqual(try roundTrip(message, c, s, split: split * 7), message, "client→server, split \(split)")
            XCTAssertEqual(try roundTrip(message, s, c, split: split * 13), message, "server→client, split \(split)")
        }
    }

    /// One byte at a time, the most a socket can split.
    func testOneByteAtATime() throws {
        let c = try TLSSession(context: try clientContext(), peerName: "localhost")
        let s = try TLSSession(context: try serverContext())
        _ = try c.handshake()
        var buffer = [UInt8](repeating: 0, count: 4096)
        func pump(_ a: TLSSession, _ b: TLSSession) throws -> [UInt8] {
            var bytes: [UInt8] = []
            a.takeOutput(into: &bytes)
            var plain: [UInt8] = []
            for byte in bytes {
                try [byte].withUnsafeBytes { try b.receive($0) }
                if !b.handshakeComplete { _ = try b.handshake() } else {
                    while let n = try buffer.withUnsafeMutableBytes({ try b.readPlaintext(into: $0) }), n > 0 { plain += buffer[..<n] }
                }
            }
            return plain
        }
        for _ in 0..<6 { _ = try pump(c, s); _ = try pump(s, c) }
        XCTAssertTrue(c.handshakeComplete && s.handshakeComplete)
        let message = Array(repeating: Array("a line of log\n".utf8), count: 3000).flatMap { $0 }
        _ = try message.withUnsafeBytes { try s.encrypt($0) }
        XCTAssertEqual(try pump(s, c), message)
    }

    func testALPNChoosesHTTP11() throws {
        let clientCtx = try clientContext()
        let protocols: [UInt8] = [2] + Array("h2".utf8) + [8] + Array("http/1.1".utf8)
        XCTAssertEqual(SSL_CTX_set_alpn_protos(clientCtx.ctx, protocols, UInt32(protocols.count)), 0)
        let c = try TLSSession(context: clientCtx, peerName: "127.0.0.1")
        let s = try TLSSession(context: try serverContext())
        try handshake(c, s, split: Int.max)
        XCTAssertEqual(c.negotiatedProtocol, "http/1.1")
        XCTAssertEqual(s.negotiatedProtocol, "http/1.1")
    }

    /// Plain HTTP to a TLS port, and a plain HTTP answer to a ClientHello, are named as such.
    func testPlainHTTPIsRecognisedBothWays() throws {
        let s = try TLSSession(context: try serverContext(), peerRole: "client")
        XCTAssertThrowsError(try Array("GET / HTTP/1.1\r\n".utf8).withUnsafeBytes { try s.receive($0) }) { error in
            XCTAssertEqual((error as? TLSError)?.kind, .plainHTTP)
        }
        let c = try TLSSession(context: try clientContext(), peerName: "127.0.0.1", peerRole: "engine")
        _ = try c.handshake()
        XCTAssertThrowsError(try Array("HTTP/1.1 400 Bad Request\r\n".utf8).withUnsafeBytes { try c.receive($0) }) { error in
            XCTAssertEqual((error as? TLSError)?.kind, .plainHTTP)
            XCTAssertTrue("\(error)".contains("does not speak TLS"), "\(error)")
        }
        let other = try TLSSession(context: try serverContext())
        XCTAssertThrowsError(try [UInt8(0)].withUnsafeBytes { try other.receive($0) }) { error in
            XCTAssertEqual((error as? TLSError)?.kind, .notTLS)
        }
    }

    func handshakeError(client: TLSContext, peerName: String, server: TLSContext? = nil) throws -> TLSError? {
        let c = try TLSSession(context: client, peerName: peerName, peerRole: "engine")
        let s = try TLSSession(context: server ?? serverContext())
        do {
            try handshake(c, s, split: Int.max)
            // TLS 1.3: a refused client certificate shows on the client's next read.
            var buffer = [UInt8](repeating: 0, count: 1024)
            _ = try buffer.withUnsafeMutableBytes { try c.readPlaintext(into: $0) }
            return nil
        } catch let error as TLSError {
            return error
        }
    }

    func testWrongCAAndWrongNameFailVerification() throws {
        let wrongCA = try handshakeError(client: try clientContext(ca: certs.otherCA), peerName: "127.0.0.1")
        XCTAssertEqual(wrongCA?.kind, .verification)
        XCTAssertTrue(wrongCA?.message.contains("certificate verify failed") == true, "\(String(describing: wrongCA))")
        let wrongName = try handshakeError(client: try clientContext(), peerName: "other.example")
        XCTAssertTrue(wrongName?.message.contains("certificate verify failed: hostname mismatch") == true, "\(String(describing: wrongName))")
        let wrongIP = try handshakeError(client: try clientContext(), peerName: "127.0.0.2")
        XCTAssertTrue(wrongIP?.message.contains("mismatch") == true, "\(String(describing: wrongIP))")
        XCTAssertNil(try handshakeError(client: try clientContext(), peerName: "localhost"))
    }

    /// A server that demands a client certificate (as `dockerd --tlsverify` does) and gets none:
    /// its alert is reported as a refusal of the client certificate.
    func testMissingClientCertificateIsNamedFromTheAlert() throws {
        let server = try serverContext()
        // Test-only: make this context ask for client certificates signed by the test CA.
        XCTAssertEqual(SSL_CTX_load_verify_locations(server.ctx, certs.ca, nil), 1)
        SSL_CTX_set_verify(server.ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nil)
        let refused = try handshakeErrorBothWays(client: try clientContext(), server: server)
        XCTAssertEqual(refused?.kind, .refusedByPeer, "\(String(describing: refused))")
        XCTAssertTrue(refused?.message.contains("refused the client certificate") == true)
        XCTAssertNil(try handshakeErrorBothWays(client: try clientContext(withCertificate: true), server: server))
    }

    /// Like `handshakeError`, but the server's failure alert is delivered to the client.
    func handshakeErrorBothWays(client: TLSContext, server: TLSContext) throws -> TLSError? {
        let c = try TLSSession(context: client, peerName: "127.0.0.1", peerRole: "engine")
        let s = try TLSSession(context: server)
        _ = try c.handshake()
        for _ in 0..<6 {
            do { try transfer(c, s, split: Int.max) } catch {
                // The server failed: its alert is in its output.
            }
            do {
                try transfer(s, c, split: Int.max)
                var buffer = [UInt8](repeating: 0, count: 1024)
                if c.handshakeComplete { _ = try buffer.withUnsafeMutableBytes { try c.readPlaintext(into: $0) } }
            } catch let error as TLSError {
                return error
            }
        }
        return nil
    }

    func testKeyFilesAreCheckedWithClearMessages() throws {
        XCTAssertThrowsError(try TLSContext.client(ca: certs.ca, certificate: certs.client, key: certs.encryptedKey, verify: true)) { error in
            let e = error as? TLSError
            XCTAssertEqual(e?.field, "key")
            XCTAssertTrue(e?.message.contains("passphrase") == true, "\(String(describing: e))")
        }
        XCTAssertThrowsError(try TLSContext.server(certificateChain: certs.server, privateKey: certs.clientKey)) { error in
            XCTAssertEqual((error as? TLSError)?.field, "key")
            XCTAssertTrue("\(error)".contains("does not belong"), "\(error)")
        }
        XCTAssertThrowsError(try TLSContext.server(certificateChain: "/nonexistent.pem", privateKey: certs.serverKey)) { error in
            XCTAssertEqual((error as? TLSError)?.field, "cert")
        }
        XCTAssertThrowsError(try TLSContext.client(ca: "/nonexistent-ca.pem", certificate: nil, key: nil, verify: true)) { error in
            XCTAssertEqual((error as? TLSError)?.field, "ca")
        }
    }

    /// Two channels over a socketpair, both speaking TLS: 3 MB from the server in 3,000 writes
    /// through a small socket buffer (so writes meet EAGAIN and the write source), read whole by
    /// the client; then a close after flush ends with close_notify, seen as EOF.
    func testChannelsSpeakTLSOverASocketpair() throws {
        let run = try runPair(budget: nil)
        XCTAssertEqual(run.serverReceived, Array("hello\n".utf8))
        XCTAssertEqual(run.clientReceived.count, 3_000_000)
        XCTAssertTrue(run.clientReceived.elementsEqual(repeatElement(run.line, count: 3000).joined()))
        XCTAssertTrue(run.clientEOF, "close_notify is an end of input")
        XCTAssertEqual(run.dropped, 0)
    }

    /// Backpressure works on plaintext: with a 64 KB budget and a client that reads only after
    /// all 3,000 lines were queued, whole lines are dropped and counted, every line that
    /// arrives is intact, and the ciphertext held beyond the budget stays under one TLS chunk.
    func testTLSBackpressureDropsWholeLinesAndBoundsCiphertext() throws {
        let run = try runPair(budget: OutputBudget(highWater: 64 * 1024, lowWater: 16 * 1024, hardLimit: 1 << 20))
        XCTAssertGreaterThan(run.dropped, 0)
        XCTAssertEqual(run.clientReceived.count % run.line.count, 0)
        XCTAssertEqual(run.clientReceived.count / run.line.count + run.dropped, 3000)
        XCTAssertTrue(run.clientReceived.elementsEqual(repeatElement(run.line, count: run.clientReceived.count / run.line.count).joined()))
        XCTAssertLessThanOrEqual(run.peakQueued, 64 * 1024 + SocketChannel.tlsChunk + 4096)
    }

    struct PairRun {
        var line: [UInt8]
        var serverReceived: [UInt8]
        var clientReceived: [UInt8]
        var clientEOF: Bool
        var dropped: Int
        var peakQueued: Int
    }

    func runPair(budget: OutputBudget?) throws -> PairRun {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        var small: Int32 = 16 * 1024
        for fd in fds {
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, socklen_t(MemoryLayout<Int32>.size))
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        let loop = EventLoop(index: 99)
        final class Recorder: SocketChannelHandler, @unchecked Sendable {
            var received: [UInt8] = []
            var secured = false
            var eof = false
            var closed: XCTestExpectation?
            var onRequest: (() -> Void)?
            func channelRead(_ channel: SocketChannel, _ bytes: UnsafeRawBufferPointer) {
                received += bytes
                if received.last == 0x0A { onRequest?() }
            }
            func channelSecured(_ channel: SocketChannel) { secured = true }
            func channelReadEOF(_ channel: SocketChannel) { eof = true; channel.close() }
            func channelClosed(_ channel: SocketChannel, errno: Int32?) { closed?.fulfill() }
        }
        let serverSide = Recorder(), clientSide = Recorder()
        let clientClosed = expectation(description: "client saw the end")
        clientSide.closed = clientClosed
        let line = Array((String(repeating: "0123456789abcdef ", count: 58) + String(repeating: "x", count: 13) + "\n").utf8)
        XCTAssertEqual(line.count, 1000)
        let serverContext = try serverContext(), clientContext = try clientContext()
        var serverChannel: SocketChannel!
        var peak = 0
        var dropped = 0
        loop.queue.sync {
            serverChannel = SocketChannel(fd: fds[0], loop: loop)
            let clientChannel = SocketChannel(fd: fds[1], loop: loop)
            serverChannel.useTLS(try! TLSSession(context: serverContext))
            clientChannel.useTLS(try! TLSSession(context: clientContext, peerName: "127.0.0.1"))
            if let budget { serverChannel.budget = budget }
            serverChannel.onDropped = { dropped += $0 }
            serverChannel.handler = serverSide
            clientChannel.handler = clientSide
            serverSide.onRequest = {
                // All in one turn of the loop: the client cannot read meanwhile.
                for _ in 0..<3000 {
                    serverChannel.write(line, lines: 1)
                    peak = max(peak, serverChannel.queuedBytes)
                }
                serverChannel.closeAfterFlush()
            }
            // Written before the handshake ends: queued as plaintext, sent once it is done.
            clientChannel.write(Array("hello\n".utf8))
            serverChannel.start()
            clientChannel.start()
        }
        wait(for: [clientClosed], timeout: 20)
        return loop.queue.sync {
            XCTAssertTrue(serverSide.secured && clientSide.secured)
            return PairRun(line: line, serverReceived: serverSide.received, clientReceived: clientSide.received,
                           clientEOF: clientSide.eof, dropped: dropped, peakQueued: peak)
        }
    }
}
