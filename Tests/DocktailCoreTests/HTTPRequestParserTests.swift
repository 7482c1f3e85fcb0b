import XCTest
@testable import DocktailCore

final class HTTPRequestParserTests: XCTestCase {
    func parseAll(_ chunks: [[UInt8]], limits: HTTPLimits = HTTPLimits()) throws -> [HTTPRequest] {
        var p = HTTPRequestParser(limits: limits)
        var out: [HTTPRequest] = []
        for c in chunks {
            p.append(c)
            while let r = try p.next() { out.append(r) }
        }
        return out
    }

    func error(_ text: String, limits: HTTPLimits = HTTPLimits()) -> HTTPParserError? {
        do { _ = try parseAll([Array(text.utf8)], limits: limits); return nil } catch let e as HTTPParserError { return e } catch { return nil }
    }

    func testPipelinedRequestsSplitAtEveryOffset() throws {
        let text = "GET /a?x=1 HTTP/1.1\r\nHost: h\r\nX-Y:  v  \r\n\r\nPOST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello" +
            "PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nT: x\r\n\r\nGET /d HTTP/1.0\r\n\r\n"
        for chunks in splits(Array(text.utf8)) {
            let rs = try parseAll(chunks)
            XCTAssertEqual(rs.map(\.method), ["GET", "POST", "PUT", "GET"])
            XCTAssertEqual(rs.map(\.target), ["/a?x=1", "/b", "/c", "/d"])
            XCTAssertEqual(rs[0].headers["x-y"], "v")
            XCTAssertEqual(rs[0].query, ["x": "1"])
            XCTAssertEqual(rs[1].body, Array("hello".utf8))
            XCTAssertEqual(rs[2].body, Array("abcde".utf8))
            XCTAssertEqual(rs[3].versionMinor, 0)
            XCTAssertFalse(rs[3].keepAlive)
            XCTAssertTrue(rs[0].keepAlive)
        }
    }

    func testByteAtATime() throws {
        let text = Array("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8)
        XCTAssertEqual(try parseAll(pieces(text, size: 1)).count, 1)
    }

    func testLimits() {
        var limits = HTTPLimits()
        limits.maxRequestLineBytes = 64
        XCTAssertEqual(error("GET /" + String(repeating: "a", count: 100) + " HTTP/1.1\r\n\r\n", limits: limits), .requestLineTooLong)
        // Detected before the line ends.
        XCTAssertEqual(error("GET /" + String(repeating: "a", count: 100), limits: limits), .requestLineTooLong)
        limits = HTTPLimits()
        limits.maxHeaderBytes = 100
        XCTAssertEqual(error("GET / HTTP/1.1\r\nHost: a\r\nX: " + String(repeating: "b", count: 200), limits: limits), .headersTooLarge)
        limits = HTTPLimits()
        let many = (0..<101).map { "X-\($0): 1\r\n" }.joined()
        XCTAssertEqual(error("GET / HTTP/1.1\r\nHost: a\r\n" + many + "\r\n"), .headersTooLarge)
        XCTAssertEqual(error("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999\r\n\r\n"), .bodyTooLarge)
    }

    func testMalformed() {
        XCTAssertEqual(error("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"),
                       .badRequest("both Content-Length and Transfer-Encoding"))
        XCTAssertEqual(error("GET / HTTP/1.1\r\n\r\n"), .badRequest("a single Host header is required"))
        XCTAssertEqual(error("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), .badRequest("a single Host header is required"))
        XCTAssertEqual(error("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), .unsupportedVersion)
        XCTAssertEqual(error("GET / FOO\r\nHost: a\r\n\r\n"), .badRequest("invalid HTTP version"))
        XCTAssertEqual(error("GET  / HTTP/1.1\r\nHost: a\r\n\r\n"), .badRequest("malformed request line"))
        XCTAssertEqual(error("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n"), .badRequest("obsolete line folding"))
        XCTAssertEqual(error("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), .badRequest("invalid header field name"))
        XCTAssertEqual(error("G(T / HTTP/1.1\r\nHost: a\r\n\r\n"), .badRequest("invalid method"))
        XCTAssertEqual(error("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"), .unsupportedTransferEncoding)
        XCTAssertEqual(error("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n"), .badRequest("invalid Content-Length"))
        XCTAssertEqual(error("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"), .badRequest("conflicting Content-Length"))
        XCTAssertEqual(error("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"), .badRequest("invalid chunked body"))
    }

    func testUpgradeLeavesBytes() throws {
        var p = HTTPRequestParser()
        p.append(Array("GET /events HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n\u{81}\u{80}".utf8))
        let r = try p.next()
        XCTAssertTrue(r!.isWebSocketUpgrade)
        XCTAssertEqual(p.stop().count, 4) // two scalars of two UTF-8 bytes each
    }

    func testPathSegments() {
        XCTAssertEqual(Router.decodeSegments("/logs/my%20app"), ["logs", "my app"])
        XCTAssertNil(Router.decodeSegments("/a%00b"))
        XCTAssertNil(Router.decodeSegments("/a%2fb"))
        XCTAssertNil(Router.decodeSegments("/a%zz"))
        XCTAssertEqual(Router.decodeSegments("/%2e%2e/x"), ["..", "x"])
        let files = StaticFileServer(root: "/tmp")
        XCTAssertNil(files.resolve(segments: ["..", "etc", "passwd"]))
        XCTAssertNil(files.resolve(segments: [".hidden"]))
        XCTAssertEqual(files.resolve(segments: ["a", ".", "b.js"]), "/tmp/a/b.js")
    }

    func testRouter() {
        let r = Router()
        r.get("/logs/{ref}") { _ in }
        r.add("POST", "/x") { _ in }
        if case .found(_, let p) = r.match(method: "GET", segments: ["logs", "web"]) { XCTAssertEqual(p["ref"], "web") } else { XCTFail() }
        if case .found = r.match(method: "HEAD", segments: ["logs", "web"]) {} else { XCTFail() }
        if case .methodNotAllowed(let allow) = r.match(method: "DELETE", segments: ["logs", "web"]) { XCTAssertEqual(allow, ["GET", "HEAD"]) } else { XCTFail() }
        if case .notFound = r.match(method: "GET", segments: ["nope"]) {} else { XCTFail() }
    }

    func testResponseSerialisation() {
        let r = HTTPResponse.error(404, "no")
        let text = String(decoding: r.serialized(keepAlive: false), as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("HTTP/1.1 404 Not Found\r\n"))
        XCTAssertTrue(text.contains("Content-Length: 14\r\n"))
        XCTAssertTrue(text.contains("Connection: close\r\n"))
        XCTAssertTrue(text.hasSuffix("\r\n\r\n{\"error\":\"no\"}"))
        let head = String(decoding: r.serialized(keepAlive: true, head: true), as: UTF8.self)
        XCTAssertTrue(head.hasSuffix("\r\n\r\n"))
    }
}
