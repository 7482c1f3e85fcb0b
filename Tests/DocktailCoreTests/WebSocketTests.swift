import XCTest
@testable import DocktailCore

final class WebSocketTests: XCTestCase {
    func decodeMessages(_ chunks: [[UInt8]], maxMessage: Int = 65536) throws -> [WebSocketMessage] {
        let (messages, error) = WebSocketMessageDecoder.decodeAll(chunks, maxMessageBytes: maxMessage)
        if let error { throw error }
        return messages
    }

    func failure(_ bytes: [UInt8], maxMessage: Int = 65536) -> UInt16? {
        do { _ = try decodeMessages([bytes], maxMessage: maxMessage); return nil }
        catch let e as WebSocketProtocolError { return e.closeCode.0 }
        catch { return nil }
    }

    /// RFC 6455 §1.3.
    func testAcceptExample() {
        XCTAssertEqual(WebSocketHandshake.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    /// RFC 6455 §5.7: "A single-frame masked text message", split at every offset.
    func testMaskedHelloSplitEverywhere() throws {
        let wire: [UInt8] = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]
        for chunks in splits(wire) {
            XCTAssertEqual(try decodeMessages(chunks), [.text(Array("Hello".utf8))])
        }
    }

    /// §5.7 fragmented text ("Hel" + "lo") with a ping in between, masked as a client must.
    func testFragmentedWithInterleavedPing() throws {
        let wire = maskedFrame(opcode: 0x1, fin: false, payload: Array("Hel".utf8)) +
            maskedFrame(opcode: 0x9, payload: Array("Hello".utf8)) +
            maskedFrame(opcode: 0x0, fin: true, payload: Array("lo".utf8))
        for chunks in splits(wire) {
            XCTAssertEqual(try decodeMessages(chunks), [.ping(Array("Hello".utf8)), .text(Array("Hello".utf8))])
        }
    }

    /// §5.7 256-byte and 64 KiB binary messages (16- and 64-bit lengths), masked.
    func testExtendedLengths() throws {
        let p256 = (0..<256).map { UInt8($0 & 0xFF) }
        let wire = maskedFrame(opcode: 0x2, payload: p256)
        XCTAssertEqual(Array(wire[0..<4]), [0x82, 0xFE, 0x01, 0x00])
        for chunks in splits(wire) { XCTAssertEqual(try decodeMessages(chunks), [.binary(p256)]) }
        let p64k = [UInt8](repeating: 7, count: 65536)
        let big = maskedFrame(opcode: 0x2, payload: p64k)
        XCTAssertEqual(Array(big[0..<10]), [0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0])
        XCTAssertEqual(try decodeMessages(pieces(big, size: 1000), maxMessage: 70000), [.binary(p64k)])
    }

    /// §5.7 server frames, unmasked, byte for byte.
    func testEncoderFixtures() {
        XCTAssertEqual(WebSocketFrameEncoder.text("Hello"), [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f])
        XCTAssertEqual(WebSocketFrameEncoder.encode(opcode: .ping, payload: Array("Hello".utf8)), [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f])
        XCTAssertEqual(Array(WebSocketFrameEncoder.encode(opcode: .binary, payload: [UInt8](repeating: 0, count: 256))[0..<4]), [0x82, 0x7E, 0x01, 0x00])
        XCTAssertEqual(Array(WebSocketFrameEncoder.encode(opcode: .binary, payload: [UInt8](repeating: 0, count: 65536))[0..<10]), [0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0])
        XCTAssertEqual(WebSocketFrameEncoder.encode(opcode: .text, fin: false, payload: Array("Hel".utf8)), [0x01, 0x03, 0x48, 0x65, 0x6c])
        XCTAssertEqual(WebSocketFrameEncoder.close(code: 1000), [0x88, 0x02, 0x03, 0xE8])
        // A long reason is cut to fit 125 bytes without splitting a scalar.
        let closeFrame = WebSocketFrameEncoder.close(code: 1000, reason: String(repeating: "é", count: 100))
        XCTAssertLessThanOrEqual(Int(closeFrame[1]), 125)
        XCTAssertTrue(UTF8Validator.isValid(Array(closeFrame[4...])))
    }

    func testProtocolErrors() {
        // §5.1 unmasked client frame.
        XCTAssertEqual(failure([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]), 1002)
        // §5.2 RSV bits without extension.
        XCTAssertEqual(failure(maskedFrame(opcode: 0x1, payload: [], rsv: 0x40)), 1002)
        // Reserved opcodes.
        XCTAssertEqual(failure(maskedFrame(opcode: 0x3, payload: [])), 1002)
        XCTAssertEqual(failure(maskedFrame(opcode: 0xB, payload: [])), 1002)
        // §5.5 control frames: final and at most 125 bytes.
        XCTAssertEqual(failure(maskedFrame(opcode: 0x9, fin: false, payload: [])), 1002)
        XCTAssertEqual(failure(maskedFrame(opcode: 0x9, payload: [UInt8](repeating: 0, count: 126))), 1002)
        // §5.4 continuation order.
        XCTAssertEqual(failure(maskedFrame(opcode: 0x0, payload: [1])), 1002)
        XCTAssertEqual(failure(maskedFrame(opcode: 0x1, fin: false, payload: [0x41]) + maskedFrame(opcode: 0x1, payload: [0x41])), 1002)
        // Size limit, from the header alone (no payload bytes follow).
        XCTAssertEqual(failure([0x82, 0xFF, 0, 0, 0, 0, 0, 1, 0, 1]), 1009)
        XCTAssertEqual(failure(maskedFrame(opcode: 0x1, fin: false, payload: [UInt8](repeating: 0x41, count: 40)) + [0x80, 0xFE, 0x00, 0x80], maxMessage: 64), 1009)
        // §8.1 invalid UTF-8, detected in the first fragment already.
        XCTAssertEqual(failure(maskedFrame(opcode: 0x1, payload: [0xC3, 0x28])), 1007)
        XCTAssertEqual(failure(maskedFrame(opcode: 0x1, fin: false, payload: [0xED, 0xA0, 0x80])), 1007)
        // A text message ending inside a scalar.
        XCTAssertEqual(failure(maskedFrame(opcode: 0x1, payload: [0xE2, 0x82])), 1007)
        // Close payloads (§5.5.1, §7.4).
        XCTAssertEqual(failure(maskedFrame(opcode: 0x8, payload: [0x03])), 1002)
        for bad: UInt16 in [999, 1004, 1005, 1006, 1015, 1016, 2999, 5000] {
            XCTAssertEqual(failure(maskedFrame(opcode: 0x8, payload: [UInt8(bad >> 8), UInt8(bad & 0xFF)])), 1002, "code \(bad)")
        }
        XCTAssertEqual(failure(maskedFrame(opcode: 0x8, payload: [0x03, 0xE8, 0xFF])), 1007)
        // Non-minimal length encoding.
        XCTAssertEqual(failure([0x81, 0xFE, 0x00, 0x05, 1, 2, 3, 4]), 1002)
    }

    func testValidClose() throws {
        for code: UInt16 in [1000, 1001, 1003, 1007, 1011, 1012, 1014, 3000, 4999] {
            XCTAssertEqual(try decodeMessages([maskedFrame(opcode: 0x8, payload: [UInt8(code >> 8), UInt8(code & 0xFF)] + Array("ok".utf8))]),
                           [.close(code: code, reason: "ok")])
        }
        XCTAssertEqual(try decodeMessages([maskedFrame(opcode: 0x8, payload: [])]), [.close(code: nil, reason: "")])
    }

    func testUTF8ValidatorAcrossSplits() {
        let text = Array("aé€😀z".utf8)
        for chunks in splits(text) {
            var v = UTF8Validator()
            for c in chunks { XCTAssertTrue(v.feed(c)) }
            XCTAssertTrue(v.isAtBoundary)
        }
        for bad: [UInt8] in [[0xC0, 0x80], [0xE0, 0x80, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xFF], [0x80]] {
            XCTAssertFalse(UTF8Validator.isValid(bad), "\(bad)")
        }
        XCTAssertEqual(UTF8Validator.repaired([0x61, 0xFF, 0x62]), [0x61, 0xEF, 0xBF, 0xBD, 0x62])
    }

    func request(_ headers: [(String, String)]) -> HTTPRequest {
        var h = HTTPHeaders()
        for (n, v) in headers { h.add(n, v) }
        return HTTPRequest(method: "GET", target: "/events", headers: h)
    }

    func testHandshake() throws {
        let good: [(String, String)] = [("Host", "127.0.0.1:8080"), ("Upgrade", "WebSocket"), ("Connection", "keep-alive, Upgrade"),
                                        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13")]
        XCTAssertEqual(try WebSocketHandshake.validate(request(good), allowedOrigins: []), "dGhlIHNhbXBsZSBub25jZQ==")
        func fails(_ headers: [(String, String)], allowed: [String] = []) -> WebSocketHandshake.Failure? {
            do { _ = try WebSocketHandshake.validate(request(headers), allowedOrigins: allowed); return nil } catch { return error }
        }
        XCTAssertEqual(fails(good.filter { $0.0 != "Sec-WebSocket-Version" }), .unsupportedVersion)
        XCTAssertEqual(fails(good.map { $0.0 == "Sec-WebSocket-Version" ? ($0.0, "8") : $0 }), .unsupportedVersion)
        XCTAssertEqual(fails(good.map { $0.0 == "Sec-WebSocket-Key" ? ($0.0, "c2hvcnQ=") : $0 }), .badRequest("Sec-WebSocket-Key must be 16 bytes in base64"))
        XCTAssertEqual(fails(good.filter { $0.0 != "Connection" }), .badRequest("Connection must contain Upgrade"))
        XCTAssertEqual(fails(good + [("Origin", "http://evil.example")]), .forbiddenOrigin)
        XCTAssertNil(fails(good + [("Origin", "http://127.0.0.1:8080")]))
        XCTAssertNil(fails(good + [("Origin", "https://lab.example")], allowed: ["https://lab.example"]))
        XCTAssertEqual(HTTPErrorMapping.response(for: WebSocketHandshake.Failure.unsupportedVersion).status, 426)
        XCTAssertEqual(HTTPErrorMapping.response(for: WebSocketHandshake.Failure.unsupportedVersion).headers["Sec-WebSocket-Version"], "13")
        XCTAssertEqual(HTTPErrorMapping.response(for: WebSocketHandshake.Failure.forbiddenOrigin).status, 403)
    }
}
