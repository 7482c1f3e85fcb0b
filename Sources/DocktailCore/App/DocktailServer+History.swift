/// History routes (issue 11): a container's whole log, exactly, a page at a time or as a file.
///
///     GET /api/containers/{ref}/logs        {"lines":[{"ts","stream","line"},…],"cursor":C|null}
///     GET /api/containers/{ref}/logs.txt    text lines, streamed (chunked)
///     GET /api/containers/{ref}/logs.jsonl  one {"ts","stream","line"} per line, streamed
///
/// Each resolves the reference like `/logs/{ref}` (same 404 for unknown and hidden), then hands
/// the work to a driver on the request's loop: `LogPageReader` (finding the page with a
/// `LogPageLocator`) or `LogDownload`.
extension DocktailServer {
    func addHistoryRoutes(to router: Router) {
        router.get(AccessPolicy.logPage) { [self] ctx in logPage(ctx) }
        router.get(AccessPolicy.logText) { [self] ctx in logDownload(ctx, format: .text) }
        router.get(AccessPolicy.logJSONLines) { [self] ctx in logDownload(ctx, format: .jsonLines) }
    }

    /// Bytes one page may hold: the history buffer, and never more than an HTTP answer may be
    /// (the page is one answer; 64 KiB are left for the head and the JSON around the lines).
    var pageByteBudget: Int {
        let limits = configuration.limits
        return max(0, min(limits.streaming.historyBufferBytes, limits.http.maxResponseBytes - 64 * 1024))
    }

    /// The container behind `{ref}` on `?host=`, if this client may see it; otherwise the answer
    /// is sent here (400 for an unknown host, 404 for unknown or hidden, 502 for an engine down).
    func visibleContainer(_ ctx: RequestContext, _ body: @escaping (DockerClient, ContainerInfo) -> Void) {
        let ref = ctx.parameters["ref"] ?? ""
        guard let client = client(named: ctx.query["host"]) else {
            ctx.respond(ErrorMapping.response(for: DockerError.unknownHost(ctx.query["host"] ?? "")))
            return
        }
        client.inspect(ref, on: ctx.loop) { [self] result in
            switch result {
            case .failure(let e):
                if case .notFound = e {} else { metrics.engineError() }
                ctx.respond(ErrorMapping.response(for: e))
            case .success(let info):
                guard access.isVisible(name: info.name, labels: info.labels) else {
                    ctx.respond(ErrorMapping.response(for: DockerError.notFound("no such container: \(ref)")))
                    return
                }
                body(client, info)
            }
        }
    }

    private func logPage(_ ctx: RequestContext) {
        let query: LogPageQuery
        do {
            query = try LogPageQuery.parse(ctx.query)
        } catch {
            ctx.respond(.error(400, "\(error.name): \(error.message)"))
            return
        }
        visibleContainer(ctx) { [self] client, info in
            let locator = LogPageLocator(limit: query.limit, streams: query.streams, cursor: query.cursor,
                                         predicate: query.predicate, byteBudget: pageByteBudget)
            let reader = LogPageReader(loop: ctx.loop, client: client, info: info, locator: locator,
                                       maxLineBytes: configuration.limits.streaming.maxLineBytes, metrics: metrics,
                                       passTimeoutSeconds: configuration.limits.engine.requestTimeoutSeconds)
            let started = MonotonicClock.now()
            reader.start { [self] result in
                switch result {
                case .failure(let e):
                    if case .notFound = e {} else { metrics.engineError() }
                    logger.debug("log page failed", metadata: ["container": "\(info.name)", "error": "\(e)"])
                    ctx.respond(ErrorMapping.response(for: e))
                case .success(let page):
                    logger.debug("log page", metadata: ["container": "\(info.name)", "lines": "\(page.lines.count)",
                                                        "passes": "\(reader.passes)",
                                                        "ms": "\(Int((MonotonicClock.now() - started) * 1000))"])
                    var response = HTTPResponse(status: 200, body: LogPageReader.responseBody(page))
                    response.headers.add("Content-Type", "application/json; charset=utf-8")
                    response.headers.add("Cache-Control", "no-store")
                    ctx.respond(response)
                }
            }
        }
    }

    private func logDownload(_ ctx: RequestContext, format: LogDownloadQuery.Format) {
        let query: LogDownloadQuery
        do {
            query = try LogDownloadQuery.parse(ctx.query)
        } catch {
            ctx.respond(.error(400, "\(error.name): \(error.message)"))
            return
        }
        visibleContainer(ctx) { [self] client, info in
            var head = HTTPResponse(status: 200)
            let ext = format == .text ? "log" : "jsonl"
            head.headers.add("Content-Type", format == .text ? "text/plain; charset=utf-8" : "application/jsonl; charset=utf-8")
            head.headers.add("Content-Disposition", "attachment; filename=\"\(LogDownloadQuery.filename(containerName: info.name, extension: ext))\"")
            head.headers.add("Cache-Control", "no-store")
            head.headers.add("X-Content-Type-Options", "nosniff")
            let stallSeconds = configuration.limits.webSocket.stalledClientSeconds
            if ctx.request.method == "HEAD" {
                // The head only: no engine read.
                _ = ctx.respondStreaming(head: head)
                return
            }
            let download = LogDownload(loop: ctx.loop, client: client, info: info, query: query, format: format,
                                       maxLineBytes: configuration.limits.streaming.maxLineBytes, metrics: metrics,
                                       logger: logger, engineIdleSeconds: 4 * configuration.limits.engine.requestTimeoutSeconds)
            download.start(openStream: {
                let stream = ctx.respondStreaming(head: head)
                stream?.stallTimeoutSeconds = stallSeconds
                return stream
            }, fail: { [self] error in
                if case .notFound = error {} else { metrics.engineError() }
                logger.debug("download failed", metadata: ["container": "\(info.name)", "error": "\(error)"])
                ctx.respond(ErrorMapping.response(for: error))
            })
        }
    }
}
