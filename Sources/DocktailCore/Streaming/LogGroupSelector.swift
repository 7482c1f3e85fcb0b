/// Which containers a group view merges: `/groups/{kind}/{name}`.
///
/// - `project`: label `com.docker.compose.project` = name (a Compose project)
/// - `stack`: label `com.docker.stack.namespace` = name (a Swarm stack)
/// - `label`: name is `KEY=VALUE`, containers with that label value
/// - `host`: every container of the engine called name
/// - `service`: a Swarm service (its tasks' lines come through the manager; see `LogServiceSubscription`)
public struct LogGroupSelector: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable { case project, stack, label, host, service }

    public let kind: Kind
    public let name: String
    /// The label a `project`, `stack` or `label` group is defined by.
    public let labelKey: String?
    public let labelValue: String?

    public static let composeProjectLabel = "com.docker.compose.project"
    public static let stackNamespaceLabel = "com.docker.stack.namespace"

    /// Nil for an unknown kind or a malformed name (the caller answers 400 naming it).
    public init?(kind: String, name: String) {
        guard let k = Kind(rawValue: kind), !name.isEmpty, name.utf8.count <= 1024,
              !name.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return nil }
        self.kind = k
        self.name = name
        switch k {
        case .project: labelKey = Self.composeProjectLabel; labelValue = name
        case .stack: labelKey = Self.stackNamespaceLabel; labelValue = name
        case .label:
            guard let eq = name.firstIndex(of: "="), eq != name.startIndex else { return nil }
            labelKey = String(name[..<eq])
            labelValue = String(name[name.index(after: eq)...])
        case .host, .service: labelKey = nil; labelValue = nil
        }
    }

    /// Whether a container (on engine `host`, with `labels`) is a member.
    public func matches(host: String, labels: [String: String]) -> Bool {
        switch kind {
        case .host: return host == name
        case .service: return false
        case .project, .stack, .label:
            guard let key = labelKey, let value = labelValue else { return false }
            return labels[key] == value
        }
    }

    /// Engines to look at (`host` groups: one).
    public func engines(_ all: [String]) -> [String] {
        kind == .host ? all.filter { $0 == name } : all
    }
}

extension LogGroupSelector {
    /// The group's members now: every container (all states) of the engines it spans that it
    /// matches and `isVisible` lets through, sorted by engine then name; and, per engine that
    /// could not be listed, its error. `completion` runs once, on `loop`.
    func listMembers(clients: [DockerClient], isVisible: @escaping @Sendable (String, [String: String]) -> Bool, on loop: EventLoop,
                     completion: @escaping ([(DockerClient, ContainerInfo)], [(DockerClient, DockerError)]) -> Void) {
        let names = engines(clients.map(\.name))
        let spanned = clients.filter { names.contains($0.name) }
        var remaining = spanned.count
        var found: [(DockerClient, ContainerInfo)] = []
        var failures: [(DockerClient, DockerError)] = []
        guard remaining > 0 else { completion([], []); return }
        for client in spanned {
            client.listContainers(all: true, on: loop) { result in
                switch result {
                case .success(let list):
                    for info in list where matches(host: client.name, labels: info.labels) && isVisible(info.name, info.labels) {
                        found.append((client, info))
                    }
                case .failure(let e):
                    failures.append((client, e))
                }
                remaining -= 1
                if remaining == 0 {
                    found.sort { ($0.0.name, $0.1.name) < ($1.0.name, $1.1.name) }
                    completion(found, failures)
                }
            }
        }
    }
}
