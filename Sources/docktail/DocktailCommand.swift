import ArgumentParser
import Dispatch
import DocktailCore
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

@main
struct DocktailCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "docktail",
        abstract: "Stream Docker container logs to web browsers over WebSocket.",
        discussion: """
        Precedence: command-line flags > environment (DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH, DOCKER_API_VERSION) > config file > built-in defaults.
        SIGHUP reloads the TLS certificate and key.
        Open http://HOST:PORT/ for the dashboard, /logs/<container> for one container.
        """)

    @Option(name: .long, help: "Configuration file (JSON). Missing default file is fine; a named one must exist.")
    var config: String?

    @Option(name: .long, help: "Address to listen on, HOST:PORT or [V6]:PORT; repeat for several. Port 0 picks a free port.")
    var listen: [String] = []

    @Option(name: .long, help: "Engine as NAME=URL (unix:///path or tcp://host:port); repeat for several. Overrides the file's engines.")
    var engine: [String] = []

    @Option(name: .long, help: "TLS for engine NAME as NAME=DIR, DIR holding ca.pem, cert.pem and key.pem (Docker's layout); the engine's certificate is verified.")
    var engineTls: [String] = []

    @Option(name: .long, help: "docktail's certificate chain (PEM): listeners serve HTTPS and WSS (http://HOST:PORT listeners stay plain).")
    var tlsCert: String?

    @Option(name: .long, help: "The key of --tls-cert (PEM, without a passphrase).")
    var tlsKey: String?

    @Option(name: .customLong("public"), help: "Folder of the web UI.")
    var publicDir: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    @Option(name: .long, help: "Origin allowed to embed docktail or open its WebSockets cross-origin; repeat for several.")
    var allowedOrigin: [String] = []

    @Option(name: .long, help: "Host name docktail answers to besides IP literals, localhost and the listen hosts (DNS-rebinding defence); *.example.com for subdomains; repeat for several.")
    var allowedHost: [String] = []

    @Flag(name: .long, help: "Do not warn when listening beyond loopback without tokens.")
    var noOpenAccessWarning = false

    @Option(name: .long, help: "Access token; repeat for several. When any is set, every route but /healthz needs one.")
    var token: [String] = []

    @Option(name: .long, help: "Number of event-loop queues (0 = one per core).")
    var loops: Int?

    @Option(name: .long, help: "Default number of history lines for a new viewer.")
    var defaultTail: Int?

    @Option(name: .long, help: "Lines kept per watched container for new viewers.")
    var ringLines: Int?

    @Option(name: .long, help: "Most concurrent client connections (0 = unlimited).")
    var maxConnections: Int?

    @Option(name: .long, help: "Most concurrent connections per client address (0 = unlimited).")
    var maxConnectionsPerAddress: Int?

    mutating func run() throws {
        let configuration: Configuration
        let tls: Configuration.TLSMaterial
        do {
            configuration = try buildConfiguration()
            tls = try configuration.makeTLSMaterial()
        } catch {
            FileHandle.standardError.write(Data("docktail: \(error)\n".utf8))
            Foundation.exit(2)
        }
        let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        let logger = Logger(label: "docktail")
        signal(SIGPIPE, SIG_IGN)
        let files = Sockets.raiseFileLimit()
        let app = DocktailServer(configuration: configuration, tls: tls, logger: logger)
        let bound: [SocketAddress]
        do {
            bound = try app.start()
        } catch {
            FileHandle.standardError.write(Data("docktail: cannot listen: \(error)\n".utf8))
            Foundation.exit(1)
        }
        for (address, secure) in zip(bound, app.boundTLS) {
            logger.info("listening", metadata: ["address": "\(address)", "scheme": "\(secure ? "https" : "http")",
                                                "loops": "\(app.group.loops.count)", "maxFiles": "\(files)"])
        }
        if configuration.tokens.isEmpty && configuration.warnOpenAccess,
           let open = bound.first(where: { !$0.isLoopback }) {
            logger.warning("listening on \(open) with no token: anyone who can reach it reads every visible container's logs; set auth.tokens (--token), or silence this with --no-open-access-warning")
        }
        for engine in configuration.engines {
            logger.info("engine configured", metadata: ["engine": "\(engine.name)", "url": "\(engine.url)"])
            if let endpoint = DockerEndpoint(url: engine.url), !endpoint.isLocal, engine.tls == nil {
                logger.warning("engine \(engine.name) at \(engine.url) is plain TCP beyond this machine: whoever reaches that port is root on its host, and logs cross the network in clear text; use TLS (port 2376, --tlsverify, see README: Remote engines)")
            }
            if let t = engine.tls, !t.verify {
                logger.warning("engine \(engine.name): TLS without verifying the engine's certificate (DOCKER_TLS without DOCKER_TLS_VERIFY, or verify: false): anyone on the path can pose as the engine")
            }
        }
        // Graceful shutdown: stop accepting, close 1001 to every WebSocket, exit within 2 s.
        var sources: [DispatchSourceSignal] = []
        // SIGHUP: reload docktail's certificate (ACME renewals) without dropping connections.
        signal(SIGHUP, SIG_IGN)
        let hup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .main)
        hup.setEventHandler { app.reloadTLS() }
        hup.resume()
        sources.append(hup)
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .main)
            source.setEventHandler {
                logger.info("shutting down")
                app.shutdown()
                let deadline = Date().addingTimeInterval(1.5)
                func waitForClients() {
                    if app.server.openConnections == 0 || Date() > deadline { Foundation.exit(0) }
                    DispatchQueue.main.asyncAfter(deadline: .now() + 0.05) { waitForClients() }
                }
                waitForClients()
            }
            source.resume()
            sources.append(source)
        }
        withExtendedLifetime(sources) { dispatchMain() }
    }

    func buildConfiguration() throws -> Configuration {
        var c = Configuration()
        // File: an explicit --config must exist; the default config.json is optional.
        if let path = config {
            c = try Configuration.load(path: path, base: c)
        } else if FileManager.default.fileExists(atPath: "config.json") {
            c = try Configuration.load(path: "config.json", base: c)
        }
        // Flags override the file.
        var overrides: [String: Any] = [:]
        if !listen.isEmpty { overrides["listen"] = listen }
        if !engine.isEmpty {
            var list: [[String: Any]] = []
            for (i, e) in engine.enumerated() {
                let parts = e.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { list.append(["name": String(parts[0]), "url": String(parts[1])]) }
                else { list.append(["name": "engine\(i + 1)", "url": e]) }
            }
            overrides["engines"] = list
        }
        if tlsCert != nil || tlsKey != nil {
            var t: [String: Any] = [:]
            if let c = tlsCert { t["cert"] = c } else if let existing = c.tls { t["cert"] = existing.cert }
            if let k = tlsKey { t["key"] = k } else if let existing = c.tls { t["key"] = existing.key }
            overrides["tls"] = t
        }
        if let p = publicDir { overrides["publicDir"] = p }
        if let l = logLevel { overrides["logLevel"] = l }
        if !allowedOrigin.isEmpty { overrides["allowedOrigins"] = allowedOrigin }
        if !allowedHost.isEmpty { overrides["allowedHosts"] = allowedHost }
        if noOpenAccessWarning { overrides["warnOpenAccess"] = false }
        if let n = loops { overrides["loops"] = n }
        if let n = defaultTail { overrides["defaultTail"] = n }
        if let n = ringLines { overrides["ringLines"] = n }
        if let n = maxConnections { overrides["maxConnections"] = n }
        if let n = maxConnectionsPerAddress { overrides["maxConnectionsPerAddress"] = n }
        if !token.isEmpty { overrides["auth"] = ["tokens": token] }
        c = try Configuration.apply(overrides, to: c)
        try c.applyEngineTLSFlags(engineTls)
        try c.loadTokenFile()
        // Environment: DOCKER_HOST when neither flags nor file name an engine.
        try c.applyEnvironment(ProcessInfo.processInfo.environment)
        return c
    }
}
