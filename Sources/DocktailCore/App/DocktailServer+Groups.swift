import Foundation

/// Group views: `/groups/{kind}/{name}` (the viewer page, or the merged WebSocket stream) and
/// `/api/groups` (the groups that exist now, with their members).
extension DocktailServer {
    func addGroupRoutes(_ router: Router) {
        router.get(AccessPolicy.groups) { [self] ctx in listGroups(ctx) }
        router.get(AccessPolicy.group) { [self] ctx in group(ctx) }
    }

    private func group(_ ctx: RequestContext) {
        guard ctx.request.isWebSocketUpgrade else {
            files.serve(segments: ["viewer.html"], request: ctx.request, loop: ctx.loop) { ctx.respond($0) }
            return
        }
        let kind = ctx.parameters["kind"] ?? ""
        let name = ctx.parameters["name"] ?? ""
        guard let selector = LogGroupSelector(kind: kind, name: name) else {
            let kinds = LogGroupSelector.Kind.allCases.map(\.rawValue).joined(separator: ", ")
            ctx.respond(.error(400, LogGroupSelector.Kind(rawValue: kind) == nil
                ? "kind: must be one of \(kinds)" : "name: '\(name)' is not a valid \(kind) name" + (kind == "label" ? " (KEY=VALUE)" : "")))
            return
        }
        if selector.kind == .host && !clients.contains(where: { $0.name == selector.name }) {
            ctx.respond(ErrorMapping.response(for: DockerError.unknownHost(selector.name)))
            return
        }
        let query: LogQuery
        do {
            query = try LogQuery.parse(ctx.query, defaultTail: configuration.limits.streaming.defaultTail)
        } catch {
            ctx.respond(.error(400, "\(error.name): \(error.message)"))
            return
        }
        if selector.kind == .service {
            serviceGroup(ctx, name: selector.name, query: query)
            return
        }
        let access = self.access
        let context = LogGroupSubscription.Context(
            clients: clients, registry: registry, limits: configuration.limits.streaming, metrics: metrics,
            isVisible: { name, labels in access.isVisible(name: name, labels: labels) }, directory: groupDirectory)
        ctx.upgrade(to: LogGroupSubscription(loop: ctx.loop, selector: selector, query: query, context: context))
    }

    /// Swarm services are merged by the manager itself (see `LogServiceSubscription`).
    func serviceGroup(_ ctx: RequestContext, name: String, query: LogQuery) {
        ctx.respond(.error(404, "no such service: \(name)"))
    }

    /// Compose projects, stacks and engines, with their visible members (all states).
    private func listGroups(_ ctx: RequestContext) {
        var remaining = clients.count
        var byGroup: [String: (kind: String, name: String, members: [JSONValue], running: Int)] = [:]
        var order: [String] = []
        func add(_ kind: String, _ name: String, _ member: JSONValue, running: Bool) {
            let key = kind + "\u{0}" + name
            if byGroup[key] == nil { byGroup[key] = (kind, name, [], 0); order.append(key) }
            byGroup[key]!.members.append(member)
            if running { byGroup[key]!.running += 1 }
        }
        let finish = { [self] in
            var out: [JSONValue] = []
            for key in order.sorted(by: { a, b in
                let x = byGroup[a]!, y = byGroup[b]!
                return x.kind != y.kind ? Self.kindRank(x.kind) < Self.kindRank(y.kind) : x.name < y.name
            }) {
                let g = byGroup[key]!
                out.append(.object([("kind", .string(g.kind)), ("name", .string(g.name)), ("count", .int(Int64(g.members.count))),
                                    ("running", .int(Int64(g.running))), ("members", .array(g.members))]))
            }
            _ = self
            ctx.respond(.json(200, .array(out)))
        }
        if remaining == 0 { finish(); return }
        for client in clients {
            client.listContainers(all: true, on: ctx.loop) { [self] result in
                if case .success(let list) = result {
                    for info in list.sorted(by: { $0.name < $1.name }) where access.isVisible(name: info.name, labels: info.labels) {
                        let member = JSONValue.object([("id", .string(info.id)), ("name", .string(info.name)), ("host", .string(client.name)),
                                                       ("state", .string(info.state))])
                        let running = info.state == "running"
                        if let p = info.labels[LogGroupSelector.composeProjectLabel] { add("project", p, member, running: running) }
                        if let s = info.labels[LogGroupSelector.stackNamespaceLabel] { add("stack", s, member, running: running) }
                        add("host", client.name, member, running: running)
                    }
                }
                remaining -= 1
                if remaining == 0 { finish() }
            }
        }
    }

    static func kindRank(_ kind: String) -> Int {
        ["project": 0, "stack": 1, "service": 2, "host": 3][kind] ?? 4
    }
}
