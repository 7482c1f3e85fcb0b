// The one libFuzzer binary: every target is linked in and DOCKTAIL_FUZZ_TARGET picks the one
// to run (scripts/fuzz builds once, then runs each target in turn).
//
//     DOCKTAIL_FUZZ_TARGET=chunked-decoder .build-fuzz/docktail-fuzz corpus/

#if canImport(Glibc)
import Glibc
#endif

enum FuzzTarget: String, CaseIterable {
    case httpRequestParser = "http-request-parser"
    case websocketFrameDecoder = "websocket-frame-decoder"
    case logQuery = "log-query"
    case timestamps = "timestamps"
    case chunkedDecoder = "chunked-decoder"
    case httpResponseParser = "http-response-parser"
    case logStreamDecoderMux = "log-stream-decoder-mux"
    case logStreamDecoderTTY = "log-stream-decoder-tty"
    case routerGate = "router-gate"
    case tlsSession = "tls-session"
    case grepPattern = "grep-pattern"

    func run(_ bytes: [UInt8]) {
        switch self {
        case .httpRequestParser: fuzzHTTPRequestParser(bytes)
        case .websocketFrameDecoder: fuzzWebSocketFrameDecoder(bytes)
        case .logQuery: fuzzLogQuery(bytes)
        case .timestamps: fuzzTimestamps(bytes)
        case .chunkedDecoder: fuzzChunkedDecoder(bytes)
        case .httpResponseParser: fuzzHTTPResponseParser(bytes)
        case .logStreamDecoderMux: fuzzLogStreamDecoder(bytes, tty: false)
        case .logStreamDecoderTTY: fuzzLogStreamDecoder(bytes, tty: true)
        case .routerGate: fuzzRouterGate(bytes)
        case .tlsSession: fuzzTLSSession(bytes)
        case .grepPattern: fuzzGrepPattern(bytes)
        }
    }
}

nonisolated(unsafe) private var selectedTarget: FuzzTarget?

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> Int32 {
    let name = getenv("DOCKTAIL_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    if name == "list" {
        for t in FuzzTarget.allCases { print(t.rawValue) }
        exit(0)
    }
    guard let target = FuzzTarget(rawValue: name) else {
        print("docktail-fuzz: set DOCKTAIL_FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: " ")) (got '\(name)')")
        exit(2)
    }
    selectedTarget = target
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    selectedTarget!.run(bytes)
    return 0
}
