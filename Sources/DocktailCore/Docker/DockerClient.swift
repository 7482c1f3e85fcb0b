import Foundation
import Logging

/// A client for one Docker engine, written on docktail's own loops. Short calls reuse
/// keep-alive connections (one idle pool per loop); each followed stream gets a connection of
/// its own. Only GET requests are ever sent: docktail never changes anything on an engine.
public final class DockerClient: @unchecked Sendable {
    // Invariant: `idle` and `apiVersion`/`negotiated` are guarded by `lock`; connections are
    // confined to their loops.
    public let name: String
    public let endpoint: DockerEndpoint
    public let limits: EngineLimits
    let logger: Logger
    private let lock = NSLock()
    private var idle: [Int: [DockerHTTPConnection]] = [:]
    private var apiVersionValue: String?
    private var clockSkewValue: Int64 = 0
    /// How far the engine's clock is ahead of docktail's (from the `Date` of its answers, so to
    /// the second; at most a day either way). Log stamps are judged by the engine's clock.
    public var clockSkewNanoseconds: Int64 {
        lock.lock(); defer { lock.unlock() }
        return clockSkewValue
    }

    /// The engine's `now`, for judging its stamps.
    public var engineNow: @Sendable () -> Int64 {
        { [self] in MonotonicClock.wallNanoseconds() &+ clockSkewNanoseconds }
    }

    func noteDate(_ head: HTTPResponseParser.Head) {
        // An engine's `Date` is input too: a time beyond the Timestamp range is ignored, not converted.
        guard let text = head.headers["Date"], text.utf8.count < 64, let date = HTTPDate.parse(text) else { return }
        let seconds = date.timeIntervalSince1970
        guard seconds.isFinite, seconds >= 0, seconds < Double(Timestamp.upperBound / 1_000_000_000) else { return }
        let engine = Int64(seconds) * 1_000_000_000
        let skew = min(max(engine - MonotonicClock.wallNanoseconds(), -86_400_000_000_000), 86_400_000_000_000)
        // `Date` has whole seconds: only a skew of more than one is worth keeping.
        let kept = abs(skew) > 1_500_000_000 ? skew : 0
        lock.lock(); clockSkewValue = kept; lock.unlock()
    }

    /// Called for every request sent to the engine (metrics; set before use).
    public var onRequest: (@Sendable () -> Void)?
    /// Highest API version docktail speaks; the engine's own is used when lower.
    public static let maxAPIVersion = "1.45"
    /// Oldest API version docktail is tested with.
    public static let minAPIVersion = "1.41"

    /// TLS to the engine (nil: plain HTTP or a unix socket).
    public let tls: TLSContext?
    /// An API version fixed by configuration (`DOCKER_API_VERSION`): never negotiated.
    public let pinnedVersion: String?

    public init(name: String, endpoint: DockerEndpoint, tls: TLSContext? = nil, apiVersion: String? = nil,
                limits: EngineLimits, logger: Logger) {
        self.name = name
        self.endpoint = endpoint
        self.tls = tls
        self.pinnedVersion = apiVersion
        self.apiVersionValue = apiVersion
        self.limits = limits
        self.logger = logger
    }

    public var apiVersion: String? {
        lock.lock(); defer { lock.unlock() }
        return apiVersionValue
    }

    /// Forgets the negotiated version (the engine may have been replaced).
    public func resetVersion() {
        lock.lock(); apiVersionValue = pinnedVersion; lock.unlock()
    }

    // MARK: short calls

    /// `GET path` with a buffered body. `completion` runs on `loop`.
    public func get(_ path: String, on loop: EventLoop, completion: @escaping (Result<(Int, [UInt8]), DockerError>) -> Void) {
        loop.assertInLoop()
        let collector = BufferingResponse(limit: limits.maxBodyBytes, completion: completion)
        collector.onHead = { [weak self] head in self?.noteDate(head) }
        onRequest?()
        let send: (DockerHTTPConnection) -> Void = { [self] connection in
            collector.onEnd = { [self] in if connection.reusable { putIdle(connection) } }
            connection.get(path, keepAlive: true, handler: collector)
        }
        let connection: DockerHTTPConnection
        if let idle = takeIdle(loop) {
            connection = idle
            send(idle)
        } else {
            connection = DockerHTTPConnection(loop: loop, endpoint: endpoint, tls: tls, maxHeadBytes: limits.maxHeaderBytes)
            connection.connect(timeout: limits.connectTimeoutSeconds) { error in
                if let error { _ = collector.finish(error); return }
                send(connection)
            }
        }
        // One timeout for the whole call, on a fresh or a reused connection alike.
        loop.schedule(after: limits.requestTimeoutSeconds) {
            if collector.finish(.unreachable("engine request timed out")) { connection.close() }
        }
    }

    /// A versioned GET (`/vX.YZ/path`), negotiating the version first when needed.
    public func api(_ path: String, on loop: EventLoop, completion: @escaping (Result<(Int, [UInt8]), DockerError>) -> Void) {
        withVersion(on: loop) { [self] result in
            switch result {
            case .failure(let e): completion(.failure(e))
            case .success(let v): get("/v\(v)\(path)", on: loop, completion: completion)
            }
        }
    }

    /// Negotiates the API version (`GET /version`): the lower of the engine's and ours.
    public func withVersion(on loop: EventLoop, _ completion: @escaping (Result<String, DockerError>) -> Void) {
        if let v = apiVersion { completion(.success(v)); return }
        get("/version", on: loop) { [self] result in
            switch result {
            case .failure(let e): completion(.failure(e))
            case .success(let (status, body)):
                guard status == 200, let obj = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any],
                      let engineVersion = obj["ApiVersion"] as? String else {
                    completion(.failure(.badResponse("GET /version answered \(status)")))
                    return
                }
                let chosen = Self.compareVersions(engineVersion, Self.maxAPIVersion) < 0 ? engineVersion : Self.maxAPIVersion
                lock.lock(); apiVersionValue = chosen; lock.unlock()
                logger.info("engine connected", metadata: ["engine": "\(name)", "api": "\(chosen)", "engineApi": "\(engineVersion)"])
                completion(.success(chosen))
            }
        }
    }

    static func compareVersions(_ a: String, _ b: String) -> Int {
        let pa = a.split(separator: ".").compactMap { Int($0) }, pb = b.split(separator: ".").compactMap { Int($0) }
        for i in 0..<max(pa.count, pb.count) {
            let x = i < pa.count ? pa[i] : 0, y = i < pb.count ? pb[i] : 0
            if x != y { return x < y ? -1 : 1 }
        }
        return 0
    }

    /// Resolves a full id, a unique id prefix or a name (`GET /containers/{ref}/json`).
    public func inspect(_ ref: String, on loop: EventLoop, completion: @escaping (Result<ContainerInfo, DockerError>) -> Void) {
        // A reference is a name, an id or an id prefix: `[a-zA-Z0-9][a-zA-Z0-9_.-]*` as the
        // engine names containers, at most 255 bytes. Anything else (CR, LF, space, `/`, `.`,
        // `..`, `%`) can name no container, so it never reaches the engine's request line.
        guard Self.isValidReference(ref) else { completion(.failure(.notFound("no such container: \(ref)"))); return }
        api("/containers/\(ref)/json", on: loop) { result in
            switch result {
            case .failure(let e): completion(.failure(e))
            case .success(let (status, body)):
                // Any 4xx about a reference (unknown, or an id prefix shared by several containers,
                // some maybe hidden) is the same "no such container": a status must not reveal more.
                if (400..<500).contains(status) || Self.isAmbiguousReference(status: status, body: body) {
                    completion(.failure(.notFound("no such container: \(ref)")))
                    return
                }
                guard status == 200, let info = ContainerInfo.fromInspect(body) else {
                    completion(.failure(.engineStatus(status, Self.message(body))))
                    return
                }
                completion(.success(info))
            }
        }
    }

    /// An id prefix shared by several containers: engines answer it with a 500 whose message
    /// says so. It is "no such container" to a client (the others may be hidden from it).
    static func isAmbiguousReference(status: Int, body: [UInt8]) -> Bool {
        status == 500 && message(body).lowercased().contains("multiple")
    }

    public static func isValidReference(_ ref: String) -> Bool {
        let b = Array(ref.utf8)
        guard let first = b.first, b.count <= 255 else { return false }
        func alnum(_ c: UInt8) -> Bool { (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) }
        return alnum(first) && b.allSatisfy { alnum($0) || $0 == 0x5F || $0 == 0x2E || $0 == 0x2D }
    }

    public func listContainers(all: Bool, on loop: EventLoop, completion: @escaping (Result<[ContainerInfo], DockerError>) -> Void) {
        api("/containers/json?all=\(all ? 1 : 0)", on: loop) { result in
            switch result {
            case .failure(let e): completion(.failure(e))
            case .success(let (status, body)):
                guard status == 200, let arr = (try? JSONSerialization.jsonObject(with: Data(body))) as? [[String: Any]] else {
                    completion(.failure(.engineStatus(status, Self.message(body))))
                    return
                }
                completion(.success(arr.map(ContainerInfo.fromList)))
            }
        }
    }

    static func message(_ body: [UInt8]) -> String {
        if let obj = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any], let m = obj["message"] as? String { return m }
        return String(decoding: body.prefix(200), as: UTF8.self)
    }

    // MARK: streams

    /// Opens a dedicated connection for a streamed response (logs, events). The handler gets
    /// the head, the body pieces and the end; the returned connection can pause or close it.
    public func stream(_ path: String, on loop: EventLoop, handler: DockerResponseHandler) -> DockerHTTPConnection {
        onRequest?()
        let connection = DockerHTTPConnection(loop: loop, endpoint: endpoint, tls: tls, maxHeadBytes: limits.maxHeaderBytes)
        // The response head must come within the request timeout; the body then streams as
        // long as it takes (a followed log has no end).
        let handler = HeadDeadline(handler)
        loop.schedule(after: limits.requestTimeoutSeconds) {
            if handler.expire() { connection.close() }
        }
        withVersion(on: loop) { [self] result in
            switch result {
            case .failure(let e): handler.dockerResponseEnd(e)
            case .success(let v):
                connection.connect(timeout: limits.connectTimeoutSeconds) { error in
                    if let error { handler.dockerResponseEnd(error); return }
                    connection.get("/v\(v)\(path)", keepAlive: false, handler: handler)
                }
            }
        }
        return connection
    }

    private func takeIdle(_ loop: EventLoop) -> DockerHTTPConnection? {
        lock.lock(); defer { lock.unlock() }
        while var list = idle[loop.index], let c = list.popLast() {
            idle[loop.index] = list
            if c.reusable { return c }
        }
        return nil
    }

    private func putIdle(_ c: DockerHTTPConnection) {
        lock.lock(); defer { lock.unlock() }
        var list = idle[c.loop.index] ?? []
        if list.count < 4 { list.append(c) } else { c.close() }
        idle[c.loop.index] = list
    }
}

/// Collects a whole (bounded) response body.
final class BufferingResponse: DockerResponseHandler, @unchecked Sendable {
    // Invariant: used on one loop.
    private var status = 0
    private var body: [UInt8] = []
    private let limit: Int
    private var completion: ((Result<(Int, [UInt8]), DockerError>) -> Void)?
    var onEnd: (() -> Void)?
    var onHead: ((HTTPResponseParser.Head) -> Void)?

    init(limit: Int, completion: @escaping (Result<(Int, [UInt8]), DockerError>) -> Void) {
        self.limit = limit
        self.completion = completion
    }

    func dockerResponseHead(_ head: HTTPResponseParser.Head) {
        status = head.status
        onHead?(head)
    }

    func dockerResponseBody(_ bytes: UnsafeRawBufferPointer) {
        if body.count + bytes.count > limit { _ = finish(.badResponse("response body over \(limit) bytes")); return }
        body.append(contentsOf: bytes)
    }

    func dockerResponseEnd(_ error: DockerError?) {
        if let error { _ = finish(error); return }
        guard let c = completion else { return }
        completion = nil
        c(.success((status, body)))
        onEnd?()
        onEnd = nil
    }

    /// Fails the request if still pending; true when it was.
    func finish(_ error: DockerError) -> Bool {
        guard let c = completion else { return false }
        completion = nil
        onEnd = nil
        c(.failure(error))
        return true
    }
}

/// Forwards a streamed response, and ends it with an error if no head arrived in time.
final class HeadDeadline: DockerResponseHandler, @unchecked Sendable {
    // Invariant: used on one loop.
    private let inner: DockerResponseHandler
    private var sawHead = false
    private var ended = false

    init(_ inner: DockerResponseHandler) { self.inner = inner }

    /// The deadline passed: true (and the response ended with an error) when no head came.
    func expire() -> Bool {
        guard !sawHead, !ended else { return false }
        ended = true
        inner.dockerResponseEnd(.unreachable("engine did not answer in time"))
        return true
    }

    func dockerResponseHead(_ head: HTTPResponseParser.Head) {
        guard !ended else { return }
        sawHead = true
        inner.dockerResponseHead(head)
    }

    func dockerResponseBody(_ bytes: UnsafeRawBufferPointer) { if !ended { inner.dockerResponseBody(bytes) } }
    func dockerResponseReadComplete() { if !ended { inner.dockerResponseReadComplete() } }

    func dockerResponseEnd(_ error: DockerError?) {
        guard !ended else { return }
        ended = true
        inner.dockerResponseEnd(error)
    }
}
