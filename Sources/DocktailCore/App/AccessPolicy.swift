/// docktail's routes and who may use them, in one table, and the one access decision made on
/// the route the router resolved. The router, the gate and the fuzz target all read this table,
/// so what is dispatched and what is allowed cannot drift apart.
public struct AccessPolicy: Sendable {
    /// One route of the table.
    public struct Route: Sendable {
        public let pattern: String
        public let access: RouteAccess
        public let webSocket: Bool
    }

    public static let healthz = Route(pattern: "/healthz", access: .open, webSocket: false)
    public static let metrics = Route(pattern: "/metrics", access: .protected, webSocket: false)
    public static let hosts = Route(pattern: "/api/hosts", access: .protected, webSocket: false)
    public static let containers = Route(pattern: "/api/containers", access: .protected, webSocket: false)
    public static let container = Route(pattern: "/api/containers/{ref}", access: .protected, webSocket: false)
    public static let events = Route(pattern: "/events", access: .protected, webSocket: true)
    public static let logs = Route(pattern: "/logs/{ref}", access: .protected, webSocket: true)
    public static let groups = Route(pattern: "/api/groups", access: .protected, webSocket: false)
    public static let group = Route(pattern: "/groups/{kind}/{name}", access: .protected, webSocket: true)
    public static let groupPage = Route(pattern: "/api/groups/{kind}/{name}/logs", access: .protected, webSocket: false)
    /// History (issue 11): a page of lines with a cursor, and the whole log as a file. The file
    /// names are literal segments after `{ref}` (a container name may hold dots, never a slash).
    public static let logPage = Route(pattern: "/api/containers/{ref}/logs", access: .protected, webSocket: false)
    public static let logText = Route(pattern: "/api/containers/{ref}/logs.txt", access: .protected, webSocket: false)
    public static let logJSONLines = Route(pattern: "/api/containers/{ref}/logs.jsonl", access: .protected, webSocket: false)
    public static let historyRoutes = [logPage, logText, logJSONLines]
    /// UI code that is the same for everyone and says nothing about containers: public by route
    /// (never by a file suffix a client chose), so a page on another origin can load the
    /// `<docktail-log>` module. Everything else under `Public/` (the pages) is protected.
    public static let publicAssets: [Route] = ["/docktail-log.js", "/favicon.svg", "/js/{file}", "/css/{file}"].map {
        Route(pattern: $0, access: .publicAsset, webSocket: false)
    }

    /// Every route of the table.
    public static var allRoutes: [Route] { [healthz, metrics, hosts, containers, container, events, logs, groups, group, groupPage] + historyRoutes + publicAssets }

    public let access: AccessControl
    public let hosts: HostAllowlist

    public init(access: AccessControl, hosts: HostAllowlist) {
        self.access = access
        self.hosts = hosts
    }

    /// nil: go ahead. Otherwise the answer: 421 for a Host docktail does not answer to (DNS
    /// rebinding), 400 for an HTTP/1.1 request without Host, 401 for a missing or wrong token.
    /// `/healthz` is open to any Host; public assets need an allowed Host only.
    public func decide(_ request: HTTPRequest, resolution: Router.Resolution) -> HTTPResponse? {
        if resolution.access == .open { return nil }
        if let host = request.headers["Host"] {
            guard hosts.allows(hostHeader: host) else {
                return .error(421, "Host is not a name docktail answers to (add it to allowedHosts or --allowed-host)")
            }
        } else if request.versionMinor >= 1 {
            return .error(400, "missing Host")
        }
        if resolution.access == .publicAsset || !access.requiresToken { return nil }
        if access.isValid(AccessControl.presentedToken(request)) { return nil }
        var r = HTTPResponse.error(401, "authentication required")
        r.headers.add("WWW-Authenticate", "Bearer realm=\"docktail\"")
        return r
    }
}

extension Router {
    /// Adds a route of the table with its access rules.
    public func get(_ route: AccessPolicy.Route, _ handler: @escaping Handler) {
        get(route.pattern, access: route.access, webSocket: route.webSocket, handler)
    }
}
