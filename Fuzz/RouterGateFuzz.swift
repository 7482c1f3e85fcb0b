// libFuzzer target `router-gate`: an arbitrary request target goes through the router and the
// access gate exactly as a connection does. Invariants: nothing traps; the gate and the router
// agree, i.e. every spelling of a path gets the decision of its canonical form (the decoded
// segments re-joined with one slash each), reaches the same route with the same parameters, and a
// protected route is never reached without the token.

/// The server's RequestContext is not needed here: the handlers never run.
public final class RequestContext {}

nonisolated(unsafe) private var fuzzRouter: Router = {
    let r = Router()
    for route in AccessPolicy.allRoutes { r.get(route) { _ in } }
    r.fallback = { _ in }
    return r
}()

private let fuzzPolicy = AccessPolicy(access: AccessControl(tokens: ["fuzz-token-123"], labels: [:], namePatterns: []),
                                      hosts: HostAllowlist(names: ["logs.example.com"]))

private struct Decision: Equatable {
    var status: Int?
    var found: Bool
    var access: RouteAccess
    var webSocket: Bool
    var parameters: [String: String]
}

private func decide(_ target: String, host: String, method: String) -> Decision? {
    var headers = HTTPHeaders()
    headers.add("Host", host)
    let request = HTTPRequest(method: method, target: target, headers: headers)
    guard let resolution = fuzzRouter.resolve(method: method, rawPath: request.rawPath) else { return nil }
    var params: [String: String] = [:]
    if case .found(_, let p) = resolution.match { params = p }
    let status = fuzzPolicy.decide(request, resolution: resolution)?.status
    if resolution.access == .protected {
        precondition(status != nil || request.query["token"] == "fuzz-token-123", "protected route reached without a token: \(target)")
    }
    return Decision(status: status, found: resolution.isFound, access: resolution.access,
                    webSocket: resolution.acceptsWebSocket, parameters: params)
}

func fuzzRouterGate(_ bytes: [UInt8]) {
    guard let first = bytes.first else { return }
    // The first byte picks the Host and the method; the rest is the request target.
    let hosts = ["127.0.0.1:8080", "localhost", "[::1]:1", "logs.example.com", "evil.example", "evil.example:8080"]
    let host = hosts[Int(first) % hosts.count]
    let method = first & 0x80 == 0 ? "GET" : "HEAD"
    let rest = Array(bytes.dropFirst())
    guard rest.allSatisfy({ $0 > 0x20 && $0 != 0x7F }) else { return } // what the request parser lets through
    let target = String(decoding: rest, as: UTF8.self)
    guard let decision = decide(target, host: host, method: method) else { return }
    let request = HTTPRequest(method: method, target: target)
    guard let segments = Router.decodeSegments(request.rawPath) else { return }
    // The canonical spelling of the same path (query kept).
    let canonical = "/" + segments.map { $0.addingPercentEscapesForPath() }.joined(separator: "/")
        + (request.rawQuery.isEmpty && !target.contains("?") ? "" : "?" + request.rawQuery)
    guard let again = decide(canonical, host: host, method: method) else {
        preconditionFailure("canonical form \(canonical) of \(target) does not resolve")
    }
    precondition(decision == again, "\(target) and its canonical form \(canonical) differ: \(decision) vs \(again)")
}
