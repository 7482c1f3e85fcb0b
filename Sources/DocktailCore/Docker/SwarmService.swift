import Foundation

/// What docktail needs of a Swarm service (`GET /services/{ref}`) and its tasks (`GET /tasks`).
public struct SwarmService: Sendable, Equatable {
    public var id: String
    public var name: String
    /// Desired replicas (nil for a global service).
    public var replicas: Int?
    public var tty: Bool
    /// Service and container labels (visibility rules apply to them).
    public var labels: [String: String]

    public static func parse(_ obj: [String: Any]) -> SwarmService? {
        guard let id = obj["ID"] as? String, let spec = obj["Spec"] as? [String: Any], let name = spec["Name"] as? String else { return nil }
        let mode = spec["Mode"] as? [String: Any] ?? [:]
        let replicated = mode["Replicated"] as? [String: Any]
        let template = spec["TaskTemplate"] as? [String: Any] ?? [:]
        let container = template["ContainerSpec"] as? [String: Any] ?? [:]
        var labels = container["Labels"] as? [String: String] ?? [:]
        for (k, v) in spec["Labels"] as? [String: String] ?? [:] { labels[k] = v }
        return SwarmService(id: id, name: name, replicas: (replicated?["Replicas"] as? NSNumber)?.intValue,
                            tty: container["TTY"] as? Bool ?? false, labels: labels)
    }
}

public struct SwarmTask: Sendable, Equatable {
    public var id: String
    public var serviceID: String
    public var slot: Int?
    public var nodeID: String
    public var state: String
    public var desiredState: String

    public static func parse(_ obj: [String: Any]) -> SwarmTask? {
        guard let id = obj["ID"] as? String else { return nil }
        let status = obj["Status"] as? [String: Any] ?? [:]
        return SwarmTask(id: id, serviceID: obj["ServiceID"] as? String ?? "", slot: (obj["Slot"] as? NSNumber)?.intValue,
                         nodeID: obj["NodeID"] as? String ?? "", state: status["State"] as? String ?? "",
                         desiredState: obj["DesiredState"] as? String ?? "")
    }

    /// Running now, or on its way (what a replica count counts).
    public var isUp: Bool { desiredState == "running" && ["running", "starting", "preparing", "assigned", "accepted", "ready", "pending", "new"].contains(state) }
}

extension DockerClient {
    /// `GET /services/{ref}`: nil when the engine has no such service or is not a Swarm manager.
    public func service(_ ref: String, on loop: EventLoop, completion: @escaping (Result<SwarmService?, DockerError>) -> Void) {
        guard Self.isValidReference(ref) else { completion(.success(nil)); return }
        api("/services/\(ref)", on: loop) { result in
            switch result {
            case .failure(let e): completion(.failure(e))
            case .success(let (status, body)):
                guard status == 200, let obj = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
                    completion(.success(nil))
                    return
                }
                completion(.success(SwarmService.parse(obj)))
            }
        }
    }

    /// `GET /services`: empty when the engine is not a Swarm manager (it answers 503).
    public func services(on loop: EventLoop, completion: @escaping (Result<[SwarmService], DockerError>) -> Void) {
        api("/services", on: loop) { result in
            switch result {
            case .failure(let e): completion(.failure(e))
            case .success(let (status, body)):
                guard status == 200, let arr = (try? JSONSerialization.jsonObject(with: Data(body))) as? [[String: Any]] else {
                    completion(.success([]))
                    return
                }
                completion(.success(arr.compactMap(SwarmService.parse)))
            }
        }
    }

    /// `GET /tasks`, of one service or of all.
    public func tasks(serviceID: String?, on loop: EventLoop, completion: @escaping (Result<[SwarmTask], DockerError>) -> Void) {
        var path = "/tasks"
        if let serviceID {
            let filters = "{\"service\":[\"\(serviceID)\"]}".addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            path += "?filters=\(filters)"
        }
        api(path, on: loop) { result in
            switch result {
            case .failure(let e): completion(.failure(e))
            case .success(let (status, body)):
                guard status == 200, let arr = (try? JSONSerialization.jsonObject(with: Data(body))) as? [[String: Any]] else {
                    completion(.success([]))
                    return
                }
                completion(.success(arr.compactMap(SwarmTask.parse)))
            }
        }
    }
}
