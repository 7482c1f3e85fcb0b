import Foundation
import Logging

/// All hubs, one per watched container per engine.
final class LogHubRegistry: @unchecked Sendable {
    // Invariant: `hubs` is guarded by `lock`.
    private let lock = NSLock()
    private var hubs: [String: LogHub] = [:]
    private let group: EventLoopGroup
    private let limits: StreamingLimits
    private let metrics: any StreamingMetrics
    private let logger: Logger

    init(group: EventLoopGroup, limits: StreamingLimits, metrics: any StreamingMetrics, logger: Logger) {
        self.group = group
        self.limits = limits
        self.metrics = metrics
        self.logger = logger
    }

    /// The container's hub, created on `preferredLoop` (the first subscriber's) when new: a
    /// hub and subscribers on one loop hand lines over without waking another thread.
    func hub(for info: ContainerInfo, client: DockerClient, preferredLoop: EventLoop? = nil) -> LogHub {
        let key = client.name + "/" + info.id
        lock.lock(); defer { lock.unlock() }
        if let h = hubs[key] { return h }
        let h = LogHub(info: info, key: key, loop: preferredLoop ?? group.next(), client: client, registry: self,
                       limits: limits, metrics: metrics, logger: logger)
        hubs[key] = h
        return h
    }

    func remove(_ hub: LogHub) {
        lock.lock(); defer { lock.unlock() }
        if hubs[hub.key] === hub { hubs.removeValue(forKey: hub.key) }
    }

    /// Hubs of one engine (and, if given, one container).
    func hubs(host: String, id: String? = nil) -> [LogHub] {
        lock.lock(); defer { lock.unlock() }
        if let id { return hubs[host + "/" + id].map { [$0] } ?? [] }
        return hubs.values.filter { $0.client.name == host }
    }

    func containerEvent(host: String, id: String, action: String, exitCode: Int?, time: Int64) {
        for h in hubs(host: host, id: id) { h.loop.execute { h.handleEvent(action: action, exitCode: exitCode, time: time) } }
    }

    func engineBack(host: String) {
        for h in hubs(host: host) { h.loop.execute { h.engineBack() } }
    }
}
