import Foundation

/// docktail's configuration: built-in defaults, then `config.json`, then the environment, then
/// command-line flags. Every key is documented in the README.
public struct Configuration: Sendable, Equatable {
    public struct Engine: Sendable, Equatable {
        public var name: String
        public var url: String
        public init(name: String, url: String) { self.name = name; self.url = url }
    }

    public var listen: [String] = ["0.0.0.0:8080"]
    public var engines: [Engine] = []
    public var publicDir = "Public"
    public var allowedOrigins: [String] = []
    /// Host names (besides IP literals, localhost and the listen hosts) docktail answers to.
    public var allowedHosts: [String] = []
    /// Warn at start-up when listening beyond loopback with no token.
    public var warnOpenAccess = true
    public var tokens: [String] = []
    public var tokenFile: String?
    public var visibilityLabels: [String: String] = [:]
    public var visibilityNames: [String] = []
    public var logLevel = "info"
    /// Loop queues; 0 = one per core.
    public var loops = 0
    public var limits = Limits()

    public init() {}

    /// Why a configuration is refused; `key` is the path of the offending key.
    public struct ConfigError: Error, Equatable, CustomStringConvertible, Sendable {
        public let key: String
        public let message: String
        public var description: String { key.isEmpty ? message : "config: \(key): \(message)" }
    }

    // MARK: file

    public static func load(path: String, base: Configuration = Configuration()) throws(ConfigError) -> Configuration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(key: "", message: "config: cannot read \(path)")
        }
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw ConfigError(key: "", message: "config: \(path) is not valid JSON")
        }
        guard let root = object as? [String: Any] else { throw ConfigError(key: "", message: "config: \(path) must hold a JSON object") }
        return try apply(root, to: base)
    }

    static let knownKeys: Set<String> = ["listen", "engines", "publicDir", "defaultTail", "ringLines", "maxLineBytes",
        "clientBufferBytes", "clientMessageBytes", "timeouts", "maxConnections", "maxConnectionsPerAddress",
        "allowedOrigins", "allowedHosts", "warnOpenAccess", "historyBufferBytes", "ringBytes", "catchUpBytes", "auth", "visibility", "logLevel", "loops", "$comment"]
    static let timeoutKeys: Set<String> = ["header", "keepAlive", "close", "ping", "pong", "stalledClient",
        "engineConnect", "engineRequest", "upstreamLinger"]

    public static func apply(_ root: [String: Any], to base: Configuration) throws(ConfigError) -> Configuration {
        var c = base
        for key in root.keys.sorted() where !knownKeys.contains(key) {
            throw ConfigError(key: key, message: "unknown key")
        }
        if let v = root["listen"] {
            let list: [String]
            if let s = v as? String { list = [s] } else { list = try strings(v, "listen") }
            guard !list.isEmpty else { throw ConfigError(key: "listen", message: "needs at least one address") }
            for (i, a) in list.enumerated() {
                guard let addr = SocketAddress.parse(a), addr.port != nil else {
                    throw ConfigError(key: "listen[\(i)]", message: "'\(a)' is not HOST:PORT with a port from 0 to 65535")
                }
            }
            c.listen = list
        }
        if let v = root["engines"] {
            guard let arr = v as? [Any] else { throw ConfigError(key: "engines", message: "must be an array of {\"name\",\"url\"}") }
            var engines: [Engine] = []
            for (i, item) in arr.enumerated() {
                guard let obj = item as? [String: Any] else { throw ConfigError(key: "engines[\(i)]", message: "must be an object") }
                for k in obj.keys.sorted() where k != "name" && k != "url" { throw ConfigError(key: "engines[\(i)].\(k)", message: "unknown key") }
                guard let url = obj["url"] as? String else { throw ConfigError(key: "engines[\(i)].url", message: "must be a string") }
                guard DockerEndpoint(url: url) != nil else {
                    throw ConfigError(key: "engines[\(i)].url", message: "'\(url)' is not unix:///path (at most 107 bytes) or tcp://host[:port] (host: IP literal or DNS name)")
                }
                var name = "engine\(i + 1)"
                if let n = obj["name"] { name = try string(n, "engines[\(i)].name") }
                guard !name.isEmpty, !engines.contains(where: { $0.name == name }) else {
                    throw ConfigError(key: "engines[\(i)].name", message: "must be unique and not empty")
                }
                engines.append(Engine(name: name, url: url))
            }
            c.engines = engines
        }
        if let v = root["publicDir"] { c.publicDir = try string(v, "publicDir") }
        if let v = root["defaultTail"] { c.limits.streaming.defaultTail = try int(v, "defaultTail", min: 0) }
        if let v = root["ringLines"] { c.limits.streaming.ringLines = try int(v, "ringLines", min: 1) }
        if let v = root["maxLineBytes"] { c.limits.streaming.maxLineBytes = try int(v, "maxLineBytes", min: 1024) }
        if let v = root["clientBufferBytes"] { c.limits.webSocket.clientBufferBytes = try int(v, "clientBufferBytes", min: 65536) }
        if let v = root["clientMessageBytes"] { c.limits.webSocket.maxClientMessageBytes = try int(v, "clientMessageBytes", min: 125) }
        if let v = root["maxConnections"] { c.limits.http.maxConnections = try int(v, "maxConnections", min: 0) }
        if let v = root["maxConnectionsPerAddress"] { c.limits.http.maxConnectionsPerAddress = try int(v, "maxConnectionsPerAddress", min: 0) }
        if let v = root["loops"] {
            c.loops = try int(v, "loops", min: 0)
            if c.loops > 64 { throw ConfigError(key: "loops", message: "must be at most 64") }
        }
        if let v = root["allowedOrigins"] {
            c.allowedOrigins = try strings(v, "allowedOrigins")
            for (i, o) in c.allowedOrigins.enumerated() where o != "*" && !(o.hasPrefix("http://") || o.hasPrefix("https://")) {
                throw ConfigError(key: "allowedOrigins[\(i)]", message: "'\(o)' must be an origin like https://host:port, or *")
            }
        }
        if let v = root["allowedHosts"] {
            c.allowedHosts = try strings(v, "allowedHosts")
            for (i, h) in c.allowedHosts.enumerated() {
                let name = h.hasPrefix("*.") ? String(h.dropFirst(2)) : h
                let ok = !name.isEmpty && name.utf8.count <= 253 && name.utf8.allSatisfy { b in
                    (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x2E
                }
                guard ok else { throw ConfigError(key: "allowedHosts[\(i)]", message: "'\(h)' must be a host name like logs.example.com or *.example.com (no port)") }
            }
        }
        if let v = root["warnOpenAccess"] {
            guard let b = v as? Bool, isBoolean(v) else { throw ConfigError(key: "warnOpenAccess", message: "must be true or false") }
            c.warnOpenAccess = b
        }
        if let v = root["historyBufferBytes"] { c.limits.streaming.historyBufferBytes = try int(v, "historyBufferBytes", min: 65536) }
        if let v = root["ringBytes"] { c.limits.streaming.ringBytes = try int(v, "ringBytes", min: 65536) }
        if let v = root["catchUpBytes"] { c.limits.streaming.catchUpBytes = try int(v, "catchUpBytes", min: 65536) }
        if let v = root["logLevel"] {
            let level = try string(v, "logLevel")
            guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(level) else {
                throw ConfigError(key: "logLevel", message: "must be one of trace, debug, info, notice, warning, error, critical")
            }
            c.logLevel = level
        }
        if let v = root["timeouts"] {
            guard let obj = v as? [String: Any] else { throw ConfigError(key: "timeouts", message: "must be an object of seconds") }
            for k in obj.keys.sorted() where !timeoutKeys.contains(k) { throw ConfigError(key: "timeouts.\(k)", message: "unknown key") }
            func seconds(_ k: String) throws(ConfigError) -> Double? {
                guard let x = obj[k] else { return nil }
                guard !isBoolean(x), let n = x as? NSNumber, n.doubleValue > 0 else {
                    throw ConfigError(key: "timeouts.\(k)", message: "must be a positive number of seconds")
                }
                return n.doubleValue
            }
            if let s = try seconds("header") { c.limits.http.headerTimeoutSeconds = s }
            if let s = try seconds("keepAlive") { c.limits.http.keepAliveTimeoutSeconds = s }
            if let s = try seconds("close") { c.limits.closeTimeoutSeconds = s }
            if let s = try seconds("ping") { c.limits.webSocket.pingIntervalSeconds = s }
            if let s = try seconds("pong") { c.limits.webSocket.pongTimeoutSeconds = s }
            if let s = try seconds("stalledClient") { c.limits.webSocket.stalledClientSeconds = s }
            if let s = try seconds("engineConnect") { c.limits.engine.connectTimeoutSeconds = s }
            if let s = try seconds("engineRequest") { c.limits.engine.requestTimeoutSeconds = s }
            if let s = try seconds("upstreamLinger") { c.limits.streaming.upstreamLingerSeconds = s }
        }
        if let v = root["auth"] {
            guard let obj = v as? [String: Any] else { throw ConfigError(key: "auth", message: "must be an object") }
            for k in obj.keys.sorted() where k != "tokens" && k != "tokenFile" { throw ConfigError(key: "auth.\(k)", message: "unknown key") }
            if let t = obj["tokens"] {
                c.tokens = try strings(t, "auth.tokens")
                if c.tokens.contains(where: { $0.count < 8 }) { throw ConfigError(key: "auth.tokens", message: "tokens must be at least 8 characters") }
            }
            if let f = obj["tokenFile"], !(f is NSNull) { c.tokenFile = try string(f, "auth.tokenFile") }
        }
        if let v = root["visibility"] {
            guard let obj = v as? [String: Any] else { throw ConfigError(key: "visibility", message: "must be an object") }
            for k in obj.keys.sorted() where k != "labels" && k != "names" { throw ConfigError(key: "visibility.\(k)", message: "unknown key") }
            if let l = obj["labels"] {
                guard let labels = l as? [String: Any] else { throw ConfigError(key: "visibility.labels", message: "must be an object of label: value") }
                var out: [String: String] = [:]
                for (k, x) in labels { out[k] = try string(x, "visibility.labels.\(k)") }
                c.visibilityLabels = out
            }
            if let n = obj["names"] { c.visibilityNames = try strings(n, "visibility.names") }
        }
        return c
    }

    /// Reads `auth.tokenFile` (one token per line; blank lines and `#` comments ignored).
    public mutating func loadTokenFile() throws(ConfigError) {
        guard let path = tokenFile else { return }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(key: "auth.tokenFile", message: "cannot read \(path)")
        }
        for (number, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let t = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if t.isEmpty || t.hasPrefix("#") { continue }
            // The same rule as auth.tokens: a short token is guessable.
            guard t.count >= 8 else { throw ConfigError(key: "auth.tokenFile", message: "line \(number + 1): tokens must be at least 8 characters") }
            tokens.append(t)
        }
    }

    /// `DOCKER_HOST` when no engine is configured; the standard socket otherwise.
    public mutating func applyEnvironment(_ env: [String: String]) throws(ConfigError) {
        if engines.isEmpty {
            let url = env["DOCKER_HOST"].flatMap { $0.isEmpty ? nil : $0 } ?? "unix:///var/run/docker.sock"
            guard DockerEndpoint(url: url) != nil else { throw ConfigError(key: "DOCKER_HOST", message: "'\(url)' is not unix:///path (at most 107 bytes) or tcp://host[:port] (host: IP literal or DNS name)") }
            engines = [Engine(name: "local", url: url)]
        }
    }

    /// JSON true/false (JSONSerialization may bridge them to NSNumber).
    static func isBoolean(_ v: Any) -> Bool {
        if v is Bool && !(v is Int) { return true }
        return String(describing: type(of: v)).contains("Bool")
    }

    private static func string(_ v: Any, _ key: String) throws(ConfigError) -> String {
        guard let s = v as? String else { throw ConfigError(key: key, message: "must be a string") }
        return s
    }

    private static func strings(_ v: Any, _ key: String) throws(ConfigError) -> [String] {
        guard let arr = v as? [Any] else { throw ConfigError(key: key, message: "must be an array of strings") }
        var out: [String] = []
        for (i, x) in arr.enumerated() { out.append(try string(x, "\(key)[\(i)]")) }
        return out
    }

    private static func int(_ v: Any, _ key: String, min: Int) throws(ConfigError) -> Int {
        guard !isBoolean(v), let n = v as? NSNumber, n.doubleValue == n.doubleValue.rounded() else {
            throw ConfigError(key: key, message: "must be a whole number")
        }
        guard n.doubleValue >= Double(min) else { throw ConfigError(key: key, message: "must be at least \(min)") }
        guard n.doubleValue < 1e15 else { throw ConfigError(key: key, message: "is too large") }
        return n.intValue
    }
}
