import Foundation

/// docktail's configuration: built-in defaults, then `config.json`, then the environment, then
/// command-line flags. Every key is documented in the README.
public struct Configuration: Sendable, Equatable {
    public struct Engine: Sendable, Equatable {
        public var name: String
        public var url: String
        /// TLS to the engine (Docker's `--tlsverify` setup); nil: plain.
        public var tls: EngineTLS?
        /// A fixed API version (no negotiation).
        public var apiVersion: String?
        /// Where the entry came from, for messages (`engines[0]`, `DOCKER_HOST`).
        public var origin: String
        public init(name: String, url: String, tls: EngineTLS? = nil, apiVersion: String? = nil, origin: String = "engines") {
            self.name = name
            self.url = url
            self.tls = tls
            self.apiVersion = apiVersion
            self.origin = origin
        }
    }

    /// `"tls": {"ca", "cert", "key", "verify"}` of an engine entry.
    public struct EngineTLS: Sendable, Equatable {
        public var ca: String?
        public var cert: String?
        public var key: String?
        public var verify = true
        public init(ca: String? = nil, cert: String? = nil, key: String? = nil, verify: Bool = true) {
            self.ca = ca
            self.cert = cert
            self.key = key
            self.verify = verify
        }

        /// Docker's layout: `DIR/ca.pem`, `DIR/cert.pem`, `DIR/key.pem`.
        public init(directory: String, verify: Bool = true) {
            let d = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
            self.init(ca: "\(d)/ca.pem", cert: "\(d)/cert.pem", key: "\(d)/key.pem", verify: verify)
        }
    }

    /// docktail's own certificate (`"tls": {"cert", "key"}` at the top).
    public struct ServerTLS: Sendable, Equatable {
        public var cert: String
        public var key: String
        public init(cert: String, key: String) { self.cert = cert; self.key = key }
    }

    /// One `listen` entry: `HOST:PORT` (HTTPS when `tls` is set), `http://HOST:PORT` (always
    /// plain) or `https://HOST:PORT` (always TLS).
    public struct ListenSpec: Sendable, Equatable {
        public enum Scheme: Sendable, Equatable { case auto, http, https }
        public var scheme: Scheme
        public var address: SocketAddress
        /// The `HOST:PORT` part as written.
        public var hostPort: String

        public static func parse(_ text: String) -> ListenSpec? {
            var scheme = Scheme.auto
            var rest = Substring(text)
            if text.hasPrefix("http://") { scheme = .http; rest = rest.dropFirst(7) }
            else if text.hasPrefix("https://") { scheme = .https; rest = rest.dropFirst(8) }
            if rest.hasSuffix("/") { rest = rest.dropLast() }
            guard let address = SocketAddress.parse(String(rest)), address.port != nil else { return nil }
            return ListenSpec(scheme: scheme, address: address, hostPort: String(rest))
        }

        public func isTLS(serverTLS: ServerTLS?) -> Bool {
            switch scheme {
            case .http: return false
            case .https: return true
            case .auto: return serverTLS != nil
            }
        }
    }

    public var listen: [String] = ["0.0.0.0:8080"]
    /// docktail's certificate and key: listeners serve HTTPS and WSS (see `ListenSpec`).
    public var tls: ServerTLS?
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
        public init(key: String, message: String) {
            self.key = key
            self.message = message
        }
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
        "allowedOrigins", "allowedHosts", "warnOpenAccess", "historyBufferBytes", "ringBytes", "catchUpBytes", "auth", "visibility", "logLevel", "loops", "tls", "$comment"]
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
                guard ListenSpec.parse(a) != nil else {
                    throw ConfigError(key: "listen[\(i)]", message: "'\(a)' is not [http://|https://]HOST:PORT with a port from 0 to 65535")
                }
            }
            c.listen = list
        }
        if let v = root["tls"] {
            if v is NSNull {
                c.tls = nil
            } else {
                guard let obj = v as? [String: Any] else { throw ConfigError(key: "tls", message: "must be an object {\"cert\", \"key\"}") }
                for k in obj.keys.sorted() where k != "cert" && k != "key" { throw ConfigError(key: "tls.\(k)", message: "unknown key") }
                guard let cert = obj["cert"] else { throw ConfigError(key: "tls.cert", message: "is required (a PEM certificate chain file)") }
                guard let key = obj["key"] else { throw ConfigError(key: "tls.key", message: "is required (a PEM private key file)") }
                c.tls = ServerTLS(cert: try string(cert, "tls.cert"), key: try string(key, "tls.key"))
            }
        }
        if let v = root["engines"] {
            guard let arr = v as? [Any] else { throw ConfigError(key: "engines", message: "must be an array of {\"name\",\"url\"}") }
            var engines: [Engine] = []
            for (i, item) in arr.enumerated() {
                guard let obj = item as? [String: Any] else { throw ConfigError(key: "engines[\(i)]", message: "must be an object") }
                for k in obj.keys.sorted() where !["name", "url", "tls", "apiVersion"].contains(k) {
                    throw ConfigError(key: "engines[\(i)].\(k)", message: "unknown key")
                }
                guard let url = obj["url"] as? String else { throw ConfigError(key: "engines[\(i)].url", message: "must be a string") }
                guard let endpoint = DockerEndpoint(url: url) else {
                    throw ConfigError(key: "engines[\(i)].url", message: "'\(url)' is not unix:///path (at most 107 bytes) or tcp://host[:port] (also http:// or https://; host: IP literal or DNS name)")
                }
                var tls: EngineTLS?
                if let t = obj["tls"], !(t is NSNull) {
                    tls = try engineTLS(t, key: "engines[\(i)].tls")
                    guard endpoint.hostName != nil else { throw ConfigError(key: "engines[\(i)].tls", message: "needs a tcp:// engine (a unix socket has no TLS)") }
                }
                var apiVersion: String?
                if let a = obj["apiVersion"], !(a is NSNull) {
                    apiVersion = try string(a, "engines[\(i)].apiVersion")
                    guard Self.isAPIVersion(apiVersion!) else { throw ConfigError(key: "engines[\(i)].apiVersion", message: "must look like 1.41") }
                }
                var name = "engine\(i + 1)"
                if let n = obj["name"] { name = try string(n, "engines[\(i)].name") }
                guard !name.isEmpty, !engines.contains(where: { $0.name == name }) else {
                    throw ConfigError(key: "engines[\(i)].name", message: "must be unique and not empty")
                }
                engines.append(Engine(name: name, url: url, tls: tls, apiVersion: apiVersion, origin: "engines[\(i)]"))
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

    /// When no engine is configured, the Docker CLI's environment: `DOCKER_HOST` (default the
    /// standard socket); `DOCKER_TLS_VERIFY` (non-empty: TLS, engine certificate verified) or
    /// `DOCKER_TLS` (non-empty: TLS, not verified); `DOCKER_CERT_PATH` (default `~/.docker`)
    /// holding `ca.pem`, `cert.pem`, `key.pem`, each used when present, as the CLI does; and
    /// `DOCKER_API_VERSION` (a fixed version instead of negotiating).
    public mutating func applyEnvironment(_ env: [String: String]) throws(ConfigError) {
        guard engines.isEmpty else { return }
        func value(_ k: String) -> String? { env[k].flatMap { $0.isEmpty ? nil : $0 } }
        let url = value("DOCKER_HOST") ?? "unix:///var/run/docker.sock"
        guard let endpoint = DockerEndpoint(url: url) else {
            throw ConfigError(key: "DOCKER_HOST", message: "'\(url)' is not unix:///path (at most 107 bytes) or tcp://host[:port] (also http:// or https://; host: IP literal or DNS name)")
        }
        var engine = Engine(name: "local", url: url, origin: "DOCKER_HOST")
        let verify = value("DOCKER_TLS_VERIFY") != nil
        if (verify || value("DOCKER_TLS") != nil) && endpoint.hostName != nil {
            let home = value("HOME") ?? NSHomeDirectory()
            let dir = value("DOCKER_CERT_PATH") ?? "\(home)/.docker"
            let files = EngineTLS(directory: dir, verify: verify)
            func existing(_ p: String?) -> String? { p.flatMap { FileManager.default.fileExists(atPath: $0) ? $0 : nil } }
            var tls = EngineTLS(ca: existing(files.ca), cert: existing(files.cert), key: existing(files.key), verify: verify)
            if tls.cert == nil || tls.key == nil { tls.cert = nil; tls.key = nil }
            if verify && tls.ca == nil {
                throw ConfigError(key: "DOCKER_CERT_PATH", message: "DOCKER_TLS_VERIFY is set but \(dir)/ca.pem cannot be read")
            }
            engine.tls = tls
            engine.origin = "DOCKER_CERT_PATH"
        }
        if let v = value("DOCKER_API_VERSION") {
            guard Self.isAPIVersion(v) else { throw ConfigError(key: "DOCKER_API_VERSION", message: "'\(v)' must look like 1.41") }
            engine.apiVersion = v
        }
        engines = [engine]
    }

    /// `--engine-tls NAME=DIR`, each.
    public mutating func applyEngineTLSFlags(_ specs: [String]) throws(ConfigError) {
        for spec in specs {
            let parts = spec.split(separator: "=", maxSplits: 1)
            guard parts.count == 2 else { throw ConfigError(key: "--engine-tls", message: "'\(spec)' is not NAME=DIR") }
            try setEngineTLS(name: String(parts[0]), directory: String(parts[1]))
        }
    }

    /// Gives engine `name` Docker's certificate folder layout (`--engine-tls NAME=DIR`).
    public mutating func setEngineTLS(name: String, directory: String) throws(ConfigError) {
        guard let i = engines.firstIndex(where: { $0.name == name }) else {
            throw ConfigError(key: "--engine-tls", message: "'\(name)' names no engine (give it with --engine \(name)=tcp://HOST:2376 or in config.json)")
        }
        guard DockerEndpoint(url: engines[i].url)?.hostName != nil else {
            throw ConfigError(key: "--engine-tls", message: "'\(name)' is not a tcp:// engine")
        }
        engines[i].tls = EngineTLS(directory: directory)
        engines[i].origin = "--engine-tls \(name)"
    }

    static func isAPIVersion(_ v: String) -> Bool {
        let parts = v.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }
    }

    private static func engineTLS(_ v: Any, key: String) throws(ConfigError) -> EngineTLS {
        guard let obj = v as? [String: Any] else { throw ConfigError(key: key, message: "must be an object {\"ca\", \"cert\", \"key\", \"verify\"}") }
        for k in obj.keys.sorted() where !["ca", "cert", "key", "verify"].contains(k) { throw ConfigError(key: "\(key).\(k)", message: "unknown key") }
        var t = EngineTLS()
        if let x = obj["ca"], !(x is NSNull) { t.ca = try string(x, "\(key).ca") }
        if let x = obj["cert"], !(x is NSNull) { t.cert = try string(x, "\(key).cert") }
        if let x = obj["key"], !(x is NSNull) { t.key = try string(x, "\(key).key") }
        if let x = obj["verify"] {
            guard let b = x as? Bool, isBoolean(x) else { throw ConfigError(key: "\(key).verify", message: "must be true or false") }
            t.verify = b
        }
        if (t.cert == nil) != (t.key == nil) {
            throw ConfigError(key: "\(key).\(t.cert == nil ? "cert" : "key")", message: "a client certificate and its key go together")
        }
        return t
    }

    // MARK: TLS material

    /// The OpenSSL contexts the configuration asks for, made (and so checked) before anything
    /// listens: a missing file, a key with a passphrase or a key that does not match its
    /// certificate is a configuration error naming its key.
    public struct TLSMaterial: Sendable {
        public var engines: [String: TLSContext] = [:]
        public var server: TLSServerIdentity?
        public init() {}
    }

    public func makeTLSMaterial() throws -> TLSMaterial {
        var material = TLSMaterial()
        for engine in engines {
            guard let t = engine.tls else { continue }
            do {
                material.engines[engine.name] = try TLSContext.client(ca: t.ca, certificate: t.cert, key: t.key, verify: t.verify)
            } catch {
                let base = engine.origin.hasPrefix("engines[") ? "\(engine.origin).tls" : engine.origin
                throw ConfigError(key: error.field.map { base.hasPrefix("engines[") ? "\(base).\($0)" : base } ?? base, message: error.message)
            }
        }
        let specs = listen.compactMap(ListenSpec.parse)
        if let t = tls {
            do {
                material.server = try TLSServerIdentity(certificatePath: t.cert, keyPath: t.key)
            } catch {
                throw ConfigError(key: "tls.\(error.field ?? "cert")", message: error.message)
            }
        } else if let i = specs.firstIndex(where: { $0.scheme == .https }) {
            throw ConfigError(key: "listen[\(i)]", message: "https:// needs docktail's certificate: set tls.cert and tls.key (--tls-cert, --tls-key)")
        }
        return material
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
