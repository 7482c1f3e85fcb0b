import XCTest
@testable import DocktailCore

final class ChunkedDecoderTests: XCTestCase {
    func decode(_ chunks: [[UInt8]]) throws -> ([UInt8], Bool, Int) {
        var d = ChunkedDecoder()
        var body: [UInt8] = []
        var consumedTotal = 0
        for c in chunks {
            let used = try c.withUnsafeBytes { try d.decode($0) { body.append(contentsOf: $0) } }
            consumedTotal += used
            if d.isDone { break }
        }
        return (body, d.isDone, consumedTotal)
    }

    func testRFC9112ExampleSplitEverywhere() throws {
        let wire = Array("4\r\nWiki\r\n6;name=v\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\nExpires: x\r\n\r\nNEXT".utf8)
        for chunks in splits(wire) {
            let (body, done, used) = try decode(chunks)
            XCTAssertEqual(String(decoding: body, as: UTF8.self), "Wikipedia in \r\n\r\nchunks.")
            XCTAssertTrue(done)
            XCTAssertEqual(used, wire.count - 4) // stops before the next message
        }
    }

    func testErrors() {
        XCTAssertThrowsError(try decode([Array("x\r\n".utf8)]))
        XCTAssertThrowsError(try decode([Array("11111111111111111\r\n".utf8)]))
        XCTAssertThrowsError(try decode([Array("1\r\nab".utf8)]))
    }

    func testRecordedEngineResponse() throws {
        let raw = fixture("engine-logs-multiplexed.http")
        let (_, whole) = try responseBody(raw)
        XCTAssertGreaterThan(whole.count, 40000)
        for size in [1, 7, 100, 4096] {
            var parser = HTTPResponseParser()
            var body: [UInt8] = []
            var status = 0
            for p in pieces(raw, size: size) {
                try p.withUnsafeBytes { _ = try parser.parse($0, head: { status = $0.status }, body: { body.append(contentsOf: $0) }) }
            }
            XCTAssertEqual(status, 200)
            XCTAssertTrue(parser.isDone)
            XCTAssertEqual(body, whole)
        }
    }
}
