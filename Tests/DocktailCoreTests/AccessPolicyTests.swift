import XCTest
@testable import DocktailCore

/// The gate decides on the route the router resolves: every spelling of a path gets the
/// decision of its canonical form, and Host decides before anything (DNS rebinding).
final class AccessPolicyTests: XCTestCase {
    static let token = "s3cret-token-123"

    func router() -> Router {
        let r = Router()
        for route in AccessPolicy.allRoutes { r.get(route) { _ in } }
        r.fallback = { _ in }
        return r
    }

    let policy = AccessPolicy(access: AccessControl(tokens: [token], labels: [:], namePatterns: []),
                              hosts: HostAllowlist(names: ["logs.example.com", "*.lab.example"]))

    func decide(_ target: String, host: String? = "127.0.0.1:8080", headers: [(String, String)] = []) -> Int? {
        var h = HTTPHeaders()
        if let host { h.add("Host", host) }
        for (k, v) in headers { h.add(k, v) }
        let request = HTTPRequest(method: "GET", target: target, headers: h)
        guard let resolution = router().resolve(method: "GET", rawPath: request.rawPath) else { return 400 }
        return policy.decide(request, resolution: resolution)?.status
    }

    func testEverySpellingOfAProtectedPathNeedsTheToken() {
        // A container whose name ends like an asset is still a container.
        for path in ["/logs/secret.js", "//logs/secret.js", "/%6Cogs/secret.js", "/logs//secret.js", "/logs/secret.js/",
                     "/%6c%6f%67%73/secret.js", "//api/containers/x.css", "/%61pi/containers/x.css", "/api//containers/x.css",
                     "/api/containers/x.css/", "/metrics", "/api/containers", "/", "/index.html", "/viewer.html", "/nope.js",
                     "/js/../logs/x.js", "/./logs/x.js", "/logs/./x.js", "/LOGS/x.js"] {
            XCTAssertEqual(decide(path), 401, path)
            XCTAssertNil(decide(path + "?token=\(Self.token)"), path)
        }
    }

    func testDotSegmentsAndOddSpellingsReachNothing() {
        let r = router()
        for path in ["/js/../logs/x", "/./logs/x", "/logs/./x", "/logs/..", "/%2e%2e/logs/x"] {
            let resolution = r.resolve(method: "GET", rawPath: Substring(path))!
            XCTAssertFalse(resolution.isFound, path)
            XCTAssertFalse(resolution.acceptsWebSocket, path)
        }
        XCTAssertNil(r.resolve(method: "GET", rawPath: "logs/x"), "not origin-form")
        XCTAssertNil(r.resolve(method: "GET", rawPath: "/logs/a%2Fb"))
        // Case matters: /LOGS is no route.
        XCTAssertFalse(r.resolve(method: "GET", rawPath: "/LOGS/x")!.isFound)
        // Spellings of one route resolve to it with the same parameters.
        for path in ["/logs/web", "//logs/web", "/%6Cogs/web", "/logs/web/", "/logs/%77eb"] {
            let resolution = r.resolve(method: "GET", rawPath: Substring(path))!
            guard case .found(_, let params) = resolution.match else { return XCTFail(path) }
            XCTAssertEqual(params, ["ref": "web"], path)
            XCTAssertTrue(resolution.acceptsWebSocket)
        }
    }

    func testPublicAssetsByRouteAndHealthzOpen() {
        for path in ["/docktail-log.js", "/js/ansi.js", "/css/app.css", "/favicon.svg", "//js/ansi.js", "/%6As/ansi.js"] {
            XCTAssertNil(decide(path), path)
            XCTAssertEqual(decide(path, host: "evil.example"), 421, path)
        }
        XCTAssertNil(decide("/healthz", host: "evil.example"))
        XCTAssertNil(decide("/healthz", host: nil))
    }

    func testHostAllowlist() {
        for host in ["127.0.0.1:8080", "127.0.0.1", "localhost:8080", "LOCALHOST", "[::1]:8080", "[::1]", "10.1.2.3:80",
                     "logs.example.com", "LOGS.example.com:443", "a.lab.example", "b.a.lab.example:1", "localhost."] {
            XCTAssertEqual(decide("/api/hosts?token=\(Self.token)", host: host), nil, host)
        }
        for host in ["evil.example", "evil.example:8080", "127.0.0.1.evil.example", "lab.example", "logs.example.com.evil",
                     "", "[::1", "::1:8080", "host:99999", "host:1:2", "localhost:8080:1", "a b"] {
            let status = decide("/api/hosts?token=\(Self.token)", host: host)
            XCTAssertTrue(status == 421 || status == 400, "\(host): \(String(describing: status))")
        }
        XCTAssertEqual(decide("/api/hosts?token=\(Self.token)", host: nil), 400)
        XCTAssertTrue(HostAllowlist(names: ["Logs.Example.com."]).allowsHostName("logs.example.com"), "a configured root dot is the same name")
    }

    func testOriginsAreCheckedAgainstAllowedHostsAndTheHost() {
        let hosts = HostAllowlist(names: ["logs.example.com"])
        func ok(_ origin: String, _ host: String, allowed: [String] = []) -> Bool {
            WebSocketHandshake.isOriginAllowed(origin, host: host, allowed: allowed, allowedHosts: hosts)
        }
        XCTAssertTrue(ok("http://127.0.0.1:8080", "127.0.0.1:8080"))
        XCTAssertTrue(ok("https://logs.example.com", "logs.example.com"))
        XCTAssertTrue(ok("https://logs.example.com", "logs.example.com:443"))
        XCTAssertFalse(ok("http://127.0.0.1:3000", "127.0.0.1:8080"), "another local port is another origin")
        // A rebinding page: Origin and Host agree, but the name is not allowed.
        XCTAssertFalse(ok("http://evil.example:8080", "evil.example:8080"))
        XCTAssertFalse(ok("null", "127.0.0.1:8080"))
        XCTAssertFalse(ok("file://", "127.0.0.1:8080"))
        XCTAssertTrue(ok("https://dash.example.org", "127.0.0.1:8080", allowed: ["https://dash.example.org"]))
    }

    func testDuplicateHandshakeHeadersAreRefused() {
        func request(_ extra: [(String, String)]) -> HTTPRequest {
            var h = HTTPHeaders()
            for (k, v) in [("Host", "127.0.0.1:8080"), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
                           ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13")] + extra { h.add(k, v) }
            return HTTPRequest(method: "GET", target: "/events", headers: h)
        }
        XCTAssertThrowsError(try WebSocketHandshake.validate(request([("Origin", "http://127.0.0.1:8080"), ("Origin", "http://evil.example")]), allowedOrigins: []))
        XCTAssertThrowsError(try WebSocketHandshake.validate(request([("Sec-WebSocket-Version", "8")]), allowedOrigins: []))
        XCTAssertNoThrow(try WebSocketHandshake.validate(request([("Origin", "http://127.0.0.1:8080")]), allowedOrigins: []))
    }

    func testHTTPDetails() throws {
        var p = HTTPRequestParser()
        p.append(Array("GET / HTTP/1.9\r\nHost: a\r\n\r\n".utf8))
        XCTAssertThrowsError(try p.next()) { XCTAssertEqual($0 as? HTTPParserError, .unsupportedVersion) }
        p = HTTPRequestParser()
        p.append(Array("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".utf8))
        XCTAssertThrowsError(try p.next())
        p = HTTPRequestParser()
        p.append(Array("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n".utf8))
        XCTAssertNil(try p.next())
        XCTAssertTrue(p.takeContinueRequest())
        XCTAssertFalse(p.takeContinueRequest(), "once")
        p.append(Array("abc".utf8))
        XCTAssertEqual(try p.next()?.body, Array("abc".utf8))
        p = HTTPRequestParser()
        p.append(Array("POST / HTTP/1.1\r\nHost: a\r\nExpect: magic\r\nContent-Length: 3\r\n\r\nabc".utf8))
        XCTAssertThrowsError(try p.next()) { XCTAssertEqual($0 as? HTTPParserError, .expectationFailed) }
        p = HTTPRequestParser()
        p.append(Array("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n".utf8))
        XCTAssertThrowsError(try p.next())
    }

    func testChunkExtensionLimitHoldsAcrossReads() {
        var d = ChunkedDecoder(maxLineBytes: 1000)
        var failed = false
        _ = try? d.decode(UnsafeRawBufferPointer(start: nil, count: 0)) { _ in }
        let head = Array("5;".utf8)
        head.withUnsafeBytes { _ = try! d.decode($0) { _ in } }
        for _ in 0..<50 {
            let piece = [UInt8](repeating: UInt8(ascii: "x"), count: 100)
            do { _ = try piece.withUnsafeBytes { try d.decode($0) { _ in } } } catch { failed = true; break }
        }
        XCTAssertTrue(failed, "a 5000-byte extension in 100-byte pieces must fail")
    }

    func testContainerReferences() {
        for ok in ["web", "a1b2c3", "my_app.1", "x-y", String(repeating: "a", count: 255)] { XCTAssertTrue(DockerClient.isValidReference(ok), ok) }
        for bad in ["", ".", "..", "-x", "a b", "a\r\nb", "a/b", "a%20", "a?b", "é", String(repeating: "a", count: 256), "_x"] {
            XCTAssertFalse(DockerClient.isValidReference(bad), bad)
        }
    }

    func testPartialPreviewsAreJSONOnlyAndShowTheLastCarriageReturnState() {
        var a = LogLineAssembler()
        let ts = Array("T".utf8)
        ts.withUnsafeBytes { t in Array("10%\r20%\r30%".utf8).withUnsafeBytes { a.add(stream: .stdout, timestamp: 1, timestampText: t, content: $0) { _ in XCTFail() } } }
        let previews = a.partialLines()
        XCTAssertEqual(previews.map(\.textString), ["30%"])
        XCTAssertTrue(previews[0].partial)
        var out: [UInt8] = []
        XCTAssertEqual(LogFrameEncoder.append(previews, key: DeliveryKey(encoding: .json, streams: 3), to: &out), 1)
        XCTAssertEqual(String(decoding: out[2...], as: UTF8.self), #"{"ts":"T","stream":"stdout","line":"30%","partial":true}"#)
        XCTAssertEqual(LogFrameEncoder.append(previews, key: DeliveryKey(encoding: .text, streams: 3), to: &out), 0)
        ts.withUnsafeBytes { t in Array("\r".utf8).withUnsafeBytes { a.add(stream: .stdout, timestamp: 1, timestampText: t, content: $0) { _ in } } }
        XCTAssertEqual(a.partialLines().map(\.textString), ["30%"])
    }
}
