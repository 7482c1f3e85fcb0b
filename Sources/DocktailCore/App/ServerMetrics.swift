import Synchronization

/// Counters exported at `/metrics` (Prometheus text format 0.0.4). Lock-free: they are bumped
/// from every loop.
public final class ServerMetrics: HTTPServerMetrics, WebSocketMetrics, EngineMetrics, StreamingMetrics, Sendable {
    let connections = Atomic<Int>(0)
    let connectionsTotal = Atomic<Int>(0)
    let webSockets = Atomic<Int>(0)
    let subscribers = Atomic<Int>(0)
    let upstreams = Atomic<Int>(0)
    let upstreamsOpened = Atomic<Int>(0)
    let linesIn = Atomic<Int>(0)
    let framesOut = Atomic<Int>(0)
    let bytesOut = Atomic<Int>(0)
    let linesDropped = Atomic<Int>(0)
    let engineRequests = Atomic<Int>(0)
    let engineErrors = Atomic<Int>(0)
    let httpRequests = Atomic<Int>(0)
    let rejectedConnections = Atomic<Int>(0)

    public init() {}

    public func connectionOpened() { connections.add(1, ordering: .relaxed); connectionsTotal.add(1, ordering: .relaxed) }
    public func connectionClosed() { connections.subtract(1, ordering: .relaxed) }
    public func webSocketOpened() { webSockets.add(1, ordering: .relaxed) }
    public func webSocketClosed() { webSockets.subtract(1, ordering: .relaxed) }
    public func subscriberAdded() { subscribers.add(1, ordering: .relaxed) }
    public func subscriberRemoved() { subscribers.subtract(1, ordering: .relaxed) }
    public func upstreamOpened() { upstreams.add(1, ordering: .relaxed); upstreamsOpened.add(1, ordering: .relaxed) }
    public func upstreamClosed() { upstreams.subtract(1, ordering: .relaxed) }
    public func lines(in n: Int) { linesIn.add(n, ordering: .relaxed) }
    public func framesOut(_ n: Int, bytes: Int) { framesOut.add(n, ordering: .relaxed); bytesOut.add(bytes, ordering: .relaxed) }
    public func dropped(_ n: Int) { linesDropped.add(n, ordering: .relaxed) }
    public func engineError() { engineErrors.add(1, ordering: .relaxed) }
    public func engineRequest() { engineRequests.add(1, ordering: .relaxed) }
    public func request() { httpRequests.add(1, ordering: .relaxed) }
    public func rejected() { rejectedConnections.add(1, ordering: .relaxed) }

    public var currentUpstreams: Int { upstreams.load(ordering: .relaxed) }
    public var totalUpstreamsOpened: Int { upstreamsOpened.load(ordering: .relaxed) }

    public func prometheusText() -> String {
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ value: Int) {
            out += "# HELP docktail_\(name) \(help)\n# TYPE docktail_\(name) \(type)\ndocktail_\(name) \(value)\n"
        }
        metric("connections", "gauge", "Open client connections (HTTP and WebSocket).", connections.load(ordering: .relaxed))
        metric("connections_total", "counter", "Client connections accepted.", connectionsTotal.load(ordering: .relaxed))
        metric("connections_rejected_total", "counter", "Connections refused by connection limits.", rejectedConnections.load(ordering: .relaxed))
        metric("websockets", "gauge", "Open WebSocket connections.", webSockets.load(ordering: .relaxed))
        metric("subscribers", "gauge", "WebSocket clients subscribed to a container log stream.", subscribers.load(ordering: .relaxed))
        metric("upstream_streams", "gauge", "Followed log streams open towards engines.", upstreams.load(ordering: .relaxed))
        metric("engine_requests_total", "counter", "Requests sent to engines (calls and streams).", engineRequests.load(ordering: .relaxed))
        metric("upstream_streams_opened_total", "counter", "Followed log streams opened towards engines.", upstreamsOpened.load(ordering: .relaxed))
        metric("lines_in_total", "counter", "Log lines decoded from engines.", linesIn.load(ordering: .relaxed))
        metric("frames_out_total", "counter", "WebSocket messages queued to clients.", framesOut.load(ordering: .relaxed))
        metric("bytes_out_total", "counter", "WebSocket bytes queued to clients.", bytesOut.load(ordering: .relaxed))
        metric("lines_dropped_total", "counter", "Log lines dropped for slow clients.", linesDropped.load(ordering: .relaxed))
        metric("engine_errors_total", "counter", "Failed engine calls and lost engine streams.", engineErrors.load(ordering: .relaxed))
        metric("http_requests_total", "counter", "HTTP requests parsed.", httpRequests.load(ordering: .relaxed))
        return out
    }
}
