import Foundation

/// Group views: `/groups/{kind}/{name}` (the viewer page, or the merged WebSocket stream) and
/// `/api/groups` (the groups that exist now, with their members).
extension DocktailServer {
    func addGroupRoutes(_ router: Router) {
        router.get(AccessPolicy.groups) { [self] ctx in listGroups(ctx) }
        router.get(AccessPolicy.group) { [self] ctx in group(ctx) }
        router.get(AccessPolicy.groupPage) { [self] ctx in groupPage(ctx) }
    }

    /// One page of a group's history, merged by stamp: `{"lines":[{"ts","stream","line","id","name"}],"cursor":C|null}`.
    /// The parameters of `/api/containers/{ref}/logs` (`limit`, `cursor`, `stdout`, `stderr`,
    /// `grep`, `icase`), the cursor holding one position per member (`LogGroupPageCursor`).
    private func groupPage(_ ctx: RequestContext) {
        let kind = ctx.parameters["kind"] ?? ""
        var name = ctx.parameters["name"] ?? ""
        if kind == "label", !name.contains("="), let value = ctx.query["value"] { name += "=" + value }
        guard let selector = LogGroupSelector(kind: kind, name: name), selector.kind != .service else {
            ctx.respond(.error(400, kind == "service" ? "kind: service history pages are not available (use the service stream with tail and since)"
                                                      : "kind/name: not a group (project, stack, label KEY=VALUE, host)"))
            return
        }
        if ctx.query["before"] != nil { ctx.respond(.error(400, "before: not available for groups (use cursor)")); return }
        var rest = ctx.query
        let cursorText = rest.removeValue(forKey: "cursor")
        let query: LogPageQuery
        var groupCursor: LogGroupPageCursor?
        do {
            query = try LogPageQuery.parse(rest)
        } catch {
            ctx.respond(.error(400, "\(error.name): \(error.message)"))
            return
        }
        if let text = cursorText {
            do throws(LogPageCursor.Invalid) {
                groupCursor = try LogGroupPageCursor.decode(text)
            } catch {
                ctx.respond(.error(400, "cursor: \(error.message)"))
                return
            }
        }
        let only = ctx.query["host"]
        let access = self.access
        selector.listMembers(clients: clients.filter { only == nil || $0.name == only }, isVisible: { access.isVisible(name: $0, labels: $1) },
                             on: ctx.loop) { [self] found, failures in
            if let (_, failure) = failures.first, found.isEmpty { ctx.respond(ErrorMapping.response(for: failure)); return }
            var members: [(DockerClient, ContainerInfo, String)] = []
            for (client, info) in found {
                let key = LogGroupPageCursor.memberKey(host: client.name, id: info.id)
                // With a cursor, only the members it knows: the others started after its first page.
                if let groupCursor, groupCursor.members[key] == nil { continue }
                members.append((client, info, key))
            }
            guard members.count <= LogGroupPageCursor.maxMembers else {
                ctx.respond(.error(400, "group: \(members.count) members; history pages cover groups of at most \(LogGroupPageCursor.maxMembers)"))
                return
            }
            inspectMembers(members, loop: ctx.loop) { [self] inspected in
                let pageMembers = inspected.map { (client, info, key) in
                    LogGroupPageReader.Member(key: key, client: client, info: info,
                                              cursor: groupCursor.map { $0.members[key] ?? nil } ?? .newest)
                }
                let reader = LogGroupPageReader(loop: ctx.loop, members: pageMembers, limit: query.limit, streams: query.streams,
                                                predicate: query.predicate, byteBudget: pageByteBudget,
                                                maxLineBytes: configuration.limits.streaming.maxLineBytes, metrics: metrics,
                                                passTimeoutSeconds: configuration.limits.engine.requestTimeoutSeconds)
                reader.start { result in
                    switch result {
                    case .failure(let e): ctx.respond(ErrorMapping.response(for: e))
                    case .success(let page):
                        var out = Array(#"{"lines":["#.utf8)
                        let tags = pageMembers.map { LogFrameEncoder.memberTag(id: $0.info.id, name: $0.info.name) }
                        for (k, item) in page.lines.enumerated() {
                            if k > 0 { out.append(UInt8(ascii: ",")) }
                            LogLineJSON.append(item.line, to: &out)
                            out.removeLast()
                            out.append(contentsOf: tags[item.member])
                            out.append(UInt8(ascii: "}"))
                        }
                        out.append(contentsOf: Array(#"],"cursor":"#.utf8))
                        if let c = page.cursor { JSONValue.appendString(c.encoded, to: &out) } else { out.append(contentsOf: Array("null".utf8)) }
                        out.append(UInt8(ascii: "}"))
                        var response = HTTPResponse(status: 200, body: out)
                        response.headers.add("Content-Type", "application/json; charset=utf-8")
                        response.headers.add("Cache-Control", "no-store")
                        ctx.respond(response)
                    }
                }
            }
        }
    }

    /// Inspects each member (the list lacks TTY); members that vanished meanwhile are left out.
    private func inspectMembers(_ members: [(DockerClient, ContainerInfo, String)], loop: EventLoop,
                                _ done: @escaping ([(DockerClient, ContainerInfo, String)]) -> Void) {
        var results: [Int: (DockerClient, ContainerInfo, String)] = [:]
        var remaining = members.count
        if remaining == 0 { done([]); return }
        for (i, (client, info, key)) in members.enumerated() {
            client.inspect(info.id, on: loop) { result in
                if case .success(let full) = result { results[i] = (client, full, key) }
                remaining -= 1
                if remaining == 0 { done(members.indices.compactMap { results[$0] }) }
            }
        }
    }

    private func group(_ ctx: RequestContext) {
        guard ctx.request.isWebSocketUpgrade else {
            files.serve(segments: ["viewer.html"], request: ctx.request, loop: ctx.loop) { ctx.respond($0) }
            return
        }
        let kind = ctx.parameters["kind"] ?? ""
        var name = ctx.parameters["name"] ?? ""
        // A label value with a `/` (a path) cannot be a path segment: `/groups/label/KEY?value=VALUE`.
        if kind == "label", !name.contains("="), let value = ctx.query["value"] { name += "=" + value }
        if let host = ctx.query["host"], !clients.contains(where: { $0.name == host }) {
            ctx.respond(ErrorMapping.response(for: DockerError.unknownHost(host)))
            return
        }
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
        let members = ctx.query["host"].map { h in clients.filter { $0.name == h } } ?? clients
        let context = LogGroupSubscription.Context(
            clients: members, registry: registry, limits: configuration.limits.streaming, metrics: metrics,
            isVisible: { name, labels in access.isVisible(name: name, labels: labels) }, directory: groupDirectory)
        ctx.upgrade(to: LogGroupSubscription(loop: ctx.loop, selector: selector, query: query, context: context))
    }

    /// Swarm services are merged by the manager itself (see `LogServiceSubscription`): the
    /// first engine that knows the service (a manager) serves it.
    func serviceGroup(_ ctx: RequestContext, name: String, query: LogQuery) {
        let candidates = ctx.query["host"].map { h in clients.filter { $0.name == h } } ?? clients
        func attempt(_ i: Int) {
            guard i < candidates.count else {
                ctx.respond(.error(404, "no such service: \(name) (services are found on Swarm managers)"))
                return
            }
            let client = candidates[i]
            client.service(name, on: ctx.loop) { [self] result in
                guard case .success(let found?) = result,
                      access.isVisible(name: found.name, labels: found.labels) else { attempt(i + 1); return }
                ctx.upgrade(to: LogServiceSubscription(loop: ctx.loop, service: found, client: client, query: query,
                                                       limits: configuration.limits.streaming, metrics: metrics))
            }
        }
        attempt(0)
    }

    /// Compose projects, stacks and engines, with their visible members (all states).
    private func listGroups(_ ctx: RequestContext) {
        var remaining = clients.count
        var byGroup: [String: (kind: String, name: String, members: [JSONValue], running: Int)] = [:]
        var order: [String] = []
        var replicas: [String: Int] = [:]
        func add(_ kind: String, _ name: String, _ member: JSONValue, running: Bool) {
            let key = kind + "\u{0}" + name
            if byGroup[key] == nil { byGroup[key] = (kind, name, [], 0); order.append(key) }
            byGroup[key]!.members.append(member)
            if running { byGroup[key]!.running += 1 }
        }
        let finish = { [self] in
            // Every engine is a group, with containers or not.
            for client in clients where byGroup["host\u{0}" + client.name] == nil {
                byGroup["host\u{0}" + client.name] = ("host", client.name, [], 0)
                order.append("host\u{0}" + client.name)
            }
            var out: [JSONValue] = []
            for key in order.sorted(by: { a, b in
                let x = byGroup[a]!, y = byGroup[b]!
                return x.kind != y.kind ? Self.kindRank(x.kind) < Self.kindRank(y.kind) : x.name < y.name
            }) {
                let g = byGroup[key]!
                var fields: [(String, JSONValue)] = [("kind", .string(g.kind)), ("name", .string(g.name)), ("count", .int(Int64(g.members.count))),
                                                     ("running", .int(Int64(g.running)))]
                if let r = replicas[key] { fields.append(("replicas", .int(Int64(r)))) }
                fields.append(("members", .array(g.members)))
                out.append(.object(fields))
            }
            _ = self
            ctx.respond(.json(200, .array(out)))
        }
        if remaining == 0 { finish(); return }
        remaining *= 2
        for client in clients {
            // Swarm services (on managers), with their tasks as members.
            client.services(on: ctx.loop) { [self] result in
                guard case .success(let services) = result, !services.isEmpty else {
                    remaining -= 1
                    if remaining == 0 { finish() }
                    return
                }
                client.tasks(serviceID: nil, on: ctx.loop) { [self] taskResult in
                    let tasks = (try? taskResult.get()) ?? []
                    for service in services.sorted(by: { $0.name < $1.name }) where access.isVisible(name: service.name, labels: service.labels) {
                        let mine = tasks.filter { $0.serviceID == service.id && $0.isUp }.sorted { ($0.slot ?? 0) < ($1.slot ?? 0) }
                        let key = "service\u{0}" + service.name
                        if byGroup[key] == nil { byGroup[key] = ("service", service.name, [], 0); order.append(key) }
                        for t in mine {
                            let name = t.slot.map { "\(service.name).\($0)" } ?? "\(service.name).\(t.id.prefix(12))"
                            byGroup[key]!.members.append(.object([("id", .string(t.id)), ("name", .string(name)), ("host", .string(client.name)),
                                                                  ("state", .string(t.state)), ("slot", t.slot.map { .int(Int64($0)) } ?? .null),
                                                                  ("node", .string(t.nodeID))]))
                            if t.state == "running" { byGroup[key]!.running += 1 }
                        }
                        if let r = service.replicas { replicas[key] = r }
                    }
                    remaining -= 1
                    if remaining == 0 { finish() }
                }
            }
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
