import Foundation
import Logging

/// Follows one engine's `/events` stream: it drives container lifecycles in the hubs, feeds
/// `/events` subscribers, and tells whether the engine is reachable. When the stream breaks it
/// reconnects with backoff; docktail keeps serving meanwhile.
final class EngineMonitor: DockerResponseHandler, @unchecked Sendable {
    // Invariant: confined to `loop.queue`, except `isUp`, read under `lock`.
    let client: DockerClient
    let loop: EventLoop
    private let logger: Logger
    private let metrics: any EngineMetrics
    var onEvent: ((EngineEvent) -> Void)?
    var onBack: (() -> Void)?
    private var connection: DockerHTTPConnection?
    private var status = 0
    private var buffer: [UInt8] = []
    private var delay = 0.5
    private var wasDown = false
    private let lock = NSLock()
    private var up = false
    private var stopped = false
    /// Time of the last event seen: a reconnect asks for what came after it (`since`), so a
    /// restart during an outage is not missed.
    private var lastEventTime: Int64?

    struct EngineEvent: Sendable {
        let action: String
        let id: String
        let name: String
        let time: Int64
        let exitCode: Int?
        let image: String
        let labels: [String: String]
    }

    init(client: DockerClient, loop: EventLoop, logger: Logger, metrics: any EngineMetrics) {
        self.client = client
        self.loop = loop
        self.logger = logger
        self.metrics = metrics
    }

    var isUp: Bool { lock.lock(); defer { lock.unlock() }; return up }
    /// Why the engine is unreachable (nil while it is up): shown in `/api/hosts`.
    var lastError: String? { lock.lock(); defer { lock.unlock() }; return lastErrorValue }
    private var lastErrorValue: String?

    private func setUp(_ v: Bool, error: String? = nil) { lock.lock(); up = v; lastErrorValue = v ? nil : error; lock.unlock() }

    func start() {
        loop.execute { [self] in connect() }
    }

    private func connect() {
        guard !stopped else { return }
        status = 0
        buffer = []
        let filters = #"{"type":["container"]}"#.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        client.resetVersion()
        var path = "/events?filters=\(filters)"
        if let last = lastEventTime { path += "&since=\(DockerTimestamp.engineParameter(last &+ 1))" }
        connection = client.stream(path, on: loop, handler: self)
    }

    func dockerResponseHead(_ head: HTTPResponseParser.Head) {
        status = head.status
        guard status == 200 else { return }
        delay = 0.5
        setUp(true)
        logger.info("engine events connected", metadata: ["engine": "\(client.name)"])
        if wasDown { wasDown = false; onBack?() }
    }

    func dockerResponseBody(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
        while let nl = buffer.firstIndex(of: 0x0A) {
            let line = Array(buffer[..<nl])
            buffer.removeSubrange(...nl)
            if let e = Self.parse(line) {
                lastEventTime = max(lastEventTime ?? e.time, e.time)
                onEvent?(e)
            }
        }
        if buffer.count > 1024 * 1024 { buffer = [] }
    }

    static func parse(_ line: [UInt8]) -> EngineEvent? {
        guard let obj = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any],
              (obj["Type"] as? String) == "container",
              let action = obj["Action"] as? String,
              let actor = obj["Actor"] as? [String: Any], let id = actor["ID"] as? String else { return nil }
        let attrs = actor["Attributes"] as? [String: String] ?? [:]
        var labels = attrs
        for k in ["name", "image", "exitCode", "signal"] { labels.removeValue(forKey: k) }
        // The engine's clock, brought into range: an event time can never make arithmetic trap.
        let raw: Int64
        if let n = (obj["timeNano"] as? NSNumber)?.int64Value {
            raw = n
        } else {
            let (v, o) = ((obj["time"] as? NSNumber)?.int64Value ?? 0).multipliedReportingOverflow(by: 1_000_000_000)
            raw = o ? Int64.max : v
        }
        let nanos = Timestamp(clamping: raw).nanoseconds
        return EngineEvent(action: action, id: id, name: attrs["name"] ?? "", time: nanos,
                           exitCode: attrs["exitCode"].flatMap { Int($0) }, image: attrs["image"] ?? "", labels: labels)
    }

    func dockerResponseEnd(_ error: DockerError?) {
        connection = nil
        let message = error.map { "\($0)" } ?? (status == 200 ? "events stream ended" : "events stream answered \(status)")
        // Once per outage, and again when the reason changes (a fixed CA, a new failure).
        if isUp || !wasDown || message != lastError {
            logger.warning("engine \(client.name): \(message)", metadata: ["engine": "\(client.name)", "url": "\(client.endpoint.url)"])
        }
        metrics.engineError()
        setUp(false, error: message)
        wasDown = true
        guard !stopped else { return }
        let d = delay
        delay = min(delay * 2, 10)
        loop.schedule(after: d) { [self] in connect() }
    }

    func stop() {
        loop.execute { [self] in stopped = true; connection?.close() }
    }
}
