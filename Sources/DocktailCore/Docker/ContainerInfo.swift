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
            labels: config["Labels"] as? [String: String] ?? [:])
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
            labels: obj["Labels"] as? [String: String] ?? [:])
    }
}
