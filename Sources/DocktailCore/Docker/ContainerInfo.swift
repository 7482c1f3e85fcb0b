import Foundation

/// What docktail needs to know about a container (from inspect or list).
public struct ContainerInfo: Sendable, Equatable {
    public var id: String
    public var name: String
    public var image: String
    public var tty: Bool
    public var state: String
    public var status: String
    public var running: Bool
    /// The engine is between two runs of a restart policy (it reports `Running` too then).
    public var restarting = false
    public var exitCode: Int
    public var created: Int64
    public var startedAt: String
    /// When the last run ended (the previous run's end while a new one runs).
    public var finishedAt = ""
    public var labels: [String: String]
    /// Published ports (the web-lab use: open the app a container serves next to its logs).
    public var ports: [PublishedPort] = []

    public struct PublishedPort: Sendable, Equatable {
        public var privatePort: Int
        public var publicPort: Int?
        public var type: String
        public var ip: String?
    }

    /// Inspect's live `NetworkSettings.Ports`, else the requested `HostConfig.PortBindings`.
    static func inspectedPorts(_ obj: [String: Any]) -> [PublishedPort] {
        let network = obj["NetworkSettings"] as? [String: Any] ?? [:]
        if let live = network["Ports"] as? [String: Any], !live.isEmpty { return ports(fromBindings: live) }
        let host = obj["HostConfig"] as? [String: Any] ?? [:]
        return ports(fromBindings: host["PortBindings"] as? [String: Any] ?? [:])
    }

    /// `[{"IP", "PrivatePort", "PublicPort", "Type"}]` of `GET /containers/json`.
    static func listedPorts(_ list: [[String: Any]]) -> [PublishedPort] {
        var out: [PublishedPort] = []
        for p in list {
            guard let priv = (p["PrivatePort"] as? NSNumber)?.intValue, (1...65535).contains(priv) else { continue }
            var pub: Int?
            if let n = (p["PublicPort"] as? NSNumber)?.intValue, (1...65535).contains(n) { pub = n }
            let ip = (p["IP"] as? String).flatMap { $0.isEmpty ? nil : $0 }
            out.append(PublishedPort(privatePort: priv, publicPort: pub, type: p["Type"] as? String ?? "tcp", ip: ip))
        }
        return sortedPorts(out)
    }

    static func sortedPorts(_ ports: [PublishedPort]) -> [PublishedPort] {
        ports.sorted { a, b in
            if a.privatePort != b.privatePort { return a.privatePort < b.privatePort }
            if (a.publicPort ?? 0) != (b.publicPort ?? 0) { return (a.publicPort ?? 0) < (b.publicPort ?? 0) }
            return (a.ip ?? "") < (b.ip ?? "")
        }
    }

    /// `{"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}` (inspect's `NetworkSettings.Ports`
    /// or `HostConfig.PortBindings`); a port with no binding is exposed only.
    static func ports(fromBindings map: [String: Any]) -> [PublishedPort] {
        var out: [PublishedPort] = []
        for (key, value) in map {
            let parts = key.split(separator: "/")
            guard let first = parts.first, let port = Int(first), (1...65535).contains(port) else { continue }
            let type = parts.count > 1 ? String(parts[1]) : "tcp"
            let bindings = value as? [[String: Any]] ?? []
            if bindings.isEmpty { out.append(PublishedPort(privatePort: port, publicPort: nil, type: type, ip: nil)) }
            for b in bindings {
                let hostPort = (b["HostPort"] as? String).flatMap { Int($0) }.flatMap { (1...65535).contains($0) ? $0 : nil }
                let ip = (b["HostIp"] as? String).flatMap { $0.isEmpty ? nil : $0 }
                out.append(PublishedPort(privatePort: port, publicPort: hostPort, type: type, ip: ip))
            }
        }
        return sortedPorts(out)
    }

    /// From `GET /containers/{ref}/json`.
    public static func fromInspect(_ body: [UInt8]) -> ContainerInfo? {
        guard let obj = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else { return nil }
        let config = obj["Config"] as? [String: Any] ?? [:]
        let state = obj["State"] as? [String: Any] ?? [:]
        var name = obj["Name"] as? String ?? ""
        if name.hasPrefix("/") { name.removeFirst() }
        let createdText = obj["Created"] as? String ?? ""
        return ContainerInfo(
            id: obj["Id"] as? String ?? "",
            name: name,
            image: config["Image"] as? String ?? "",
            tty: config["Tty"] as? Bool ?? false,
            state: state["Status"] as? String ?? "unknown",
            status: state["Status"] as? String ?? "",
            running: state["Running"] as? Bool ?? false,
            restarting: state["Restarting"] as? Bool ?? false,
            exitCode: (state["ExitCode"] as? NSNumber)?.intValue ?? 0,
            created: (DockerTimestamp.parse(createdText) ?? 0) / 1_000_000_000,
            startedAt: state["StartedAt"] as? String ?? "",
            finishedAt: state["FinishedAt"] as? String ?? "",
            labels: config["Labels"] as? [String: String] ?? [:],
            ports: inspectedPorts(obj))
    }

    /// From `GET /containers/json` (one array element). TTY is not listed there.
    public static func fromList(_ obj: [String: Any]) -> ContainerInfo {
        var name = (obj["Names"] as? [String])?.first ?? ""
        if name.hasPrefix("/") { name.removeFirst() }
        let state = obj["State"] as? String ?? ""
        return ContainerInfo(
            id: obj["Id"] as? String ?? "",
            name: name,
            image: obj["Image"] as? String ?? "",
            tty: false,
            state: state,
            status: obj["Status"] as? String ?? "",
            running: state == "running",
            restarting: state == "restarting",
            exitCode: 0,
            created: (obj["Created"] as? NSNumber)?.int64Value ?? 0,
            startedAt: "",
            labels: obj["Labels"] as? [String: String] ?? [:],
            ports: listedPorts(obj["Ports"] as? [[String: Any]] ?? []))
    }
}
