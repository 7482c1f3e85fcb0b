import Foundation
import Logging

/// docktail: the routes, the engines and the streaming layer wired together.
public final class DocktailServer: @unchecked Sendable {
    // Invariant: everything here is set up in `init`/`start` and read-only afterwards; mutable
    // parts live in their own confined or locked types.
    public let configuration: Configuration
    public let group: EventLoopGroup
    public let metrics = ServerMetrics()
    public let logger: Logger
    public let clients: [DockerClient]
    let monitors: [EngineMonitor]
    let registry: LogHubRegistry
    let broadcaster = EventBroadcaster()
    let groupDirectory = LogGroupDirectory()
    let access: AccessControl
    let allowedHosts: HostAllowlist
    let files: StaticFileServer
    public private(set) var server: HTTPServer!
    public private(set) var boundAddresses: [SocketAddress] = []
    /// Whether each bound address serves TLS.
    public private(set) var boundTLS: [Bool] = []

    /// docktail's certificate for TLS listeners (reloaded by `reloadTLS`).
    public let serverTLS: TLSServerIdentity?

    /// `tls`: the contexts `configuration.makeTLSMaterial()` made (checked before start-up).
    public init(configuration: Configuration, tls: Configuration.TLSMaterial = Configuration.TLSMaterial(), logger: Logger) {
        self.configuration = configuration
        self.serverTLS = tls.server
        self.logger = logger
        let loops = configuration.loops > 0 ? configuration.loops : ProcessInfo.processInfo.activeProcessorCount
        self.group = EventLoopGroup(count: loops)
        let limits = configuration.limits
        let metrics = self.metrics
        self.clients = configuration.engines.map {
            let client = DockerClient(name: $0.name, endpoint: DockerEndpoint(url: $0.url)!, tls: tls.engines[$0.name],
                                      apiVersion: $0.apiVersion, limits: limits.engine, logger: logger)
            client.onRequest = { metrics.engineRequest() }
            return client
        }
        self.registry = LogHubRegistry(group: group, limits: configuration.limits.streaming, metrics: metrics, logger: logger)
        self.access = AccessControl(tokens: configuration.tokens, labels: configuration.visibilityLabels, namePatterns: configuration.visibilityNames)
        self.files = StaticFileServer(root: configuration.publicDir)
        // The hosts of the listen addresses are names docktail answers to as well.
        let listenHosts = configuration.listen.compactMap { Configuration.ListenSpec.parse($0).flatMap { HostAllowlist.hostPart($0.hostPort)?.host } }
        self.allowedHosts = HostAllowlist(names: configuration.allowedHosts + listenHosts)
        let firstLoop = group.loops[0]
        self.monitors = clients.map { EngineMonitor(client: $0, loop: firstLoop, logger: logger, metrics: metrics) }
        var html = HTTPHeaders()
        let frameAncestors = (["'self'"] + configuration.allowedOrigins.filter { $0 != "*" }).joined(separator: " ")
        // `connect-src 'self'` covers the page's own ws:/wss: origin (CSP Level 3 §6.7.2.9);
        // no other host can be reached from docktail's pages.
        html.add("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
                 "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors \(configuration.allowedOrigins.contains("*") ? "*" : frameAncestors)")
        html.add("Referrer-Policy", "no-referrer")
        files.htmlHeaders = html
    }

    /// Binds the listeners and starts following the engines' events. Engines that are down do
    /// not stop start-up; they are retried in the background.
    @discardableResult
    public func start() throws -> [SocketAddress] {
        let router = makeRouter()
        let server = HTTPServer(group: group, router: router, limits: configuration.limits.http,
                                webSocketLimits: configuration.limits.webSocket, metrics: metrics, webSocketMetrics: metrics,
                                allowedOrigins: configuration.allowedOrigins, allowedHosts: allowedHosts, logger: logger)
        let policy = AccessPolicy(access: access, hosts: allowedHosts)
        server.gate = { request, resolution, _ in policy.decide(request, resolution: resolution) }
        server.decorate = { [unowned self] request, response in decorate(&response, for: request) }
        self.server = server
        let listeners = configuration.listen.compactMap(Configuration.ListenSpec.parse).map { spec in
            HTTPServer.Listener(address: spec.address, tls: spec.isTLS(serverTLS: configuration.tls) ? serverTLS : nil)
        }
        boundAddresses = try server.start(listeners: listeners)
        boundTLS = listeners.map { $0.tls != nil }
        for monitor in monitors {
            let host = monitor.client.name
            monitor.onEvent = { [weak self] e in self?.engineEvent(host: host, e) }
            monitor.onBack = { [weak self] in self?.registry.engineBack(host: host) }
            monitor.start()
        }
        return boundAddresses
    }

    /// Reads docktail's certificate and key again (SIGHUP): new connections get them, open
    /// ones keep theirs. A failed reload keeps the old certificate.
    public func reloadTLS() {
        guard let identity = serverTLS else { return }
        do {
            try identity.reload()
            logger.notice("TLS certificate reloaded", metadata: ["cert": "\(identity.certificatePath)", "subject": "\(identity.context.certificateSubject ?? "?")"])
        } catch {
            logger.error("TLS certificate reload failed, keeping the old one: \(error.message)", metadata: ["cert": "\(identity.certificatePath)"])
        }
    }

    public func shutdown() {
        server?.shutdown()
        for m in monitors { m.stop() }
    }

    // MARK: access

    /// Adds CORS headers for allowed cross-origin callers, and the viewer's token cookie.
    func decorate(_ response: inout HTTPResponse, for request: HTTPRequest) {
        if let origin = request.headers["Origin"], configuration.allowedOrigins.contains(where: { $0 == "*" || $0.lowercased() == origin.lowercased() }) {
            response.headers.add("Access-Control-Allow-Origin", origin)
            response.headers.add("Vary", "Origin")
        }
        if access.requiresToken, let t = request.query["token"], access.isValid(t),
           response.headers["Content-Type"]?.hasPrefix("text/html") == true {
            // Cookies ignore ports: the name carries the port so two docktails on one host (or
            // another service's cookie of the same name) never mix.
            let name = AccessControl.cookieName(for: request)
            // `Secure` on HTTPS listeners: the browser never sends the token back in clear text.
            response.headers.add("Set-Cookie", "\(name)=\(t); Path=/; HttpOnly; SameSite=Strict" + (request.isSecure ? "; Secure" : ""))
        }
    }

    // MARK: routes

    func makeRouter() -> Router {
        let router = Router()
        router.get(AccessPolicy.healthz) { [self] ctx in
            let engines = monitors.map { m in JSONValue.object([("name", .string(m.client.name)), ("ok", .bool(m.isUp))]) }
            let anyUp = monitors.contains { $0.isUp }
            ctx.respond(.json(anyUp ? 200 : 503, .object([("status", .string(anyUp ? "ok" : "no engine reachable")), ("engines", .array(engines))])))
        }
        router.get(AccessPolicy.metrics) { [self] ctx in
            ctx.respond(.text(200, metrics.prometheusText(), contentType: "text/plain; version=0.0.4; charset=utf-8"))
        }
        router.get(AccessPolicy.hosts) { [self] ctx in
            let hosts = monitors.map { m in
                JSONValue.object([("name", .string(m.client.name)), ("url", .string(m.client.endpoint.url)),
                                  ("ok", .bool(m.isUp)), ("tls", .bool(m.client.tls != nil)),
                                  ("verified", .bool(m.client.tls?.verifiesPeer ?? false)),
                                  ("apiVersion", m.client.apiVersion.map { .string($0) } ?? .null),
                                  ("error", m.isUp ? .null : (m.lastError.map { .string($0) } ?? .null))])
            }
            ctx.respond(.json(200, .array(hosts)))
        }
        router.get(AccessPolicy.containers) { [self] ctx in listContainers(ctx) }
        router.get(AccessPolicy.container) { [self] ctx in inspectContainer(ctx) }
        router.get(AccessPolicy.events) { [self] ctx in
            guard ctx.request.isWebSocketUpgrade else { ctx.respond(.error(426, "/events is a WebSocket endpoint")); return }
            ctx.upgrade(to: EventsSubscription(loop: ctx.loop, broadcaster: broadcaster))
        }
        router.get(AccessPolicy.logs) { [self] ctx in logs(ctx) }
        addHistoryRoutes(to: router)
        addGroupRoutes(router)
        let asset: Router.Handler = { [files] ctx in
            files.serve(segments: ctx.segments, request: ctx.request, loop: ctx.loop) { ctx.respond($0) }
        }
        for route in AccessPolicy.publicAssets { router.get(route, asset) }
        router.fallback = { [files] ctx in
            files.serve(segments: ctx.segments, request: ctx.request, loop: ctx.loop) { response in
                ctx.respond(response)
            }
        }
        return router
    }

    func client(named name: String?) -> DockerClient? {
        guard let name else { return clients.first }
        return clients.first { $0.name == name }
    }

    private func logs(_ ctx: RequestContext) {
        guard ctx.request.isWebSocketUpgrade else {
            // The viewer page, whatever the ref: the page itself opens the WebSocket.
            files.serve(segments: ["viewer.html"], request: ctx.request, loop: ctx.loop) { ctx.respond($0) }
            return
        }
        let query: LogQuery
        do {
            query = try LogQuery.parse(ctx.query, defaultTail: configuration.limits.streaming.defaultTail)
        } catch {
            ctx.respond(.error(400, "\(error.name): \(error.message)"))
            return
        }
        visibleContainer(ctx) { [self] client, info in
            let subscription = LogSubscription(loop: ctx.loop, query: query, info: info, hostName: client.name, client: client,
                                               registry: registry, limits: configuration.limits.streaming, metrics: metrics)
            ctx.upgrade(to: subscription)
        }
    }

    static func containerJSON(_ c: ContainerInfo, host: String) -> JSONValue {
        let ports: [JSONValue] = c.ports.map { p in
            .object([("private", .int(Int64(p.privatePort))), ("public", p.publicPort.map { .int(Int64($0)) } ?? .null),
                     ("type", .string(p.type)), ("ip", p.ip.map { .string($0) } ?? .null)])
        }
        let labels: [(String, JSONValue)] = c.labels.keys.sorted().map { ($0, .string(c.labels[$0]!)) }
        // Run times are known from inspect (`/api/containers/{ref}`); the list has only the
        // engine's status text (its exit code is read from "Exited (N) …").
        let started = DockerTimestamp.parse(c.startedAt).map { JSONValue.string(DockerTimestamp.format($0)) } ?? .null
        let finished = DockerTimestamp.parse(c.finishedAt).map { JSONValue.string(DockerTimestamp.format($0)) } ?? .null
        var exit: JSONValue = .null
        if !c.startedAt.isEmpty, !c.running { exit = .int(Int64(c.exitCode)) }
        else if c.status.hasPrefix("Exited ("), let close = c.status.firstIndex(of: ")"),
                let code = Int(c.status[c.status.index(c.status.startIndex, offsetBy: 8)..<close]) { exit = .int(Int64(code)) }
        return .object([("id", .string(c.id)), ("name", .string(c.name)), ("image", .string(c.image)),
                        ("state", .string(c.state)), ("status", .string(c.status)), ("created", .int(c.created)),
                        ("host", .string(host)), ("tty", .bool(c.tty)), ("labels", .object(labels)), ("ports", .array(ports)),
                        ("startedAt", started), ("finishedAt", finished), ("exitCode", exit)])
    }

    /// One container (name, id or id prefix), for pages that need to know whether it exists.
    private func inspectContainer(_ ctx: RequestContext) {
        visibleContainer(ctx) { client, info in ctx.respond(.json(200, Self.containerJSON(info, host: client.name))) }
    }

    private func listContainers(_ ctx: RequestContext) {
        let all = ctx.query["all"] == "1" || ctx.query["all"] == "true"
        var remaining = clients.count
        var results: [(Int, [ContainerInfo])] = []
        var errors = 0
        if remaining == 0 { ctx.respond(.json(200, .array([]))); return }
        for (i, client) in clients.enumerated() {
            client.listContainers(all: all, on: ctx.loop) { [self] result in
                switch result {
                case .success(let list): results.append((i, list))
                case .failure: errors += 1; metrics.engineError()
                }
                remaining -= 1
                guard remaining == 0 else { return }
                if errors == clients.count { ctx.respond(.error(502, "no engine reachable")); return }
                var items: [JSONValue] = []
                for (index, list) in results.sorted(by: { $0.0 < $1.0 }) {
                    for c in list where access.isVisible(name: c.name, labels: c.labels) {
                        items.append(Self.containerJSON(c, host: clients[index].name))
                    }
                }
                ctx.respond(.json(200, .array(items)))
            }
        }
    }

    private func engineEvent(host: String, _ e: EngineMonitor.EngineEvent) {
        registry.containerEvent(host: host, id: e.id, action: e.action, exitCode: e.exitCode, time: e.time)
        if e.action == "start" || e.action == "destroy" {
            groupDirectory.containerEvent(host: host, id: e.id, name: e.name, action: e.action, labels: e.labels, time: e.time)
        }
        guard ["create", "start", "die", "destroy", "rename", "stop", "restart", "pause", "unpause"].contains(e.action) else { return }
        guard access.isVisible(name: e.name, labels: e.labels) else { return }
        var fields: [(String, JSONValue)] = [("type", .string("container")), ("action", .string(e.action)), ("id", .string(e.id)),
                                             ("name", .string(e.name)), ("host", .string(host)), ("time", .string(DockerTimestamp.format(e.time)))]
        if let code = e.exitCode { fields.append(("exitCode", .int(Int64(code)))) }
        if !e.image.isEmpty { fields.append(("image", .string(e.image))) }
        broadcaster.publish(.object(fields))
    }
}
